"""Coordinate reference systems against PROJ's own cs2cs: items output in
EPSG:4548, 4549, 4527, 4528, 3857, 4490 and 4326 (authority axis order),
imports in EPSG:4548 (--crs and a legacy "crs" member), and geodesic areas
of 1 km squares laid out in EPSG:4548, checked with an equal-area projection."""
import json
import os
import random
import sys
import urllib.parse

import fixtures as fx
import harness
from harness import check, eq, near

S = None
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
MU = 10000.0 / 15.0

# Parcels around 芹阳 with coordinates that are not round numbers; one with
# a hole, one MultiPolygon.
rnd = random.Random(4548)


def jitter_square(x, y, d):
    return [(round(px + rnd.uniform(-d / 5, d / 5), 9), round(py + rnd.uniform(-d / 5, d / 5), 9))
            for px, py in fx.square(x, y, d)]


SHAPES = []
for k in range(8):
    SHAPES.append({"type": "Polygon", "coordinates": [fx.ring_of(
        jitter_square(118.405 + 0.0031 * k, 29.135 + 0.0017 * k, 0.002))]})
SHAPES.append({"type": "Polygon", "coordinates": [
    fx.ring_of([(118.43, 29.15), (118.44, 29.15), (118.44, 29.16), (118.43, 29.16)]),
    fx.ring_of([(118.433, 29.153), (118.433, 29.157), (118.437, 29.157), (118.437, 29.153)])]})
SHAPES.append({"type": "MultiPolygon", "coordinates": [
    [fx.ring_of(jitter_square(118.45, 29.12, 0.003))],
    [fx.ring_of(jitter_square(118.46, 29.12, 0.003))]]})
PARCELS = fx.collection([{"type": "Feature", "geometry": g, "properties": {
    "code": f"CRS{k:02d}", "dlbm": "0101"}} for k, g in enumerate(SHAPES)])


def rings(geom):
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return [r for p in polys for r in p]


def stored():
    """code -> geometry as served in CRS84 (checked against the input below)."""
    fc = S.get_json("/collections/parcels/items?limit=1000")
    return {f["properties"]["code"]: (f["id"], f["geometry"]) for f in fc["features"]}


def test_crs84_is_the_input():
    got = stored()
    for f in PARCELS["features"]:
        fid, g = got[f["properties"]["code"]]
        eq(g["type"], f["geometry"]["type"], "geometry type")
        for r_got, r_in in zip(rings(g), rings(f["geometry"])):
            eq(len(r_got), len(r_in), "ring length")
            for (x, y), (ex, ey) in zip(r_got, r_in):
                near(x, ex, 1e-9, "CRS84 longitude")
                near(y, ey, 1e-9, "CRS84 latitude")


# (crs code, tolerance in output units): metres to 1 mm, degrees to 1e-9
TARGETS = [(4548, 1e-3), (4549, 1e-3), (4527, 1e-3), (4528, 1e-3), (3857, 1e-3),
           (4490, 1e-9), (4326, 1e-9)]


def compare_with_cs2cs(path_for, what):
    base = stored()
    for code, tol in TARGETS:
        uri = EPSG + str(code)
        pts_in, got = [], []
        for c, (fid, g84) in base.items():
            r = S.get(path_for(fid, uri))
            eq(r.status, 200, f"{what} crs={code}")
            eq(r.header("Content-Crs"), f"<{uri}>", f"{what} Content-Crs {code}")
            doc = r.json()
            g = doc["geometry"] if "geometry" in doc else \
                [f for f in doc["features"] if f["id"] == fid][0]["geometry"]
            eq([len(x) for x in rings(g)], [len(x) for x in rings(g84)], f"{what} {c} rings")
            pts_in += [(lat, lon) for ring in rings(g84) for lon, lat in ring]
            got += [(c, tuple(p)) for ring in rings(g) for p in ring]
        want = harness.cs2cs("EPSG:4490", f"EPSG:{code}", pts_in)
        for (c, (a, b)), (wa, wb) in zip(got, want):
            near(a, wa, tol, f"{what} {c} in EPSG:{code}, first axis")
            near(b, wb, tol, f"{what} {c} in EPSG:{code}, second axis")


def test_items_in_other_crs():
    compare_with_cs2cs(lambda fid, uri: f"/collections/parcels/items/{fid}?crs=" +
                       urllib.parse.quote(uri, safe=""), "item")
    compare_with_cs2cs(lambda fid, uri: "/collections/parcels/items?limit=100&crs=" + uri,
                       "items")


