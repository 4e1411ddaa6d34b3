/* gen: internals shared by the parts of onemap-gen, the standalone demo and
 * synthetic data generator (links only PROJ and libm, nothing of core/).
 * Owns the PRNG, the local metric frame and geodesic areas, the streaming
 * GeoJSON writer, the GB/T 21010-2017 land classes and the name pools. */
#ifndef ONEMAP_GEN_H
#define ONEMAP_GEN_H

#include <stdint.h>
#include <stdio.h>

#define GEN_M2_PER_MU (10000.0 / 15.0)
#define GEN_LON0 118.41 /* 开化 county seat, the centre of everything generated */
#define GEN_LAT0 29.14

/* A printed coordinate: lon/lat in integer nanodegrees. Every vertex is
 * rounded once into this form, so shared vertices print identically and
 * areas are computed from exactly what is written. */
struct nd {
    int64_t x, y;
};

/* A point in local metres (x east, y north) or in lattice index units. */
struct xy {
    double x, y;
};

/* ---- gen_rng.c: splitmix64, deterministic for a given seed ---- */
struct rng {
    uint64_t s;
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_unit(struct rng *r);                      /* [0, 1) */
double rng_range(struct rng *r, double lo, double hi); /* [lo, hi) */
int rng_int(struct rng *r, int lo, int hi);           /* lo..hi inclusive */
/* Stateless: a well-mixed 64-bit value of three inputs, and the same as [0, 1). */
uint64_t hash3(uint64_t a, uint64_t b, uint64_t c);
double hash_unit(uint64_t a, uint64_t b, uint64_t c);

/* ---- gen_geo.c: local frame around the county seat, geodesic areas ---- */
struct geo; /* owns a geodesic on CGCS2000 (GRS80) and scratch arrays */
struct geo *geo_new(void);
void geo_free(struct geo *g);
/* Local metres to rounded lon/lat (an equirectangular frame at GEN_LAT0). */
struct nd geo_nd(const struct geo *g, struct xy m);
/* Signed geodesic area in m2 of the open ring (n distinct vertices),
 * positive when counter-clockwise. Returns NAN when out of memory. */
double geo_area_m2(struct geo *g, const struct nd *ring, int n);

/* ---- gen_json.c: streaming GeoJSON FeatureCollection writer ---- */
struct jw {
    FILE *f;
    char *buf;
    size_t len, cap;
    long nfeat; /* features written so far */
    int nprop;  /* properties written in the current feature */
    int err;    /* sticky: a write or an allocation failed */
};
/* Takes a FILE it does not own; jw_close flushes and frees the buffer and
 * returns 0 or -1 when any write failed. */
int jw_open(struct jw *w, FILE *f);
int jw_close(struct jw *w);
void jw_collection_begin(struct jw *w, const char *name, const char *description);
void jw_collection_end(struct jw *w);
void jw_feature_begin(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_int(struct jw *w, const char *key, long long val);
void jw_num(struct jw *w, const char *key, double val);
void jw_bool(struct jw *w, const char *key, int val);
/* Ends the properties, writes the ring (open, n >= 3; closed on output) as a
 * Polygon and ends the feature. */
void jw_feature_polygon(struct jw *w, const struct nd *ring, int n);

/* ---- gen_landuse.c: GB/T 21010-2017 classes and the mixes drawn from ---- */
enum lc {
    LC_0101, LC_0102, LC_0103, LC_0201, LC_0202, LC_0204, LC_0301, LC_0302,
    LC_0305, LC_0307, LC_0404, LC_0501, LC_0505, LC_0601, LC_0701, LC_0702,
    LC_0801, LC_0803, LC_0805, LC_0809, LC_0810, LC_1003, LC_1004, LC_1006,
    LC_1101, LC_1103, LC_1104, LC_1107, LC_1202, LC_1203, LC_1206, LC_COUNT
};
enum mix { MIX_VALLEY, MIX_SLOPE, MIX_HILL, MIX_TOWN, MIX_HAMLET, MIX_COUNT };
const char *lc_code(enum lc c);
const char *lc_name(enum lc c);
int lc_state_owned(enum lc c); /* 国有 by default (towns, roads, rivers) */
int lc_merge_percent(enum lc c); /* how often two neighbouring cells form one parcel */
/* Draws a class from a mix with u in [0, 1). */
enum lc lc_draw(enum mix m, double u);

/* ---- gen_names.c: invented names (the four real villages aside) ---- */
/* A fictional person's name from a 64-bit value; buf needs 16 bytes. */
void names_person(uint64_t h, char *buf, size_t size);
/* A fictional phone in the 0570-65xxxxx block, unique for k < 90000. */
void names_phone(int k, char *buf, size_t size);
/* Two-character village stem for synthetic data (no 村/社区 suffix). */
void names_stem(uint64_t h, char *buf, size_t size);

/* ---- entry points ---- */
/* Both print their own messages on stderr and return 0 or 1. */
int demo_run(const char *outdir);
int synth_run(uint64_t parcels, uint64_t seed, const char *out);

#endif
