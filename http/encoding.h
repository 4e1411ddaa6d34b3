/* encoding: the request headers behind conditional and compressed responses
 * (If-None-Match against an ETag, Accept-Encoding: gzip), shared by the
 * handlers that serve tiles and static files. */
#ifndef ONEMAP_ENCODING_H
#define ONEMAP_ENCODING_H

/* 1 when the Accept-Encoding header h (may be NULL) accepts gzip (q > 0). */
int encoding_accepts_gzip(const char *h);

/* 1 when the If-None-Match header h (may be NULL) lists etag, weakly or not,
 * or is "*". */
int encoding_etag_matches(const char *h, const char *etag);

#endif
