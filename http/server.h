/* server: the libmicrohttpd daemon — listening, reading requests within
 * limits, per-thread workers, and handing each request to the routes. */
#ifndef ONEMAP_SERVER_H
#define ONEMAP_SERVER_H

#include "req.h"

/* Runs until SIGINT or SIGTERM. listen is "ADDR:PORT" (default
 * 127.0.0.1:8080). Returns a process exit code. */
int server_run(struct app *app, const char *listen);

#endif
