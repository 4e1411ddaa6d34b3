/* html: the plain HTML view of any JSON response (f=html), so that every
 * resource can be browsed; the map viewer lives in static/. */
#ifndef ONEMAP_HTML_H
#define ONEMAP_HTML_H

#include "buf.h"

/* Renders the JSON document json as an HTML page titled title into out.
 * Returns -1 when json does not parse. */
int html_from_json(const char *json, size_t len, const char *title, struct buf *out);

#endif