def test_axis_order():
    # sanity of the expectations themselves: 4548 is northing first near 芹阳
    (n, e), = harness.cs2cs("EPSG:4490", "EPSG:4548", [(29.14, 118.41)])
    check(3.2e6 < n < 3.3e6 and 6.3e5 < e < 6.4e5, f"cs2cs 4548 gives N, E: {n}, {e}")
    (n, e), = harness.cs2cs("EPSG:4490", "EPSG:4527", [(29.14, 118.41)])
    check(39.6e6 < e < 39.7e6, f"cs2cs 4527 easting carries the zone: {e}")
    fid = stored()["CRS00"][0]
    g = S.get_json(f"/collections/parcels/items/{fid}?crs=EPSG:4548")["geometry"]
    n, e = g["coordinates"][0][0]
    check(n > 3e6 and e < 1e6, f"crs=EPSG:4548 is northing, easting: {n}, {e}")
    g = S.get_json(f"/collections/parcels/items/{fid}?crs=" + urllib.parse.quote(
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84", safe=""))["geometry"]
    check(g["coordinates"][0][0][0] > 100, "CRS84 is longitude first")


# ---- imports in EPSG:4548 ---------------------------------------------------

def gk_points(e0, n0):
    """A ring of 5 points in EPSG:4548 (easting, northing), not round numbers."""
    return [(e0 + 0.123, n0 + 0.456), (e0 + 250.789, n0 + 3.21), (e0 + 247.5, n0 + 180.654),
            (e0 + 120.25, n0 + 260.125), (e0 - 10.333, n0 + 150.5)]


IMPORTS = {"GK-CLI": gk_points(636100.0, 3225400.0), "GK-MEMBER": gk_points(637100.0, 3226400.0)}


def export_parcels():
    p = harness.run("export", S.db, "parcels")
    return {f["properties"]["code"]: f for f in json.loads(p.stdout)["features"]}


def test_import_in_4548():
    exported = export_parcels()
    for code, pts in IMPORTS.items():
        ring = exported[code]["geometry"]["coordinates"][0]
        want = harness.cs2cs("EPSG:4548", "EPSG:4490", [(n, e) for e, n in pts], decimals=12)
        got = ring[:-1]
        eq(len(got), len(want), f"{code}: positions")
        # the stored ring may start anywhere and run either way: match by nearest
        for lat, lon in want:
            d = min(max(abs(x - lon), abs(y - lat)) for x, y in got)
            check(d <= 1e-8, f"{code}: ({lon}, {lat}) stored {d:.2e} deg away from cs2cs")
        # and back out in 4548: the surveyed coordinates again, to the millimetre
        fid = S.get_json(f"/collections/parcels/items?code={code}")["features"][0]["id"]
        g = S.get_json(f"/collections/parcels/items/{fid}?crs=EPSG:4548")["geometry"]
        for e, n in pts:
            d = min(max(abs(a - n), abs(b - e)) for a, b in g["coordinates"][0])
            check(d <= 1e-3, f"{code}: ({e}, {n}) comes back {d:.4f} m away")


# ---- geodesic areas ---------------------------------------------------------

def square_lonlat(e0, n0, side=1000.0):
    corners = [(n0, e0), (n0, e0 + side), (n0 + side, e0 + side), (n0 + side, e0)]
    return [(lon, lat) for lat, lon in harness.cs2cs("EPSG:4548", "EPSG:4490", corners,
                                                     decimals=12)]


def equal_area(lonlat):
    """Area in m² of a lon/lat polygon through an equal-area projection
    (Lambert azimuthal, GRS80 = the CGCS2000 ellipsoid) centred on it."""
    lon0 = sum(p[0] for p in lonlat) / len(lonlat)
    lat0 = sum(p[1] for p in lonlat) / len(lonlat)
    laea = f"+proj=laea +lat_0={lat0} +lon_0={lon0} +ellps=GRS80 +units=m"
    xy = harness.cs2cs("EPSG:4490", laea, [(lat, lon) for lon, lat in lonlat])
    return abs(sum(xy[k][0] * xy[(k + 1) % len(xy)][1] - xy[(k + 1) % len(xy)][0] * xy[k][1]
                   for k in range(len(xy)))) / 2


SQUARES = {"SQ-CM": square_lonlat(499500.0, 3224000.0),     # on the central meridian
           "SQ-QY": square_lonlat(636000.0, 3224000.0)}     # at 芹阳, 136 km east of it


def test_area_of_1km_squares():
    fc = S.get_json("/collections/farmland/items?limit=100")
    got = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    # on the central meridian the Gauss-Kruger scale is 1: 1 000 000 m²
    a = got["SQ-CM"]["area_m2"]
    check(abs(a - 1e6) <= 1e6 * 1e-4, f"1 km square on 117E: area_m2 {a}, expected 1e6 ± 0.01 %")
    # 136 km off it the projection enlarges lengths by ~2.3e-4, areas by ~4.5e-4:
    # the true area is the equal-area one, and it is not 1e6
    want = equal_area(SQUARES["SQ-QY"])
    check(abs(want - 1e6) > 1e6 * 3e-4, f"expectation {want} should differ from the plane area")
    a = got["SQ-QY"]["area_m2"]
    check(abs(a - want) <= want * 1e-4, f"1 km square at 118.4E: area_m2 {a}, expected {want}")
    check(abs(equal_area(SQUARES["SQ-CM"]) - 1e6) <= 1, "equal-area check of the CM square")
    for code in SQUARES:
        p = got[code]
        near(p["area_mu"], p["area_m2"] / MU, 1e-3, f"{code} area_mu")


TESTS = [test_crs84_is_the_input, test_axis_order, test_items_in_other_crs, test_import_in_4548,
         test_area_of_1km_squares]


def imports(tmp):
    cli = fx.collection([{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        fx.ring_of(IMPORTS["GK-CLI"])]}, "properties": {"code": "GK-CLI", "dlbm": "0101"}}])
    member = fx.collection([{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        fx.ring_of(IMPORTS["GK-MEMBER"])]}, "properties": {"code": "GK-MEMBER", "dlbm": "0101"}}])
    member["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}}
    squares = fx.collection([{"type": "Feature", "geometry": fx.polygon(pts), "properties": {
        "code": code, "crop": "水稻"}} for code, pts in SQUARES.items()])
    return [("parcels", PARCELS), ("parcels", cli, "--crs", "EPSG:4548"), ("parcels", member),
            ("farmland", squares)]


if __name__ == "__main__":
    with harness.Server(demo=False, imports=imports(None)) as S:
        failed = harness.run_all(TESTS)
    sys.exit(1 if failed else 0)
