/* file: whole-file reads and read-only maps. It owns the buffers it returns
 * until the caller frees or unmaps them; parsing is the callers' business. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(const char *path, char **out, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0, got;
    *out = NULL;
    struct stat st;
    if (!f)
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    /* a regular file is read at once into a buffer of its size (large
     * uploads: no growing and copying); anything else as it comes */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (unsigned long long)st.st_size < SIZE_MAX - 65536) {
        cap = (size_t)st.st_size + 65536 + 1;
        if (!(data = malloc(cap))) {
            fclose(f);
            return err_set(e, ERR_INTERNAL, "%s: out of memory", path);
        }
        while ((got = fread(data + n, 1, cap - 1 - n, f)) > 0 && n + got < cap - 1)
            n += got;
        if (got)
            n += got;
        if (n < cap - 1)
            goto done;
    }
    for (;;) {
        if (n + 65536 + 1 > cap) {
            char *p;
            cap = cap ? cap * 2 : 131072;
            p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return err_set(e, ERR_INTERNAL, "%s: out of memory", path);
            }
            data = p;
        }
        got = fread(data + n, 1, 65536, f);
        n += got;
        if (got < 65536)
            break;
    }
done:
    if (ferror(f)) {
        free(data);
        fclose(f);
        return err_set(e, ERR_IO, "%s: read error", path);
    }
    fclose(f);
    data[n] = '\0';
    *out = data;
    if (len)
        *len = n;
    return 0;
}

int file_map(const char *path, struct file_data *out, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    memset(out, 0, sizeof *out);
    /* a regular file is mapped (no copy of a large upload, nor fresh pages
     * to fault in); anything else, or an empty file, is read */
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (unsigned long long)st.st_size < SIZE_MAX) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
            out->data = p;
            out->len = (size_t)st.st_size;
            out->mapped = 1;
            return 0;
        }
    }
    if (fd >= 0)
        close(fd);
    return file_read_all(path, &out->data, &out->len, e);
}

void file_unmap(struct file_data *f)
{
    if (f->mapped)
        munmap(f->data, f->len);
    else
        free(f->data);
    memset(f, 0, sizeof *f);
}
