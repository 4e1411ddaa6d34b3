/* params: query parameter parsers. */
#include "params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cql2.h"
#include "crs.h"

int params_ll(const char *s, long long *v)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9')
        return -1;
    *v = strtoll(s, &end, 10);
    return (*end || errno) ? -1 : 0;
}

int params_double(const char *name, const char *s, double *v, struct err *e)
{
    char *end;
    errno = 0;
    *v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(*v))
        return err_set(e, ERR_PARAM, "%s: expected a number, got '%s'", name, s ? s : "");
    return 0;
}

int params_bbox(const char *name, const char *s, double out[4], struct err *e)
{
    double v[6];
    int n = 0;
    const char *p = s;
    char *end;
    for (;;) {
        double d;
        errno = 0;
        d = strtod(p, &end);
        if (end == p || errno || !isfinite(d) || fabs(d) > 1e12 || (*end && *end != ',') ||
            n == 6)
            return err_set(e, ERR_PARAM, "%s: expected 4 or 6 numbers separated by commas, "
                           "got '%s'", name, s);
        v[n++] = d;
        if (!*end)
            break;
        p = end + 1;
    }
    if (n == 4)
        memcpy(out, v, 4 * sizeof *v);
    else if (n == 6)
        out[0] = v[0], out[1] = v[1], out[2] = v[3], out[3] = v[4];
    else
        return err_set(e, ERR_PARAM, "%s: expected 4 or 6 numbers, got %d", name, n);
    return 0;
}

int params_crs(struct req *r, const char *name, int *crs, struct err *e)
{
    const char *v = req_param(r, name);
    if (!v)
        return 0;
    if (crs_parse(v, crs, e))
        return err_prefix(e, "%s", name);
    return 1;
}

int params_bool(struct req *r, const char *name, int *v, struct err *e)
{
    const char *s = req_param(r, name);
    if (!s)
        return 0;
    if (!strcmp(s, "true") || !strcmp(s, "1"))
        *v = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "0"))
        *v = 0;
    else
        return err_set(e, ERR_PARAM, "%s: expected true or false, got '%s'", name, s);
    return 0;
}

int params_area(struct req *r, struct qarea_spec *sp, struct err *e)
{
    const char *bbox = req_param(r, "bbox"), *geom = req_param(r, "geometry");
    const char *within = req_param(r, "within");
    int rc, n = !!bbox + !!geom + !!within;
    memset(sp, 0, sizeof *sp);
    sp->crs = CRS_CRS84;
    sp->axis = CRS_AXIS_AUTHORITY;
    if (n > 1)
        return err_set(e, ERR_PARAM, "give only one of bbox, geometry and within");
    if (bbox) {
        sp->kind = QAREA_BBOX;
        sp->param = "bbox";
        if ((rc = params_bbox("bbox", bbox, sp->bbox, e)) ||
            (rc = params_crs(r, "bbox-crs", &sp->crs, e)) < 0)
            return rc;
    } else if (geom) {
        sp->kind = QAREA_WKT;
        sp->param = "geometry";
        sp->text = geom;
        sp->text_len = strlen(geom);
        if ((rc = params_crs(r, "geometry-crs", &sp->crs, e)) < 0)
            return rc;
    } else if (within) {
        sp->kind = QAREA_WITHIN;
        sp->param = "within";
        sp->within = within;
    }
    return params_bool(r, "make_valid", &sp->make_valid, e);
}

int params_filter(struct req *r, struct cql2_node **ast, int *crs, int *axis, struct err *e)
{
    const char *text = req_param(r, "filter"), *lang = req_param(r, "filter-lang");
    int rc;
    *ast = NULL;
    *crs = CRS_CRS84;
    *axis = CRS_AXIS_AUTHORITY;
    if (lang && strcmp(lang, "cql2-text"))
        return err_set(e, ERR_PARAM, "filter-lang: '%s' is not supported (only cql2-text)", lang);
    if ((rc = params_crs(r, "filter-crs", crs, e)) < 0)
        return rc;
    return text ? cql2_parse(text, ast, e) : 0;
}

int params_asof(struct req *r, struct err *e)
{
    const char *v = req_param(r, "asof");
    char now[INSTANT_LEN];
    int rc;
    r->asof[0] = '\0';
    if (!v)
        return 0;
    if ((rc = instant_parse(v, r->asof, "asof", e)))
        return rc;
    instant_now(now);
    if (strcmp(r->asof, now) > 0) {
        r->asof[0] = '\0';
        return err_set(e, ERR_PARAM, "asof: '%.60s' is in the future (the map is known up to now)",
                       v);
    }
    if (r->w)
        ctx_set_asof(r->w->ctx, r->asof);
    return 0;
}
