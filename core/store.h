/* store: the one seam to the database (SQLite + SpatiaLite). All SQL lives
 * here. A store is one connection: use it from one thread at a time (each
 * server worker opens its own). Layers' tables hold one row per feature with
 * its version, geodesic area, attribute columns, the geometry (SpatiaLite,
 * EPSG:4490, R-tree indexed) and the geometry's GeoJSON text. */
#ifndef ONEMAP_STORE_H
#define ONEMAP_STORE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "layer.h"

typedef struct store store;

/* STORE_REPLICA: a read-only connection to a replica of a PostgreSQL
 * primary, whose reads know how far it had replayed (store_read_position). */
enum store_flags { STORE_CREATE = 1, STORE_READONLY = 2, STORE_REPLICA = 4 };

/* A typed attribute value. Strings are borrowed from whoever filled it. */
enum value_type { VAL_NULL = 0, VAL_INT, VAL_REAL, VAL_TEXT };
struct value {
    enum value_type type;
    long long i;
    double d;
    const char *s;
};

/* Opens (and with STORE_CREATE creates) the database. Caller closes. A
 * database on a read-only file system is opened read-only (every write
 * then fails with ERR_UNAVAILABLE) and store_degraded says so: a server
 * reopens such a store for each request, so that it writes again as soon as
 * the file system does. */
/* Memory of each connection opened from now on: SQLite's page cache and
 * the part of the file mapped into memory (0: none), in MiB. */
void store_set_memory(long cache_mib, long mmap_mib);

int store_open(const char *path, int flags, store **out, struct err *e);
/* Whether db names a PostgreSQL database (a postgresql:// or postgres://
 * URL) rather than a SQLite file. */
int store_is_url(const char *db);
/* db as messages show it: a URL without its password. */
void store_shown(const char *db, char *out, size_t n);
void store_close(store *s);
int store_degraded(const store *s);

/* Makes every statement of s check c (a request's deadline and client) and
 * stop with c's error when it is cancelled; NULL: no checks. c is borrowed
 * until the next call. */
struct cancel;
void store_set_cancel(store *s, struct cancel *c);

/* Creates onemap's metadata and one table per layer of the schema document.
 * Refuses an already initialised database (ERR_CONFLICT). */
int store_init(store *s, const char *layers_json, struct err *e);
/* Reads the layer registry kept in the database. Caller frees. */
int store_layers_get(store *s, struct layers **out, struct err *e);
/* The schema document the database was made with (store_init's); caller
 * frees *json. */
int store_schema_json(store *s, char **json, struct err *e);

int store_begin(store *s, struct err *e);   /* BEGIN IMMEDIATE */
/* The time of the open write transaction's changes: every version it writes
 * is valid from it and every version it replaces valid until it, and its
 * history rows carry it. store_begin sets it to now; a history made on
 * purpose (the demo's) sets its own, as instant_parse writes it, right
 * after store_begin. */
void store_set_write_time(store *s, const char *at);
const char *store_write_time(const store *s);
int store_commit(store *s, struct err *e);
void store_rollback(store *s);
/* A read transaction around the statements of one request, so that they
 * see one snapshot and take the WAL read lock once; harmless when nothing is
 * read, a no-op when a transaction is open already.
 * solo: the read most likely needs one statement, which then runs on its
 * own, without a transaction (PostgreSQL: a third of the database's work
 * for BEGIN, statement and COMMIT). Should it need another, that one fails
 * with ERR_AGAIN, as does every statement after it, and store_read_again
 * is 1: the read is to be run anew (store_read_end, store_read_begin with
 * solo 0). A backend that has nothing to gain ignores solo. */
void store_read_begin(store *s, int solo);
int store_read_again(const store *s);
/* The statements the read ran (so far): what tells whether a kind of
 * request reads with one (0 when the backend does not count them). */
int store_read_count(const store *s);
void store_read_end(store *s);

/* Inserts one feature; vals has l->n_fields entries. wkb is the geometry in
 * EPSG:4490, gj the same as GeoJSON text (geojson_geom_write_storage's),
 * which a backend keeps as it is (SQLite) or writes again from the WKB
 * when the row is read (PostgreSQL). Key conflicts -> ERR_CONFLICT. */
