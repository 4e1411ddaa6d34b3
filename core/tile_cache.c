/* tile_cache: a byte-bounded LRU of encoded tiles behind one mutex. Owns
 * every entry and its bytes; a hash table on (layers, z, x, y) finds them, a
 * doubly linked list orders them by use, and a short log of recent
 * invalidations lets tile_cache_put refuse a tile rendered from data that an
 * invalidation has since made stale. */
#include "tile_cache.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SIZE 256       /* invalidations remembered for tile_cache_put */
#define ENTRY_OVERHEAD 128 /* bytes of bookkeeping counted per entry */

struct entry {
    struct tile_key key;
    struct bbox ext; /* buffered lon/lat extent */
    unsigned char *data, *gz;
    size_t len, gz_len;
    char etag[TILE_ETAG_SIZE]; /* identity form */
    struct entry *prev, *next; /* LRU list: head is the most recent */
    struct entry *chain;       /* hash bucket */
};

struct invalidation {
    uint64_t epoch;
    uint64_t layers;
    struct bbox b;
};

struct tile_cache {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t n_buckets; /* power of two */
    struct entry *head, *tail;
    size_t bytes, max_bytes, entries;
    uint64_t epoch; /* invalidations so far */
    _Atomic unsigned long long floor; /* tile_cache_set_floor */
    struct invalidation log[LOG_SIZE];
    struct tile_cache_stats st;
};

static uint64_t key_hash(const struct tile_key *k)
{
    uint64_t h = k->layers * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)(unsigned)k->z << 58) ^ ((uint64_t)k->x << 29) ^ k->y;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return h;
}

static int key_eq(const struct tile_key *a, const struct tile_key *b)
{
    return a->layers == b->layers && a->z == b->z && a->x == b->x && a->y == b->y;
}

static size_t entry_size(const struct entry *en)
{
    return en->len + en->gz_len + ENTRY_OVERHEAD;
}

void tile_cache_extent(int z, uint32_t x, uint32_t y, int buffer, struct bbox *out)
{
    double n = ldexp(1.0, z), pad = buffer / 4096.0;
    double y0 = (y - pad) / n, y1 = (y + 1 + pad) / n;
    out->minx = (x - pad) / n * 360.0 - 180.0;
    out->maxx = (x + 1 + pad) / n * 360.0 - 180.0;
    out->maxy = atan(sinh(M_PI * (1 - 2 * y0))) * 180.0 / M_PI;
    out->miny = atan(sinh(M_PI * (1 - 2 * y1))) * 180.0 / M_PI;
}

static int boxes_meet(const struct bbox *a, const struct bbox *b)
{
    return a->minx <= b->maxx && b->minx <= a->maxx && a->miny <= b->maxy && b->miny <= a->maxy;
}

tile_cache *tile_cache_new(size_t max_bytes)
{
    tile_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n_buckets = 4096;
    c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
    if (!c->buckets || pthread_mutex_init(&c->mu, NULL)) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    c->max_bytes = max_bytes;
    atomic_init(&c->floor, 0);
    return c;
}

static void entry_free(struct entry *en)
{
    if (!en)
        return;
    free(en->data);
    free(en->gz);
    free(en);
}

void tile_cache_free(tile_cache *c)
{
    struct entry *en, *next;
    if (!c)
        return;
    for (en = c->head; en; en = next) {
        next = en->next;
        entry_free(en);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->buckets);
    free(c);
}

static struct entry **bucket_of(tile_cache *c, const struct tile_key *k)
{
    return &c->buckets[key_hash(k) & (c->n_buckets - 1)];
}

static struct entry *find(tile_cache *c, const struct tile_key *k)
{
    struct entry *en = *bucket_of(c, k);
    while (en && !key_eq(&en->key, k))
        en = en->chain;
    return en;
}

static void lru_unlink(tile_cache *c, struct entry *en)
{
    if (en->prev)
        en->prev->next = en->next;
    else
        c->head = en->next;
    if (en->next)
        en->next->prev = en->prev;
    else
        c->tail = en->prev;
    en->prev = en->next = NULL;
}

static void lru_push_front(tile_cache *c, struct entry *en)
{
    en->prev = NULL;
    en->next = c->head;
    if (c->head)
        c->head->prev = en;
    c->head = en;
    if (!c->tail)
        c->tail = en;
}

/* Unlinks en from the table and the list and frees it. */
static void drop(tile_cache *c, struct entry *en)
{
    struct entry **p = bucket_of(c, &en->key);
    while (*p != en)
        p = &(*p)->chain;
    *p = en->chain;
    lru_unlink(c, en);
    c->bytes -= entry_size(en);
    c->entries--;
    entry_free(en);
}

/* Doubles the table when entries outnumber buckets; failure is harmless. */
static void maybe_grow(tile_cache *c)
{
    size_t n = c->n_buckets * 2;
    struct entry **nb, *en;
    if (c->entries < c->n_buckets || !(nb = calloc(n, sizeof *nb)))
        return;
    for (en = c->head; en; en = en->next) {
        struct entry **b = &nb[key_hash(&en->key) & (n - 1)];
        en->chain = *b;
        *b = en;
    }
    free(c->buckets);
    c->buckets = nb;
    c->n_buckets = n;
}

