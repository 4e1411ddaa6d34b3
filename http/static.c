/* static: files of the browser viewer under /static/, read from the static
 * directory; nothing outside it is ever served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "routes.h"

static const char *mime(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
        {".png", "image/png"},                 {".svg", "image/svg+xml"},
        {".map", "application/json"},
    };
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

static int safe_name(const char *n)
{
    if (!*n || n[0] == '.')
        return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '.' || *n == '-' || *n == '_'))
            return 0;
    return 1;
}

const char *static_dir(void)
{
    const char *d = getenv("ONEMAP_STATIC_DIR");
    return d && *d ? d : ONEMAP_STATIC_DIR;
}

int h_static(struct req *r, struct res *s, struct err *e)
{
    char path[1024];
    char *data = NULL;
    size_t len = 0;
    const char *name = r->captures[0];
    if (!safe_name(name) || strstr(name, ".."))
        return err_set(e, ERR_NOT_FOUND, "%s: no such file", r->path);
    snprintf(path, sizeof path, "%s/%s", static_dir(), name);
    if (file_read_all(path, &data, &len, e))
        return err_set(e, ERR_NOT_FOUND, "%s: no such file", r->path);
    r->fmt = FMT_JSON; /* served as is */
    s->content_type = mime(name);
    buf_append(&s->body, data, len);
    free(data);
    return 0;
}
