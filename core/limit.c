/* limit: the default size limits of incoming features and files. */
#include "limit.h"

void limits_default(struct limits *lim)
{
    lim->max_vertices = 200000;
    lim->max_features = 1000000;
    lim->max_depth = 64;
}
