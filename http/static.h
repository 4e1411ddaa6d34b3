/* static: the browser viewer's files under /static/ (nested paths, strict
 * names), the viewer page at "/", and the security headers of HTML pages. */
#ifndef ONEMAP_STATIC_H
#define ONEMAP_STATIC_H

#include <stddef.h>

#include "req.h"

/* Writes the CSP source of a basemap URL template ("scheme://host[:port]",
 * with a templated leftmost host label such as t{0-7} as "*") into out.
 * Returns 0, or -1 when url is not an http(s) URL with a plain host. */
int static_basemap_origin(const char *url, char *out, size_t n);

/* 1 when the viewer's bundle (static/dist/app.js and app.css) is there. */
int static_viewer_built(void);

/* One line for the log saying that it is not, and how to build it. */
const char *static_viewer_hint(void);

/* Answers with the viewer page (static/index.html, the configured basemaps
 * filled in); a page saying how to build the viewer when its bundle is
 * missing. */
int static_send_viewer(struct req *r, struct res *s, struct err *e);

/* Adds Content-Security-Policy (only 'self' plus the basemap hosts) and
 * Referrer-Policy to an HTML response. */
void static_put_html_headers(const struct app *app, struct res *s);

#endif
