/* limit: the size limits an incoming feature or file is held to (vertices,
 * features, JSON nesting). A plain value in the caller's storage. */
#ifndef ONEMAP_LIMIT_H
#define ONEMAP_LIMIT_H

#include <stddef.h>

struct limits {
    size_t max_vertices;      /* per geometry */
    size_t max_features;      /* per request or file */
    size_t max_depth;         /* JSON nesting */
};

/* Fills lim with onemap's defaults. */
void limits_default(struct limits *lim);

#endif
