/* geom_box: a plain box value (minx, miny, maxx, maxy), shared by modules
 * that tell each other which area changed without naming GEOS. */
#ifndef ONEMAP_GEOM_BOX_H
#define ONEMAP_GEOM_BOX_H

struct bbox {
    double minx, miny, maxx, maxy;
};

#endif
