/* ogc: what the OGC API discovery resources (ogc.c) share with the other
 * resource files — finding the collection a route names, and a field's JSON
 * Schema (also in the OpenAPI document). The handlers are in routes.h. */
#ifndef ONEMAP_OGC_H
#define ONEMAP_OGC_H

#include "buf.h"
#include "err.h"
#include "layer.h"
#include "req.h"

/* The layer named by the route's first capture, borrowed from the app's
 * registry; NULL with ERR_NOT_FOUND in e when there is none. */
const struct layer *route_layer(struct req *r, struct err *e);

/* Appends the JSON Schema of one field to b. */
void field_schema(struct buf *b, const struct field *f);

#endif