int store_feature_insert(store *s, const struct layer *l, const struct value *vals,
                         const unsigned char *wkb, size_t wkb_len, const char *gj,
                         double area_m2, long long *fid, struct err *e);
/* The same with the geometry as a SpatiaLite BLOB (splite_from_wkb's). */
int store_feature_insert_blob(store *s, const struct layer *l, const struct value *vals,
                              const unsigned char *blob, size_t blob_len, const char *gj,
                              double area_m2, long long *fid, struct err *e);

/* A bulk load into an empty layer, inside an open transaction: its rows go
 * in without the triggers that keep the spatial index and check each
 * geometry's type and SRID (onemap's own BLOBs are always right), and the
 * index is then built in one pass, packed (sort-tile-recursive) instead of
 * grown by a hundred thousand R*-tree insertions. The triggers come back
 * verbatim with store_bulk_end; a rollback restores everything. */
struct store_box {
    long long fid;
    double minx, miny, maxx, maxy;
};
int store_bulk_begin(store *s, const struct layer *l, struct err *e);
/* Builds the layer's spatial index from boxes (reordered) and restores the
 * triggers. */
int store_bulk_end(store *s, const struct layer *l, struct store_box *boxes, size_t n,
                   struct err *e);

/* Rows of a bulk load go in many to a statement, with ids given: from
 * store_bulk_first_fid on (AUTOINCREMENT's next), one after the other. */
struct store_new_row {
    const struct value *vals;
    const unsigned char *blob;  /* SpatiaLite BLOB */
    size_t blob_len;
    const char *gj;
    double area_m2;
    long long version; /* 0: 1, a new feature's */
};
int store_bulk_first_fid(store *s, const struct layer *l, long long *fid, struct err *e);
int store_bulk_insert(store *s, const struct layer *l, long long first_fid,
                      const struct store_new_row *rows, size_t n, struct err *e);
/* History rows without a copy for the features first..last, at version 1. */
int store_history_add_range(store *s, const struct layer *l, long long first, long long last,
                            const char *op, const char *at, const char *by,
                            const char *change_id, struct err *e);

/* One row as the query callbacks see it; everything borrowed for the call. */
struct store_row {
    long long fid;
    long long version;
    double area_m2;
    const char *gj;
    double mbr[4];             /* minx, miny, maxx, maxy (R-tree, outward rounded) */
    int have_mbr;
    const struct value *vals;  /* l->n_fields values */
    const unsigned char *wkb;  /* with want_wkb: the geometry as WKB */
    size_t wkb_len;
};

/* The SQL a backend speaks: compiled filters are written for it. */
enum store_dialect { STORE_SQLITE = 0, STORE_PG };
enum store_dialect store_dialect(const store *s);

/* A compiled filter: an SQL boolean expression over the layer's table
 * (alias t, columns as in the schema, geometry column t.geom) with ?
 * parameters bound in order. Built by store_filter.c from a CQL2 tree. */
enum bind_type { BIND_NULL = 0, BIND_INT, BIND_REAL, BIND_TEXT, BIND_BLOB };
struct store_bind {
    enum bind_type type;
    long long i;
    double d;
    char *s;                 /* owned */
    unsigned char *blob;     /* owned */
    size_t len;
};
struct store_filter {
    char *sql;               /* owned */
    struct store_bind *binds;
    size_t n_binds;
};
void store_filter_clear(struct store_filter *f);

struct store_sort {
    int field;  /* field index, or STORE_SORT_ID / STORE_SORT_AREA */
    int desc;
};
#define STORE_SORT_ID (-1)
#define STORE_SORT_AREA (-2)

struct store_eq {
    int field;
    struct value v;
};

#define STORE_MAX_SORT 8
#define STORE_MAX_EQ 16

