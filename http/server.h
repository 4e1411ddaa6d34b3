/* server: the libmicrohttpd daemon — listening, reading requests within
 * limits, per-thread workers, and handing each request to the routes. */
#ifndef ONEMAP_SERVER_H
#define ONEMAP_SERVER_H

#include "req.h"

/* Answers one request whose method, path, query parameters, headers and
 * body are in r (r->app set): URL limit, format, private reads, routing, the
 * HTML page and the error body. No network: the daemon calls it, and so can
 * tests/fuzz. e may carry an error found while reading the request (it is
 * answered as is). Fills s (the caller clears it with res_clear). Uses the
 * calling thread's worker (opened on first use). */
void server_respond(struct req *r, struct res *s, struct err *e);

/* Runs until SIGINT or SIGTERM, then stops taking connections, lets the
 * requests in flight finish and returns. listen is "ADDR:PORT" (default
 * 127.0.0.1:8080). Returns a process exit code. */
int server_run(struct app *app, const char *listen);

#endif
