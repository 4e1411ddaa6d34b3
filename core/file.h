/* file: reading a whole file from disk — into a NUL-terminated buffer, or
 * mapped when it is a regular file. It owns the buffers it hands out (freed by
 * the caller, or given back with file_unmap); it knows nothing of formats. */
#ifndef ONEMAP_FILE_H
#define ONEMAP_FILE_H

#include <stddef.h>

#include "err.h"

/* Reads a whole file into a NUL-terminated string (caller frees). */
int file_read_all(const char *path, char **out, size_t *len, struct err *e);

/* A file's bytes, mapped when it is a regular file (not NUL-terminated
 * then), read otherwise; file_unmap gives them back. */
struct file_data {
    char *data;
    size_t len;
    int mapped;
};
int file_map(const char *path, struct file_data *out, struct err *e);
void file_unmap(struct file_data *f);

#endif
