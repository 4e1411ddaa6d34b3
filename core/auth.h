/* auth: write tokens — creation (random secret shown once, only its hash
 * stored), verification of "Authorization: Bearer" values in constant time,
 * roles and grid scopes. */
#ifndef ONEMAP_AUTH_H
#define ONEMAP_AUTH_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "store.h"

enum role { ROLE_NONE = 0, ROLE_READER, ROLE_EDITOR, ROLE_ADMIN };

struct principal {
    char name[128];
    enum role role;
    char grids[1024];     /* comma-separated grid codes; empty: not scoped */
};

#define AUTH_TOKEN_MAX 128

int auth_role_parse(const char *s, enum role *r);
const char *auth_role_name(enum role r);

/* Creates a token; writes the secret token text (to show once) into
 * token[AUTH_TOKEN_MAX]. grids is a comma-separated list or NULL. */
int auth_token_create(store *s, const char *name, enum role role, const char *grids,
                      char *token, struct err *e);

/* Appends a table of every token, one line each: name, role, grids (- for
 * none), created, and "revoked AT" for a revoked one. */
int auth_token_list(store *s, struct buf *out, struct err *e);

/* Checks an Authorization header value. NULL or malformed or unknown ->
 * ERR_UNAUTHORIZED naming what is wrong. */
int auth_check(store *s, const char *authorization, struct principal *p, struct err *e);

#endif
