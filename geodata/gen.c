/* gen: the onemap-gen command line. Parses arguments and hands over to the
 * demo (gen_demo.c) or the synthetic parcel stream (gen_synth.c); owns
 * nothing else. Exit status: 0 done, 1 failed, 2 bad arguments. */
#include "gen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARCELS UINT64_C(10000000)

static const char USAGE[] =
    "usage: onemap-gen demo OUTDIR\n"
    "       onemap-gen synthetic --parcels N [--seed S] [--out FILE]\n"
    "       onemap-gen --help\n"
    "\n"
    "demo       writes the 芹阳 demo data set (villages, grids, parcels, farmland,\n"
    "           demolition_sites, communities as OUTDIR/<layer>.geojson) and its\n"
    "           dated history since 2019 (OUTDIR/history/steps.json and the files of\n"
    "           its steps); the output is always the same, byte for byte\n"
    "synthetic  writes a FeatureCollection of N parcels (1..10000000) around\n"
    "           开化县 to FILE or standard output; the same N and S give the same\n"
    "           bytes (S defaults to 1)\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "onemap-gen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", USAGE);
    return 2;
}

/* A plain decimal number: no sign, no spaces, no trailing text. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int synthetic(int argc, char **argv)
{
    uint64_t n = 0, seed = 1;
    const char *out = NULL;
    int have_n = 0, i;
    for (i = 2; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--parcels") && strcmp(opt, "--seed") && strcmp(opt, "--out"))
            return usage_error("synthetic: unknown option '%s'", opt);
        if (!val)
            return usage_error("%s needs a value", opt);
        if (!strcmp(opt, "--parcels")) {
            if (parse_u64(val, &n) < 0 || n < 1 || n > MAX_PARCELS)
                return usage_error("--parcels: expected a number from 1 to 10000000, not '%s'",
                                   val);
            have_n = 1;
        } else if (!strcmp(opt, "--seed")) {
            if (parse_u64(val, &seed) < 0)
                return usage_error("--seed: expected a non-negative integer, not '%s'", val);
        } else {
            out = val;
        }
    }
    if (!have_n)
        return usage_error("%s", "synthetic: --parcels N is required");
    return synth_run(n, seed, out);
}

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        }
    }
    if (argc < 2)
        return usage_error("%s", "missing command");
    if (!strcmp(argv[1], "demo")) {
        if (argc != 3 || !*argv[2])
            return usage_error("%s", "demo: expected exactly one OUTDIR");
        return demo_run(argv[2]);
    }
    if (!strcmp(argv[1], "synthetic"))
        return synthetic(argc, argv);
    return usage_error("unknown command '%s'", argv[1]);
}
