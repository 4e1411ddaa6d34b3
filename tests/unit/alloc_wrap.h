/* alloc_wrap: the allocation functions the linker's --wrap gives the
 * allocation-failure pass (alloc_test.c): __wrap_X takes the place of X in
 * onemap's own code, __real_X is the C library's. */
#ifndef ONEMAP_TEST_ALLOC_WRAP_H
#define ONEMAP_TEST_ALLOC_WRAP_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#endif