struct store_query {
    const struct layer *layer;
    int n_rects;             /* 0: no spatial filter; 1 or 2 (antimeridian) */
    double rects[2][4];      /* minx, miny, maxx, maxy in EPSG:4490 */
    struct store_eq eq[STORE_MAX_EQ];
    size_t n_eq;
    struct store_sort sort[STORE_MAX_SORT];
    size_t n_sort;
    const struct store_filter *filter; /* NULL: none */
    int want_wkb;            /* rows carry their geometry as WKB */
    int skip_gj;             /* rows carry no GeoJSON text (gj NULL): faster */
    int gj_or_wkb;           /* the caller takes the geometry from gj or,
                                when gj is NULL, from the WKB (as
                                feature_write does): a backend may send WKB
                                alone where that costs it less */
    int skip_mbr;            /* the caller needs no row's box: a backend
                                that works it out from the WKB leaves it
                                out (have_mbr 0) */
    double min_mbr_area;     /* > 0 (with rects): only rows whose R-tree box
                                covers at least this many square degrees */
    long long fid;           /* > 0: only this feature */
    long long limit, offset; /* limit < 0: no limit */
    int any_order;           /* rows in the index's order, not sorted (no
                                limit): spares sorting whole rows */
    const char *asof;        /* NULL: the layer as it is; else an instant (as
                                instant_parse writes it): the features that
                                existed then, in the versions they had then */
};

/* Calls fn for each row in order; fn returns 0 to go on, 1 to stop early,
 * negative to fail (its err is passed through). */
typedef int (*store_row_fn)(void *arg, const struct store_row *row, struct err *e);
int store_query_rows(store *s, const struct store_query *q, store_row_fn fn, void *arg,
                     struct err *e);
/* store_query_rows of each of the n queries in turn, the rows of qs[i] given
 * to fn with args[i]; on a backend over the network in as few round trips
 * as it can (a point's look-up in every layer: one). */
int store_query_rows_many(store *s, const struct store_query *qs, size_t n, store_row_fn fn,
                          void *const *args, struct err *e);
/* The R-tree entries of the layer whose boxes meet one of the rects (ids and
 * boxes, float boxes rounded outwards), in the index's order; fn as for
 * store_query_rows. Reads no rows of the table. */
typedef int (*store_box_fn)(void *arg, long long fid, const double mbr[4], struct err *e);
int store_boxes(store *s, const struct layer *l, const double rects[][4], int n_rects,
                store_box_fn fn, void *arg, struct err *e);

/* Number of rows the query matches, ignoring limit and offset. */
int store_query_count(store *s, const struct store_query *q, long long *count, struct err *e);

/* The stored geometry of one feature as WKB; caller frees *wkb. */
int store_feature_wkb(store *s, const struct layer *l, long long fid, unsigned char **wkb,
                      size_t *len, struct err *e);

/* The id of the feature whose key property equals key; ERR_NOT_FOUND. */
int store_feature_fid_by_key(store *s, const struct layer *l, const char *key, long long *fid,
                             struct err *e);

/* Replaces a feature's attributes and geometry and sets its version.
 * ERR_NOT_FOUND when it does not exist, ERR_CONFLICT on a key clash. */
int store_feature_update(store *s, const struct layer *l, long long fid, long long version,
                         const struct value *vals, const unsigned char *wkb, size_t wkb_len,
                         const char *gj, double area_m2, struct err *e);
int store_feature_delete(store *s, const struct layer *l, long long fid, struct err *e);

/* History: one row per feature version written (create, replace, update,
 * delete, import), holding that version as a GeoJSON Feature (storage CRS,
 * no area members). A NULL feature stores the row without a copy: the
 * version is the one live in the layer (imports write so, the copy of
 * every feature would double what they write), and whoever changes or
 * deletes that feature first keeps the version with store_history_keep. */
int store_history_add(store *s, const struct layer *l, long long fid, long long version,
                      const char *op, const char *by, const char *change_id, const char *feature,
                      struct err *e);
/* The same with the time given (at: as strftime('%Y-%m-%dT%H:%M:%fZ') writes
 * it; NULL for now): every row of one import carries the same time. */
int store_history_add_at(store *s, const struct layer *l, long long fid, long long version,
                         const char *op, const char *at, const char *by, const char *change_id,
                         const char *feature, struct err *e);
