/* html: generic JSON-to-HTML rendering: objects as tables, arrays of objects
 * as tables with one row each, "links" arrays as lists of anchors. */
#include "html.h"

#include <jansson.h>
#include <string.h>

static void render(const json_t *j, struct buf *out, int depth);

static void render_links(const json_t *links, struct buf *out)
{
    size_t i;
    json_t *l;
    buf_puts(out, "<ul class=\"links\">");
    json_array_foreach(links, i, l) {
        const char *href = json_string_value(json_object_get(l, "href"));
        const char *rel = json_string_value(json_object_get(l, "rel"));
        const char *title = json_string_value(json_object_get(l, "title"));
        const char *type = json_string_value(json_object_get(l, "type"));
        if (!href)
            continue;
        buf_puts(out, "<li><a href=\"");
        buf_put_html(out, href);
        buf_puts(out, "\">");
        buf_put_html(out, title ? title : href);
        buf_puts(out, "</a> <small>");
        buf_put_html(out, rel ? rel : "");
        if (type) {
            buf_puts(out, " · ");
            buf_put_html(out, type);
        }
        buf_puts(out, "</small></li>");
    }
    buf_puts(out, "</ul>");
}

static void render_object(const json_t *j, struct buf *out, int depth)
{
    const char *k;
    json_t *v;
    buf_puts(out, "<table>");
    json_object_foreach((json_t *)j, k, v) {
        buf_puts(out, "<tr><th>");
        buf_put_html(out, k);
        buf_puts(out, "</th><td>");
        if (!strcmp(k, "links") && json_is_array(v))
            render_links(v, out);
        else if (!strcmp(k, "geometry") && json_is_object(v))
            buf_put_html(out, json_string_value(json_object_get(v, "type")));
        else
            render(v, out, depth + 1);
        buf_puts(out, "</td></tr>");
    }
    buf_puts(out, "</table>");
}

static void render(const json_t *j, struct buf *out, int depth)
{
    size_t i;
    json_t *v;
    char *s;
    if (depth > 12) {
        buf_puts(out, "…");
        return;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT: render_object(j, out, depth); break;
    case JSON_ARRAY:
        if (json_array_size(j) > 0 && json_is_object(json_array_get(j, 0))) {
            json_array_foreach(j, i, v) render(v, out, depth + 1);
        } else {
            s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
            if (s && strlen(s) > 400)
                strcpy(s + 397, "...");
            buf_put_html(out, s ? s : "");
            free(s);
        }
        break;
    case JSON_STRING:
        if (!strncmp(json_string_value(j), "http", 4)) {
            buf_puts(out, "<a href=\"");
            buf_put_html(out, json_string_value(j));
            buf_puts(out, "\">");
            buf_put_html(out, json_string_value(j));
            buf_puts(out, "</a>");
        } else {
            buf_put_html(out, json_string_value(j));
        }
        break;
    default:
        s = json_dumps(j, JSON_ENCODE_ANY);
        buf_put_html(out, s ? s : "");
        free(s);
    }
}

int html_from_json(const char *json, size_t len, const char *title, struct buf *out)
{
    json_error_t je;
    json_t *j = json_loadb(json, len, 0, &je);
    if (!j)
        return -1;
    buf_puts(out, "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    buf_put_html(out, title);
    /* the style sheet is a file: the page's Content-Security-Policy allows no inline style */
    buf_puts(out, " · onemap</title><link rel=\"stylesheet\" href=\"/static/page.css\">"
                  "</head><body><h1>");
    buf_put_html(out, title);
    buf_puts(out, "</h1><p><a href=\"/?f=html\">onemap</a> · <a href=\"/collections?f=html\">"
                  "图层 collections</a> · <a href=\"/\">地图 map</a></p>");
    render(j, out, 0);
    buf_puts(out, "</body></html>\n");
    json_decref(j);
    return 0;
}
