/* gen_rng: the generator's only source of randomness, splitmix64, so that the
 * same command always writes the same bytes. Owns no global state: callers
 * keep a struct rng, or hash coordinates statelessly (synthetic streaming). */
#include "gen.h"

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t rng_next(struct rng *r)
{
    r->s += UINT64_C(0x9e3779b97f4a7c15);
    return mix(r->s);
}

double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_range(struct rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

int rng_int(struct rng *r, int lo, int hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int)(rng_next(r) % span);
}

uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = mix(a + UINT64_C(0x9e3779b97f4a7c15));
    h = mix(h ^ (b + UINT64_C(0x632be59bd9b4e019)));
    return mix(h ^ (c + UINT64_C(0x85ebca6b0c2f7a93)));
}

double hash_unit(uint64_t a, uint64_t b, uint64_t c)
{
    return (double)(hash3(a, b, c) >> 11) * 0x1.0p-53;
}