/* Gives the history row of (fid, version) its feature if it was stored
 * without a copy; nothing when it has one. Call before the live row
 * changes. */
int store_history_keep(store *s, const struct layer *l, long long fid, long long version,
                       const char *feature, struct err *e);
/* One change of a batch (store_write_batch). */
enum store_write_op { STORE_WRITE_INSERT = 0, STORE_WRITE_UPDATE, STORE_WRITE_DELETE };

struct store_write {
    enum store_write_op op;
    long long fid;             /* UPDATE, DELETE: the feature; INSERT: set by the write */
    long long version;         /* UPDATE, DELETE: the stored version it replaces */
    const struct value *vals;  /* INSERT, UPDATE */
    const unsigned char *wkb;  /* INSERT, UPDATE: the geometry as WKB, or (INSERT) ... */
    size_t wkb_len;
    const unsigned char *blob; /* ... as a SpatiaLite BLOB */
    size_t blob_len;
    const char *gj;            /* INSERT, UPDATE */
    double area_m2;
    const char *kept;          /* UPDATE, DELETE: the version replaced, as a history feature */
};

/* At most this many writes in one batch. */
#define STORE_WRITE_BATCH 256

/* Writes n changes to l inside the caller's transaction, as an import does
 * them one by one: an insert with its history row (op "import", version 1);
 * an update keeping the version it replaces (store_history_keep), then its
 * history row (op "import"); a delete keeping the deleted version, then a
 * history row "delete" holding it. at, by and change_id as
 * store_history_add_at takes them. A backend may write the whole batch in a
 * few statements. On error *failed is the index of the write that failed
 * when known, else n; the caller rolls back. */
int store_write_batch(store *s, const struct layer *l, struct store_write *w, size_t n,
                      const char *at, const char *by, const char *change_id, size_t *failed,
                      struct err *e);

/* One row of the history: a version of a feature as written, and when, by
 * whom, in which change. Everything borrowed for the call. */
struct store_version {
    const char *collection;
    long long fid, version;
    long long seq;           /* the row's place in the change log */
    const char *op, *at;
    const char *by, *change_id;  /* NULL when not recorded */
    const char *feature;     /* the version as a GeoJSON Feature; NULL: stored
                                without a copy (it is the live one), or not
                                read (store_change_rows) */
};
/* Callbacks return 0 to go on, 1 to stop early, negative to fail (their
 * err is passed through). */
typedef int (*store_version_fn)(void *arg, const struct store_version *v, struct err *e);
/* The versions of one feature, newest first. */
int store_history_rows(store *s, const struct layer *l, long long fid, store_version_fn fn,
                       void *arg, struct err *e);
/* The change log after seq since, in order, at most limit rows; with
 * features, each row's copy of the feature too (NULL: none kept). */
int store_change_rows(store *s, long long since, long long limit, int features,
                      store_version_fn fn, void *arg, struct err *e);
/* Writes a history row as it is (its seq included): copying a database. */
int store_history_put(store *s, const struct store_version *v, struct err *e);

/* Past versions. Every layer has a second table beside its own, holding
 * each version that was replaced or deleted (its row as it was, with the
 * instants it was valid from and until, spatially indexed), and each live
 * row holds the instant it is valid from: store_query's asof reads both.
 * Writes keep them (store_set_write_time gives the instants); this makes
 * them again from the history, inside the caller's transaction: after a
 * copy, and once for a database made before they were kept (store_open
 * does that itself). */
int store_past_rebuild(store *s, const struct layer *l, struct err *e);

/* Tokens: stored by name with a public id and the hash of their secret. */
struct store_token {
    char name[128];
    unsigned char hash[32];
    char role[16];
    char grids[1024];        /* comma-separated grid codes; empty: no scope */
};
int store_token_add(store *s, const char *name, const char *id, const unsigned char *hash,
                    size_t hash_len, const char *role, const char *grids, struct err *e);
