/* area: geodesic ring areas on the CGCS2000 ellipsoid through PROJ's
 * geodesic routines (Karney's algorithm, exact to round-off). Owns only the
 * ellipsoid's constants, set once and read-only afterwards; rings belong to
 * the caller. Polygons with holes are geom.c's. */
#include "area.h"

#include <geodesic.h>
#include <math.h>
#include <pthread.h>

/* CGCS2000 uses the GRS80 ellipsoid. */
#define CGCS2000_A 6378137.0
#define CGCS2000_INV_F 298.257222101

static struct geod_geodesic cgcs2000;
static pthread_once_t cgcs2000_once = PTHREAD_ONCE_INIT;

static void init_cgcs2000(void)
{
    geod_init(&cgcs2000, CGCS2000_A, 1.0 / CGCS2000_INV_F);
}

double area_ring_m2(const double *lonlat, size_t n)
{
    struct geod_polygon poly;
    double area = 0;
    pthread_once(&cgcs2000_once, init_cgcs2000);
    /* a closing point equal to the first adds nothing: leave it out */
    if (n > 1 && lonlat[0] == lonlat[2 * (n - 1)] && lonlat[1] == lonlat[2 * (n - 1) + 1])
        n--;
    if (n < 3)
        return 0;
    geod_polygon_init(&poly, 0);
    for (size_t i = 0; i < n; i++)
        geod_polygon_addpoint(&cgcs2000, &poly, lonlat[2 * i + 1], lonlat[2 * i]);
    /* sign = 1: a clockwise ring gives a negative area rather than the
     * area of the rest of the earth */
    geod_polygon_compute(&cgcs2000, &poly, 0, 1, &area, NULL);
    return fabs(area);
}
