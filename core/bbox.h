/* bbox: an axis-aligned box, a plain value shared by the core's modules and
 * the server (it names no third-party type). */
#ifndef ONEMAP_BBOX_H
#define ONEMAP_BBOX_H

struct bbox {
    double minx, miny, maxx, maxy;
};

#endif
