/* jsontext: checks on JSON text before a parser sees it, for callers on
 * either side of core. */
#ifndef ONEMAP_JSONTEXT_H
#define ONEMAP_JSONTEXT_H

#include <stddef.h>

#include "err.h"

/* Checks JSON nesting depth of a text before parsing it (jansson's own limit
 * is far higher than onemap's). ERR_BAD_REQUEST naming the limit. */
int json_depth_check(const char *text, size_t len, size_t max_depth, struct err *e);

#endif