/* The active token with this public id; ERR_UNAUTHORIZED when none. */
int store_token_get(store *s, const char *id, struct store_token *t, struct err *e);
/* Every token, active or revoked, by name; fn as for store_history_rows. */
struct store_token_row {
    const char *name, *role, *grids, *created;
    const char *revoked;     /* NULL: active */
    const char *id;          /* the public id */
    const unsigned char *hash; /* 32 bytes */
};
typedef int (*store_token_fn)(void *arg, const struct store_token_row *t, struct err *e);
int store_token_rows(store *s, store_token_fn fn, void *arg, struct err *e);
int store_token_revoke(store *s, const char *name, struct err *e);
/* Writes a token as it is (times and revocation included): copying. */
int store_token_put(store *s, const struct store_token_row *t, struct err *e);

/* Calls fn with every feature's key and id. */
typedef int (*store_key_fn)(void *arg, const char *key, long long fid, struct err *e);
int store_key_fids(store *s, const struct layer *l, store_key_fn fn, void *arg, struct err *e);

/* The layer's number of features, counted no further than limit. */
int store_layer_count_upto(store *s, const struct layer *l, long long limit, long long *count,
                           struct err *e);

/* Extent (EPSG:4490, the spatial index's float boxes) and feature count of a
 * layer, in O(1): kept current by every write. An empty layer gives count 0
 * and an unset extent (returns 1). */
int store_layer_extent(store *s, const struct layer *l, double ext[4], long long *count,
                       struct err *e);

/* The layer's feature count and total area (m²), kept current by every
 * write; area_m2 may be NULL. */
int store_layer_totals(store *s, const struct layer *l, long long *count, double *area_m2,
                       struct err *e);

/* A number that changes with every write to any layer, committed by this
 * or any other connection: what cached answers over all layers are keyed on.
 * ERR_NOT_FOUND on a read-only database from before it was kept. */
int store_data_version(store *s, long long *version, struct err *e);

/* Writes by other processes (PostgreSQL: notifications that the layers'
 * triggers send from the writing transaction, delivered at its commit).
 * store_listen subscribes s; ERR_NOT_FOUND when the backend has none to
 * give (SQLite: one server per file). store_changes_wait waits up to
 * timeout_ms and calls fn for each change: the layer and a box (EPSG:4490)
 * holding what changed; layer NULL when changes may have been missed (the
 * connection was lost and made again): anything may have changed.
 * timeout_ms < 0: a round trip to the database first, after which every
 * change committed before the call has been given to fn. */
typedef void (*store_change_fn)(void *arg, const char *layer, const double box[4]);
int store_listen(store *s, struct err *e);
/* The descriptor that becomes readable when a change may be waiting (to
 * poll it without blocking in store_changes_wait); -1: none. */
int store_changes_fd(store *s);
int store_changes_wait(store *s, int timeout_ms, store_change_fn fn, void *arg, struct err *e);

/* Replication positions (PostgreSQL: WAL locations), for reading from
 * replicas what was written to the primary. A position is a number that
 * only grows; 0 means none (SQLite has none: every one is 0).
 * store_commit_position: where the last write transaction committed
 * through s ended (a replica that has replayed this far sees it).
 * store_position(STORE_POS_WRITTEN): the primary's position now (every
 * commit acknowledged so far lies before it); STORE_POS_REPLAYED: how far
 * a replica has replayed (STORE_POS_ALL when s is not in recovery: it has
 * everything it will ever have). One round trip each.
 * store_read_position: how far the open read transaction's snapshot
 * reaches: on a store opened STORE_REPLICA what it had replayed before the
 * snapshot was taken (0: unknown, or before the first statement), on any
 * other STORE_POS_ALL. */
#define STORE_POS_ALL (~0ull)
enum store_pos { STORE_POS_WRITTEN, STORE_POS_REPLAYED };
unsigned long long store_commit_position(const store *s);
int store_position(store *s, enum store_pos which, unsigned long long *pos, struct err *e);
unsigned long long store_read_position(const store *s);
/* A position as PostgreSQL writes it ("16/B374D848"), and read back:
 * -1 when text is not one. */
void store_position_text(unsigned long long pos, char *out, size_t n);
int store_position_parse(const char *text, unsigned long long *pos);

#endif