int tile_cache_get(tile_cache *c, const struct tile_key *k, int want_gzip, struct buf *out,
                   int *is_gzip, char etag[TILE_ETAG_SIZE], uint64_t *epoch)
{
    struct entry *en;
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    *epoch = c->epoch;
    *is_gzip = 0;
    en = find(c, k);
    if (!en) {
        c->st.misses++;
        goto out;
    }
    c->st.hits++;
    lru_unlink(c, en);
    lru_push_front(c, en);
    if (want_gzip && en->gz) {
        buf_append(out, en->gz, en->gz_len);
        *is_gzip = 1;
    } else {
        buf_append(out, en->data ? en->data : (unsigned char *)"", en->len);
    }
    memcpy(etag, en->etag, TILE_ETAG_SIZE);
    rc = out->oom ? -1 : 1;
out:
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* 1 when an invalidation after epoch touched an entry of key k over ext
 * (or the log no longer reaches back that far). */
static int stale_since(const tile_cache *c, uint64_t epoch, const struct tile_key *k,
                       const struct bbox *ext)
{
    if (c->epoch - epoch > LOG_SIZE)
        return 1;
    for (uint64_t e = epoch + 1; e <= c->epoch; e++) {
        const struct invalidation *inv = &c->log[e % LOG_SIZE];
        if ((inv->layers & k->layers) && boxes_meet(&inv->b, ext))
            return 1;
    }
    return 0;
}

static unsigned char *copy_bytes(const void *p, size_t n)
{
    unsigned char *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* A new entry for k holding copies of the bytes; NULL when out of memory. */
static struct entry *entry_new(const struct tile_key *k, const void *data, size_t len,
                               const void *gz, size_t gz_len, const char *etag)
{
    struct entry *en = calloc(1, sizeof *en);
    if (!en)
        return NULL;
    en->key = *k;
    tile_cache_extent(k->z, k->x, k->y, TILE_BUFFER, &en->ext);
    en->data = copy_bytes(data, len);
    en->len = len;
    if (gz) {
        en->gz = copy_bytes(gz, gz_len);
        en->gz_len = gz_len;
    }
    if (!en->data || (gz && !en->gz)) {
        entry_free(en);
        return NULL;
    }
    strncpy(en->etag, etag, TILE_ETAG_SIZE - 1);
    return en;
}

int tile_cache_put(tile_cache *c, const struct tile_key *k, const void *data, size_t len,
                   const void *gz, size_t gz_len, const char *etag, uint64_t epoch)
{
    struct entry *en, *old, **b;
    int rc = 0;
    if (len + gz_len + ENTRY_OVERHEAD > c->max_bytes / 4)
        return 1;
    if (!(en = entry_new(k, data, len, gz, gz_len, etag)))
        return -1;
    pthread_mutex_lock(&c->mu);
    if (stale_since(c, epoch, k, &en->ext)) {
        c->st.refused++;
        rc = 1;
        goto out;
    }
    if ((old = find(c, k)))
        drop(c, old);
    b = bucket_of(c, k);
    en->chain = *b;
    *b = en;
    lru_push_front(c, en);
    c->bytes += entry_size(en);
    c->entries++;
    while (c->bytes > c->max_bytes && c->tail != en) {
        drop(c, c->tail);
        c->st.evicted++;
    }
    maybe_grow(c);
    en = NULL;
out:
    pthread_mutex_unlock(&c->mu);
    entry_free(en);
    return rc;
}

void tile_cache_put_gzip(tile_cache *c, const struct tile_key *k, const char *etag, const void *gz,
                         size_t gz_len)
{
    unsigned char *copy = copy_bytes(gz, gz_len);
    struct entry *en;
    if (!copy)
        return;
    pthread_mutex_lock(&c->mu);
    en = find(c, k);
    if (en && !en->gz && !strcmp(en->etag, etag) && c->bytes + gz_len <= c->max_bytes) {
        en->gz = copy;
        en->gz_len = gz_len;
        c->bytes += gz_len;
        copy = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(copy);
}

void tile_cache_invalidate_layers(tile_cache *c, uint64_t layers, const struct bbox *b)
{
    struct entry *en, *next;
    struct invalidation *inv;
    pthread_mutex_lock(&c->mu);
    c->epoch++;
    inv = &c->log[c->epoch % LOG_SIZE];
    inv->epoch = c->epoch;
    inv->layers = layers;
    inv->b = *b;
    for (en = c->head; en; en = next) {
        next = en->next;
        if ((en->key.layers & layers) && boxes_meet(&en->ext, b)) {
            drop(c, en);
            c->st.invalidated++;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

void tile_cache_invalidate(tile_cache *c, const struct bbox *b)
{
    tile_cache_invalidate_layers(c, UINT64_MAX, b);
}

void tile_cache_stats_get(tile_cache *c, struct tile_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->entries = c->entries;
    out->bytes = c->bytes;
    out->max_bytes = c->max_bytes;
    pthread_mutex_unlock(&c->mu);
}

void tile_cache_set_floor(tile_cache *c, unsigned long long pos)
{
    if (c)
        atomic_store(&c->floor, pos);
}

unsigned long long tile_cache_floor(tile_cache *c)
{
    return c ? atomic_load(&c->floor) : 0;
}
