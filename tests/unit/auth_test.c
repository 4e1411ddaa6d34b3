/* auth_test: write tokens against a real store — the token's form, the
 * stored hash (BLAKE2b of the secret, computed here with libsodium), the
 * principal a good "Authorization: Bearer" value yields (name, role, grid
 * scope), and every way a header is refused: missing, another scheme,
 * malformed, a wrong secret, an unknown or revoked token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tempdb.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

static const char *SCHEMA =
    "{\"layers\":[{\"id\":\"grids\",\"key\":\"code\",\"fields\":["
    "{\"name\":\"code\",\"type\":\"string\",\"required\":true}]}]}";

struct fixture {
    char dir[64], path[128];
    store *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    strcpy(f->dir, "/tmp/auth_test_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    if (store_open(f->path, STORE_CREATE, &f->s, &e) || store_init(f->s, SCHEMA, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    tempdb_remove(f->path, f->dir);
    free(f);
    return 0;
}

static void bearer(char *out, size_t size, const char *tok)
{
    snprintf(out, size, "Bearer %s", tok);
}

static void test_roles(void **state)
{
    enum role r = ROLE_NONE;
    (void)state;
    assert_int_equal(auth_role_parse("reader", &r), 0);
    assert_int_equal(r, ROLE_READER);
    assert_int_equal(auth_role_parse("editor", &r), 0);
    assert_int_equal(r, ROLE_EDITOR);
    assert_int_equal(auth_role_parse("admin", &r), 0);
    assert_int_equal(r, ROLE_ADMIN);
    r = ROLE_ADMIN;
    assert_int_equal(auth_role_parse("Admin", &r), -1);
    assert_int_equal(auth_role_parse("", &r), -1);
    assert_int_equal(auth_role_parse(NULL, &r), -1);
    assert_int_equal(r, ROLE_ADMIN); /* untouched */
    assert_string_equal(auth_role_name(ROLE_READER), "reader");
    assert_string_equal(auth_role_name(ROLE_EDITOR), "editor");
    assert_string_equal(auth_role_name(ROLE_ADMIN), "admin");
    assert_string_equal(auth_role_name(ROLE_NONE), "none");
    /* roles are ordered: a write needs at least editor */
    assert_true(ROLE_READER < ROLE_EDITOR && ROLE_EDITOR < ROLE_ADMIN);
}

