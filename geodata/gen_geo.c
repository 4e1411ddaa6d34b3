/* gen_geo: the local metric frame around the county seat and geodesic areas
 * on the CGCS2000 ellipsoid (GRS80 parameters) through PROJ's geodesic.h.
 * The frame is a plain equirectangular one: good enough to lay out
 * illustrative shapes; every area that matters is measured geodesically on
 * the rounded lon/lat that is finally written. */
#include "gen.h"

#include <geodesic.h>
#include <math.h>
#include <stdlib.h>

#define GRS80_A 6378137.0
#define GRS80_F (1.0 / 298.257222101)

struct geo {
    struct geod_geodesic g;
    double m_per_deg_lon, m_per_deg_lat;
    double *lat, *lon; /* scratch for geod_polygonarea */
    int cap;
};

struct geo *geo_new(void)
{
    struct geo *g = calloc(1, sizeof *g);
    double phi, e2, w;
    if (!g)
        return NULL;
    geod_init(&g->g, GRS80_A, GRS80_F);
    phi = GEN_LAT0 * M_PI / 180.0;
    e2 = GRS80_F * (2.0 - GRS80_F);
    w = sqrt(1.0 - e2 * sin(phi) * sin(phi));
    /* meridian and prime-vertical radii of curvature at GEN_LAT0 */
    g->m_per_deg_lat = GRS80_A * (1.0 - e2) / (w * w * w) * M_PI / 180.0;
    g->m_per_deg_lon = GRS80_A / w * cos(phi) * M_PI / 180.0;
    return g;
}

void geo_free(struct geo *g)
{
    if (!g)
        return;
    free(g->lat);
    free(g->lon);
    free(g);
}

struct nd geo_nd(const struct geo *g, struct xy m)
{
    struct nd p;
    p.x = llround((GEN_LON0 + m.x / g->m_per_deg_lon) * 1e9);
    p.y = llround((GEN_LAT0 + m.y / g->m_per_deg_lat) * 1e9);
    return p;
}

static int reserve(struct geo *g, int n)
{
    double *lat, *lon;
    if (n <= g->cap)
        return 0;
    lat = realloc(g->lat, (size_t)n * sizeof *lat);
    if (!lat)
        return -1;
    g->lat = lat;
    lon = realloc(g->lon, (size_t)n * sizeof *lon);
    if (!lon)
        return -1;
    g->lon = lon;
    g->cap = n;
    return 0;
}

double geo_area_m2(struct geo *g, const struct nd *ring, int n)
{
    double area = 0.0, perimeter = 0.0;
    int i;
    if (reserve(g, n) < 0)
        return NAN;
    for (i = 0; i < n; i++) {
        g->lon[i] = (double)ring[i].x / 1e9;
        g->lat[i] = (double)ring[i].y / 1e9;
    }
    geod_polygonarea(&g->g, g->lat, g->lon, n, &area, &perimeter);
    return area;
}
