/* memo: a few slots, one per variant, each a version and a copy of the
 * answer, under one mutex (held for a copy of the body, never while an answer
 * is computed: two workers that miss at once both compute, and the later one
 * keeps its copy). */
#include "memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_SLOTS 4

struct slot {
    int used, variant;
    long long version;
    char *data;
    size_t len;
};

struct memo {
    pthread_mutex_t mu;
    struct slot slots[MEMO_SLOTS];
};

memo *memo_new(void)
{
    memo *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void memo_free(memo *m)
{
    if (!m)
        return;
    for (int i = 0; i < MEMO_SLOTS; i++)
        free(m->slots[i].data);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int memo_get(memo *m, long long version, int variant, struct buf *out)
{
    int found = 0;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < MEMO_SLOTS && !found; i++) {
        struct slot *s = &m->slots[i];
        if (s->used && s->variant == variant && s->version == version) {
            buf_append(out, s->data, s->len);
            found = 1;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return found;
}

void memo_put(memo *m, long long version, int variant, const char *data, size_t len)
{
    struct slot *s = NULL;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return;
    memcpy(copy, data, len);
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < MEMO_SLOTS && !s; i++)
        if (m->slots[i].used && m->slots[i].variant == variant)
            s = &m->slots[i];
    for (int i = 0; i < MEMO_SLOTS && !s; i++)
        if (!m->slots[i].used)
            s = &m->slots[i];
    if (!s)
        s = &m->slots[0];
    free(s->data);
    s->used = 1;
    s->variant = variant;
    s->version = version;
    s->data = copy;
    s->len = len;
    pthread_mutex_unlock(&m->mu);
}