static void test_create_and_check(void **state)
{
    struct fixture *f = *state;
    char tok[AUTH_TOKEN_MAX], tok2[AUTH_TOKEN_MAX], hdr[512], id[17];
    unsigned char hash[32];
    struct store_token t;
    struct principal p;
    struct err e;
    assert_int_equal(auth_token_create(f->s, "alice", ROLE_EDITOR, "G001,G002", tok, &e), 0);
    /* om_<16 hex digits>_<32 bytes in unpadded URL-safe base64: 43 characters> */
    assert_int_equal(strlen(tok), 3 + 16 + 1 + 43);
    assert_int_equal(strncmp(tok, "om_", 3), 0);
    assert_int_equal(strspn(tok + 3, "0123456789abcdef"), 16);
    assert_int_equal(tok[19], '_');
    assert_int_equal(strspn(tok + 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"), 43);

    /* the database holds the id and the hash of the secret, not the secret */
    memcpy(id, tok + 3, 16);
    id[16] = '\0';
    assert_int_equal(store_token_get(f->s, id, &t, &e), 0);
    assert_string_equal(t.name, "alice");
    assert_string_equal(t.role, "editor");
    assert_string_equal(t.grids, "G001,G002");
    assert_int_equal(sodium_init() < 0, 0);
    crypto_generichash(hash, sizeof hash, (const unsigned char *)tok + 20, 43, NULL, 0);
    assert_memory_equal(t.hash, hash, 32);

    bearer(hdr, sizeof hdr, tok);
    assert_int_equal(auth_check(f->s, hdr, &p, &e), 0);
    assert_string_equal(p.name, "alice");
    assert_int_equal(p.role, ROLE_EDITOR);
    assert_string_equal(p.grids, "G001,G002");
    /* the scheme in any case, spaces before the token */
    snprintf(hdr, sizeof hdr, "bEARER   %s", tok);
    assert_int_equal(auth_check(f->s, hdr, &p, &e), 0);
    assert_string_equal(p.name, "alice");

    /* a second token is another secret; unscoped, admin */
    assert_int_equal(auth_token_create(f->s, "root", ROLE_ADMIN, NULL, tok2, &e), 0);
    assert_int_not_equal(strcmp(tok, tok2), 0);
    assert_int_not_equal(strncmp(tok + 3, tok2 + 3, 16), 0);
    bearer(hdr, sizeof hdr, tok2);
    assert_int_equal(auth_check(f->s, hdr, &p, &e), 0);
    assert_string_equal(p.name, "root");
    assert_int_equal(p.role, ROLE_ADMIN);
    assert_string_equal(p.grids, "");

    assert_int_equal(auth_token_create(f->s, "rita", ROLE_READER, "", tok2, &e), 0);
    bearer(hdr, sizeof hdr, tok2);
    assert_int_equal(auth_check(f->s, hdr, &p, &e), 0);
    assert_int_equal(p.role, ROLE_READER);
}

static void expect_refused(store *s, const char *hdr, const char *msg)
{
    struct principal p;
    struct err e;
    memset(&p, 0x55, sizeof p);
    assert_int_equal(auth_check(s, hdr, &p, &e), ERR_UNAUTHORIZED);
    if (strcmp(e.msg, msg))
        fail_msg("'%s': got '%s', want '%s'", hdr ? hdr : "(null)", e.msg, msg);
    /* nothing of a principal is left to use */
    assert_string_equal(p.name, "");
    assert_int_equal(p.role, ROLE_NONE);
    assert_string_equal(p.grids, "");
}

static void test_refused(void **state)
{
    struct fixture *f = *state;
    char tok[AUTH_TOKEN_MAX], hdr[512], bad[AUTH_TOKEN_MAX];
    struct err e;
    assert_int_equal(auth_token_create(f->s, "alice", ROLE_EDITOR, NULL, tok, &e), 0);

    expect_refused(f->s, NULL, "Authorization: a bearer token is required to write");
    expect_refused(f->s, "", "Authorization: a bearer token is required to write");
    snprintf(hdr, sizeof hdr, "Basic %s", tok);
    expect_refused(f->s, hdr, "Authorization: expected 'Bearer <token>'");
    expect_refused(f->s, "Bearer", "Authorization: expected 'Bearer <token>'");
    expect_refused(f->s, "Bearer abc", "Authorization: malformed token");
    expect_refused(f->s, "Bearer om_0123", "Authorization: malformed token");
    /* the id's separator missing */
    snprintf(bad, sizeof bad, "%s", tok);
    bad[19] = 'x';
    bearer(hdr, sizeof hdr, bad);
    expect_refused(f->s, hdr, "Authorization: malformed token");
    /* another prefix */
    snprintf(bad, sizeof bad, "%s", tok);
    bad[0] = 'x';
    bearer(hdr, sizeof hdr, bad);
    expect_refused(f->s, hdr, "Authorization: malformed token");
    /* too long */
    snprintf(hdr, sizeof hdr, "Bearer %s%s%s", tok, tok, tok);
    expect_refused(f->s, hdr, "Authorization: malformed token");
    /* one character of the secret changed */
    snprintf(bad, sizeof bad, "%s", tok);
    bad[30] = bad[30] == 'A' ? 'B' : 'A';
    bearer(hdr, sizeof hdr, bad);
    expect_refused(f->s, hdr, "Authorization: unknown or revoked token");
    /* the secret cut short */
    snprintf(bad, sizeof bad, "%s", tok);
    bad[40] = '\0';
    bearer(hdr, sizeof hdr, bad);
    expect_refused(f->s, hdr, "Authorization: unknown or revoked token");
    /* an id nobody has */
    snprintf(bad, sizeof bad, "%s", tok);
    bad[3] = bad[3] == 'f' ? '0' : 'f';
    bearer(hdr, sizeof hdr, bad);
    expect_refused(f->s, hdr, "Authorization: unknown or revoked token");

    /* revoked: the good header stops working */
    bearer(hdr, sizeof hdr, tok);
    {
        struct principal p;
        assert_int_equal(auth_check(f->s, hdr, &p, &e), 0);
    }
    assert_int_equal(store_token_revoke(f->s, "alice", &e), 0);
    expect_refused(f->s, hdr, "Authorization: unknown or revoked token");
}

static void test_names(void **state)
{
    struct fixture *f = *state;
    char tok[AUTH_TOKEN_MAX], name[128];
    const char *bad[] = {"", "a b", "a,b", "tab\there", "new\nline"};
    struct err e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(auth_token_create(f->s, bad[i], ROLE_EDITOR, NULL, tok, &e), ERR_PARAM);
        assert_string_equal(e.msg, "token name: 1 to 100 characters without spaces or commas");
    }
    assert_int_equal(auth_token_create(f->s, NULL, ROLE_EDITOR, NULL, tok, &e), ERR_PARAM);
    memset(name, 'n', 101);
    name[101] = '\0';
    assert_int_equal(auth_token_create(f->s, name, ROLE_EDITOR, NULL, tok, &e), ERR_PARAM);
    assert_string_equal(e.msg, "token name: 1 to 100 characters without spaces or commas");
    name[100] = '\0';
    assert_int_equal(auth_token_create(f->s, name, ROLE_EDITOR, NULL, tok, &e), 0);
    /* names are unique, also after a revoke */
    assert_int_equal(auth_token_create(f->s, name, ROLE_ADMIN, NULL, tok, &e), ERR_CONFLICT);
    assert_int_equal(strncmp(e.msg, "a token named 'nnnn", 19), 0);
    assert_int_equal(auth_token_create(f->s, "bob", ROLE_EDITOR, NULL, tok, &e), 0);
    assert_int_equal(store_token_revoke(f->s, "bob", &e), 0);
    assert_int_equal(auth_token_create(f->s, "bob", ROLE_EDITOR, NULL, tok, &e), ERR_CONFLICT);
    assert_string_equal(e.msg, "a token named 'bob' exists already");
}

/* The list: one line a token, by name, columns aligned; revoked ones say
 * when. */
static void test_list(void **state)
{
    struct fixture *f = *state;
    char tok[AUTH_TOKEN_MAX], want[256];
    struct buf out;
    struct err e;
    buf_init(&out);
    assert_int_equal(auth_token_create(f->s, "zoe", ROLE_READER, NULL, tok, &e), 0);
    assert_int_equal(auth_token_create(f->s, "amy", ROLE_EDITOR, "G001,G002", tok, &e), 0);
    assert_int_equal(store_token_revoke(f->s, "zoe", &e), 0);
    assert_int_equal(auth_token_list(f->s, &out, &e), 0);
    /* amy's line: name padded to 20, role to 7, grids to 24, then the time */
    snprintf(want, sizeof want, "%-20s %-7s %-24s ", "amy", "editor", "G001,G002");
    assert_int_equal(strncmp(out.data, want, strlen(want)), 0);
    {
        const char *zoe = strchr(out.data, '\n') + 1;
        const char *rev = strstr(zoe, " revoked ");
        snprintf(want, sizeof want, "%-20s %-7s %-24s ", "zoe", "reader", "-");
        assert_int_equal(strncmp(zoe, want, strlen(want)), 0);
        assert_non_null(rev);
        /* created and revoked: two times of 24 characters */
        assert_int_equal(rev - (zoe + strlen(want)), 24);
        assert_string_equal(rev + 9 + 24, "\n");
    }
    buf_clear(&out);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        T(test_create_and_check),
        T(test_refused),
        T(test_names),
        T(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
