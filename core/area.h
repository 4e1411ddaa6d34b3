/* area: geodesic areas on the CGCS2000 ellipsoid (GRS80), as the land surveys
 * compute them, and the units users read them in. */
#ifndef ONEMAP_AREA_H
#define ONEMAP_AREA_H

#include <stddef.h>

#define AREA_M2_PER_MU (10000.0 / 15.0)
#define AREA_M2_PER_HA 10000.0

/* Absolute geodesic area in m2 of one ring given as n lon/lat points
 * (interleaved, stride 2; closed or not). */
double area_ring_m2(const double *lonlat, size_t n);

static inline double area_mu(double m2) { return m2 / AREA_M2_PER_MU; }
static inline double area_ha(double m2) { return m2 / AREA_M2_PER_HA; }

#endif
