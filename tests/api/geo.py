"""Independent reference geometry for the black-box tests: geodesic areas on
the CGCS2000/GRS80 ellipsoid through the Lambert cylindrical equal-area
projection (exact for lon/lat-aligned rectangles, within 1e-6 for small
polygons), and helpers to build GeoJSON test data. Standard library only."""
import json
import math
import os
import tempfile

A = 6378137.0
F = 1 / 298.257222101
E2 = F * (2 - F)
E = math.sqrt(E2)
MU = 10000.0 / 15.0


def _q(phi):
    s = math.sin(phi)
    return (1 - E2) * (s / (1 - E2 * s * s) - (1 / (2 * E)) * math.log((1 - E * s) / (1 + E * s)))


def equal_area_xy(lon, lat):
    return A * math.radians(lon), A * _q(math.radians(lat)) / 2


def ring_area(ring):
    pts = [equal_area_xy(x, y) for x, y in ring]
    s = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def polygon_area(rings):
    return ring_area(rings[0]) - sum(ring_area(r) for r in rings[1:])


def rect_area(minx, miny, maxx, maxy):
    if minx >= maxx or miny >= maxy:
        return 0.0
    return ring_area([(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy)])


def rect_ring(minx, miny, maxx, maxy):
    return [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]


def rect_clip(a, b):
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def feature(props, rect=None, rings=None):
    coords = [rect_ring(*rect)] if rect else rings
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Polygon", "coordinates": coords}}


def write_fc(features, path=None):
    if path is None:
        fd, path = tempfile.mkstemp(suffix=".geojson")
        os.close(fd)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False)
    return path
