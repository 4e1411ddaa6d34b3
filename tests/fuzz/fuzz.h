/* fuzz: what the fuzz targets share — one core context, the layer schema
 * and a temporary database per process, and the check that turns a broken
 * promise (a 500 on bad input, an invariant) into a crash the fuzzer keeps.
 * Each target defines LLVMFuzzerTestOneInput; replay.c runs the same
 * targets over their corpora in the ordinary build and CTest. */
#ifndef ONEMAP_FUZZ_H
#define ONEMAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "layer.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Made on first use, kept until the process exits. */
ctx *fuzz_ctx(void);
const struct layers *fuzz_layers(void);
/* A database with the schema and, with data, a few villages, grids and
 * parcels around 118.41E 29.13N; its path. */
const char *fuzz_db_path(int with_data);
store *fuzz_store(int with_data);

/* The input as a NUL-terminated string (caller frees). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Aborts with a message when cond is false: the fuzzer records the input. */
void fuzz_require(int cond, const char *what, const struct err *e);

#endif
