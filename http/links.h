/* links: writing OGC "links" members and URL-encoded query strings. */
#ifndef ONEMAP_LINKS_H
#define ONEMAP_LINKS_H

#include "buf.h"
#include "req.h"

/* Appends {"href": base+path, "rel", "type", "title"} (title may be NULL);
 * a comma first unless *first, which it clears. */
void link_put(struct buf *b, int *first, const struct req *r, const char *path, const char *rel,
              const char *type, const char *title);
/* Appends s percent-encoded for a query string. */
void url_encode(struct buf *b, const char *s);
/* Appends "?k=v&..." of the request's parameters, with `replace_key` set to
 * replace_val (added when absent; left out when replace_val is NULL). */
void query_with(struct buf *b, const struct req *r, const char *replace_key,
                const char *replace_val, const char *f);

#endif
