"""GDAL's OAPIF driver (Debian gdal-bin) as a client of the running server:
ogrinfo lists the six collections with their feature counts, ogr2ogr reads
every feature of every layer back, and GDAL's bbox and attribute filters
(which it sends as bbox= and {property}=) give the expected features.
Runs on the demo database when geodata/demo/ has landed, else on a data set
built here; expectations come from the source files, not from the server."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import fixtures as fx
import harness
from harness import check, eq, near

S = None
TMP = tempfile.mkdtemp(prefix="onemap-gdal-")
DEMO = harness.demo_available()


def source_layers():
    """{collection: FeatureCollection} the server was loaded from."""
    if DEMO:
        out = {}
        for c in harness.COLLECTIONS:
            with open(os.path.join(harness.SRC, "geodata", "demo", c + ".geojson"),
                      encoding="utf-8") as f:
                out[c] = json.load(f)
        return out
    layers = fx.small_layers()
    layers["parcels"] = fx.parcels_fc()
    layers["communities"] = fx.communities_fc(1234)
    return layers


SOURCE = source_layers()


def tool(*args, debug=False):
    """Runs a GDAL program; returns stdout, or stderr with GDAL's debug
    messages (the URLs it fetches) when debug is set."""
    exe = shutil.which(args[0])
    if not exe:
        raise AssertionError(f"{args[0]} not found: install gdal-bin (it is a test dependency)")
    env = dict(os.environ, CPL_DEBUG="ON") if debug else None
    p = subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=600, env=env)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p.stderr if debug else p.stdout


def url():
    return f"OAPIF:{S.base}"


def polygons(geom):
    if geom["type"] == "Polygon":
        return [geom["coordinates"]]
    check(geom["type"] == "MultiPolygon", f"geometry type {geom['type']}")
    return geom["coordinates"]


def touches_box(geom, b):
    """The geometry (with holes) intersects the lon/lat box b."""
    bx = fx.box(*b)
    for rings in polygons(geom):
        shell = [tuple(p) for p in rings[0][:-1]]
        if not fx.polygons_intersect(shell, bx):
            continue
        in_hole = False
        for hole in rings[1:]:
            h = [tuple(p) for p in hole[:-1]]
            if all(fx.point_in(c, h) for c in bx) and not any(
                    fx.segments_cross(bx[k], bx[(k + 1) % 4], h[m], h[(m + 1) % len(h)])
                    for k in range(4) for m in range(len(h))):
                in_hole = True
        if not in_hole:
            return True
    return False


def test_gdal_is_installed():
    out = tool("ogrinfo", "--formats")
    check(re.search(r"^\s*OAPIF", out, re.M), "GDAL has no OAPIF driver")


def test_ogrinfo_lists_collections():
    out = tool("ogrinfo", "-ro", "-so", url())
    names = re.findall(r"^\d+: (\w+)", out, re.M)
    eq(sorted(names), sorted(harness.COLLECTIONS), "layers GDAL lists")


def test_ogrinfo_feature_counts():
    for c in harness.COLLECTIONS:
        out = tool("ogrinfo", "-ro", "-al", "-so", url(), c)
        m = re.search(r"^Feature Count: (\d+)$", out, re.M)
        check(m, f"ogrinfo {c}: no feature count:\n{out}")
        n = len(SOURCE[c]["features"])
        check(n > 0, f"{c}: the source has features")
        eq(int(m.group(1)), n, f"ogrinfo feature count of {c}")
        eq(S.get_json(f"/collections/{c}/items?limit=1")["numberMatched"], n,
           f"numberMatched of {c}")
        for f in SOURCE[c]["features"][0]["properties"]:
            check(re.search(rf"^{re.escape(f)}: ", out, re.M), f"ogrinfo {c}: field {f}")


def test_ogr2ogr_reads_every_feature():
    for c in harness.COLLECTIONS:
        dst = os.path.join(TMP, c + ".geojson")
        tool("ogr2ogr", "-f", "GeoJSON", dst, url(), c)
        with open(dst, encoding="utf-8") as f:
            got = json.load(f)["features"]
        src = SOURCE[c]["features"]
        eq(len(got), len(src), f"ogr2ogr {c}: features read")
        eq(len(got), S.get_json(f"/collections/{c}/items?limit=1")["numberMatched"],
           f"ogr2ogr {c}: numberMatched")
        k = "code"
        by_key = {f["properties"][k]: f for f in got}
        eq(sorted(by_key), sorted(f["properties"][k] for f in src), f"ogr2ogr {c}: keys")
        for f in src:
            g = by_key[f["properties"][k]]
            for name, v in f["properties"].items():
                if isinstance(v, float):
                    near(g["properties"][name], v, 1e-9, f"{c}.{name}")
                elif isinstance(v, bool):
                    check(g["properties"][name] in (v, int(v)), f"{c}.{name}: {g['properties'][name]}")
                else:
                    eq(g["properties"][name], v, f"{c} {f['properties'][k]}.{name}")
            a = [p for rings in polygons(f["geometry"]) for r in rings for p in r]
            b = [p for rings in polygons(g["geometry"]) for r in rings for p in r]
            eq(len(b), len(a), f"{c} {f['properties'][k]}: positions")
            # rings may be rewound: compare as sets of positions to 1e-9 degrees
            for x, y in a:
                check(min(max(abs(x - u), abs(y - v)) for u, v in b) <= 1e-9,
                      f"{c} {f['properties'][k]}: ({x}, {y}) not read back")


def test_ogr_filters():
    feats = SOURCE["parcels"]["features"]
    xs = [p[0] for f in feats for r in polygons(f["geometry"]) for p in r[0]]
    ys = [p[1] for f in feats for r in polygons(f["geometry"]) for p in r[0]]
    if DEMO:
        cx, cy = sorted(xs)[len(xs) // 2], sorted(ys)[len(ys) // 2]
        b = (cx - 0.004, cy - 0.003, cx + 0.004, cy + 0.003)
    else:
        b = (118.4003, 29.1303, 118.4072, 29.1368)
    counts = {}
    for f in feats:
        counts[f["properties"]["dlbm"]] = counts.get(f["properties"]["dlbm"], 0) + 1
    dlbm = max(counts, key=counts.get)
    in_box = {f["properties"]["code"] for f in feats if touches_box(f["geometry"], b)}
    check(len(in_box) >= 3, f"the filter box should hold a few parcels, holds {len(in_box)}")
    want = sorted(c for c in in_box if [f for f in feats if f["properties"]["code"] == c][0]
                  ["properties"]["dlbm"] == dlbm)
    dst = os.path.join(TMP, "filtered.geojson")
    debug = tool("ogr2ogr", "-f", "GeoJSON", "-spat", *map(str, b), "-where",
                 f"dlbm = '{dlbm}'", dst, url(), "parcels", debug=True)
    with open(dst, encoding="utf-8") as f:
        got = sorted(x["properties"]["code"] for x in json.load(f)["features"])
    eq(got, want, f"ogr2ogr -spat {b} -where dlbm = '{dlbm}'")
    # GDAL had the server filter (bbox= and dlbm=) rather than download everything
    fetched = re.findall(r"Fetch\((\S+/collections/parcels/items\S*)\)", debug)
    filtered = [u for u in fetched if "bbox=" in u and f"dlbm={dlbm}" in u]
    check(filtered and all(u in filtered for u in fetched if "offset=" in u),
          f"GDAL's item requests: {fetched}")


def test_no_server_errors():
    bad = [d for d in S.access_log() if d["status"] >= 400]
    eq(bad, [], "4xx/5xx answers to GDAL")


TESTS = [test_gdal_is_installed, test_ogrinfo_lists_collections, test_ogrinfo_feature_counts,
         test_ogr2ogr_reads_every_feature, test_ogr_filters, test_no_server_errors]

if __name__ == "__main__":
    print("data: " + ("the demo database (geodata/demo)" if DEMO else
                      "a data set built by the test (geodata/demo/ not present)"))
    if DEMO:
        server = harness.Server(demo=True)
    else:
        server = harness.Server(demo=False, imports=list(SOURCE.items()))
    with server as S:
        failed = harness.run_all(TESTS)
    if not failed:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)
