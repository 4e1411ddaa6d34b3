/* links: link objects and query strings for self/next/prev/alternate. */
#include "links.h"

#include <string.h>

void link_put(struct buf *b, int *first, const struct req *r, const char *path, const char *rel,
              const char *type, const char *title)
{
    if (!*first)
        buf_putc(b, ',');
    *first = 0;
    buf_puts(b, "{\"href\":");
    {
        struct buf h;
        buf_init(&h);
        buf_puts(&h, r->base);
        buf_puts(&h, path);
        buf_put_json_str(b, h.data);
        buf_clear(&h);
    }
    buf_puts(b, ",\"rel\":");
    buf_put_json_str(b, rel);
    if (type) {
        buf_puts(b, ",\"type\":");
        buf_put_json_str(b, type);
    }
    if (title) {
        buf_puts(b, ",\"title\":");
        buf_put_json_str(b, title);
    }
    buf_putc(b, '}');
}

void url_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-_.~,:", c))
            buf_putc(b, (char)c);
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, e, 3);
        }
    }
}

void query_with(struct buf *b, const struct req *r, const char *replace_key,
                const char *replace_val, const char *f)
{
    int first = 1, replaced = 0;
    for (size_t i = 0; i < r->n_params; i++) {
        const char *k = r->params[i].key, *v = r->params[i].value;
        if (!strcmp(k, "f"))
            continue;
        if (replace_key && !strcmp(k, replace_key)) {
            replaced = 1;
            if (!replace_val)
                continue;
            v = replace_val;
        }
        buf_putc(b, first ? '?' : '&');
        first = 0;
        url_encode(b, k);
        buf_putc(b, '=');
        url_encode(b, v);
    }
    if (replace_key && replace_val && !replaced) {
        buf_putc(b, first ? '?' : '&');
        first = 0;
        url_encode(b, replace_key);
        buf_putc(b, '=');
        url_encode(b, replace_val);
    }
    if (f) {
        buf_putc(b, first ? '?' : '&');
        buf_puts(b, "f=");
        buf_puts(b, f);
    }
}
