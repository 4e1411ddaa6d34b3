/* problem: the one mapping from err codes to HTTP statuses and JSON error
 * bodies ({"code": ..., "description": ...}). */
#ifndef ONEMAP_PROBLEM_H
#define ONEMAP_PROBLEM_H

#include "err.h"
#include "req.h"

int problem_status(int code);
/* Replaces the response with the error's status and JSON body (with the
 * handler's s->problem_members, when it gave any). */
void problem_respond(struct res *s, const struct err *e);

#endif
