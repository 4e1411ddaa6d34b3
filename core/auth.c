/* auth: token secrets are 32 random bytes from libsodium; the database keeps
 * a public id and the BLAKE2b hash of the secret, never the secret. */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ID_BYTES 8
#define SECRET_BYTES 32
#define PREFIX "om_"

int auth_role_parse(const char *s, enum role *r)
{
    if (s && !strcmp(s, "reader"))
        *r = ROLE_READER;
    else if (s && !strcmp(s, "editor"))
        *r = ROLE_EDITOR;
    else if (s && !strcmp(s, "admin"))
        *r = ROLE_ADMIN;
    else
        return -1;
    return 0;
}

const char *auth_role_name(enum role r)
{
    switch (r) {
    case ROLE_READER: return "reader";
    case ROLE_EDITOR: return "editor";
    case ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

static int init_sodium(struct err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_INTERNAL, "libsodium could not be initialised");
    return 0;
}

int auth_token_create(store *s, const char *name, enum role role, const char *grids,
                      char *token, struct err *e)
{
    unsigned char id[ID_BYTES], secret[SECRET_BYTES], hash[32];
    char id_hex[2 * ID_BYTES + 1], secret_b64[64];
    int rc;
    if ((rc = init_sodium(e)))
        return rc;
    if (!name || !*name || strlen(name) > 100 || strpbrk(name, " \t\r\n,"))
        return err_set(e, ERR_PARAM, "token name: 1 to 100 characters without spaces or commas");
    randombytes_buf(id, sizeof id);
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(id_hex, sizeof id_hex, id, sizeof id);
    sodium_bin2base64(secret_b64, sizeof secret_b64, secret, sizeof secret,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash(hash, sizeof hash, (const unsigned char *)secret_b64, strlen(secret_b64),
                       NULL, 0);
    if ((rc = store_token_add(s, name, id_hex, hash, sizeof hash, auth_role_name(role), grids, e)))
        return rc;
    snprintf(token, AUTH_TOKEN_MAX, PREFIX "%s_%s", id_hex, secret_b64);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

static int on_token(void *arg, const struct store_token_row *t, struct err *e)
{
    (void)e;
    buf_printf(arg, "%-20s %-7s %-24s %s%s%s\n", t->name, t->role,
               t->grids && *t->grids ? t->grids : "-", t->created, t->revoked ? " revoked " : "",
               t->revoked ? t->revoked : "");
    return 0;
}

int auth_token_list(store *s, struct buf *out, struct err *e)
{
    return store_token_rows(s, on_token, out, e);
}

int auth_check(store *s, const char *authorization, struct principal *p, struct err *e)
{
    struct store_token t;
    unsigned char hash[32];
    char id[2 * ID_BYTES + 1];
    const char *tok, *secret;
    int rc;
    memset(p, 0, sizeof *p);
    if ((rc = init_sodium(e)))
        return rc;
    if (!authorization || !*authorization)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization: a bearer token is required to write");
    if (strncasecmp(authorization, "Bearer ", 7))
        return err_set(e, ERR_UNAUTHORIZED, "Authorization: expected 'Bearer <token>'");
    tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    if (strncmp(tok, PREFIX, 3) || strlen(tok) < 3 + 2 * ID_BYTES + 2 || tok[3 + 2 * ID_BYTES] != '_'
        || strlen(tok) > AUTH_TOKEN_MAX)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization: malformed token");
    memcpy(id, tok + 3, 2 * ID_BYTES);
    id[2 * ID_BYTES] = '\0';
    secret = tok + 3 + 2 * ID_BYTES + 1;
    if ((rc = store_token_get(s, id, &t, e)))
        return rc;
    crypto_generichash(hash, sizeof hash, (const unsigned char *)secret, strlen(secret), NULL, 0);
    if (sodium_memcmp(hash, t.hash, sizeof hash) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization: unknown or revoked token");
    snprintf(p->name, sizeof p->name, "%s", t.name);
    if (auth_role_parse(t.role, &p->role))
        p->role = ROLE_NONE;
    snprintf(p->grids, sizeof p->grids, "%s", t.grids);
    return 0;
}
