/* encoding: If-None-Match and Accept-Encoding as the tile and static file
 * handlers read them. */
#include "encoding.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int encoding_accepts_gzip(const char *h)
{
    while (h && *h) {
        size_t n = strcspn(h, ","), tok;
        const char *q;
        while (*h == ' ' || *h == '\t')
            h++, n--;
        tok = strcspn(h, " \t;,");
        if ((tok == 4 && !strncasecmp(h, "gzip", 4)) ||
            (tok == 6 && !strncasecmp(h, "x-gzip", 6)) || (tok == 1 && *h == '*')) {
            q = strstr(h, "q=");
            if (!q || q >= h + n || strtod(q + 2, NULL) > 0)
                return 1;
        }
        h += n;
        if (*h == ',')
            h++;
    }
    return 0;
}

int encoding_etag_matches(const char *h, const char *etag)
{
    size_t len = strlen(etag);
    while (h && *h) {
        while (*h == ' ' || *h == '\t' || *h == ',')
            h++;
        if (*h == '*')
            return 1;
        if (!strncmp(h, "W/", 2))
            h += 2;
        if (!strncmp(h, etag, len) && (h[len] == '\0' || h[len] == ',' || h[len] == ' '))
            return 1;
        h += strcspn(h, ",");
    }
    return 0;
}
