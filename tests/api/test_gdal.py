"""GDAL's OAPIF driver (Debian gdal-bin) as a client of the running server:
ogrinfo lists the six collections with their feature counts, ogr2ogr reads
every feature of every layer back, and GDAL's bbox and attribute filters
(which it sends as bbox= and {property}=) give the expected features.
GDAL's OGCAPI driver opens the parcels' vector tileset (OGC API - Tiles:
tilesets, tileset, WebMercatorQuad tile matrix set) and the parcels are read
through it. Runs on the demo database when geodata/demo/ has landed, else on
a data set built here; expectations come from the source files, not from the
server."""
import json
import math
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


# ---- OGC API - Tiles through GDAL's OGCAPI driver ---------------------------

# GDAL releases before 3.7.1 were built (with CMake) without the OGCAPI
# driver's vector-tile layers: the block that creates them is compiled only
# with OGR_ENABLE_DRIVER_GML, which the driver's CMakeLists did not define
# until GDAL pull request 7993 (in 3.7.1). Debian 12's GDAL 3.6.2 opens the
# tileset and its tile matrix set, then has no layer to offer and fails
# without a message. There the test reads the tiles the tileset points at
# with GDAL's MVT driver, the one the OGCAPI driver reads each tile with.
OGCAPI_VECTOR_TILES = (3, 7, 1)
TILES_Z = 14
WEBMERC_R = 6378137.0


def gdal_version():
    m = re.match(r"GDAL (\d+)\.(\d+)\.(\d+)", tool("ogrinfo", "--version"))
    check(m, "ogrinfo --version")
    return tuple(int(v) for v in m.groups())


def parcels_merc_bounds():
    """The parcels' extent (the collection's CRS84 bbox) in EPSG:3857."""
    b = S.get_json("/collections/parcels")["extent"]["spatial"]["bbox"][0]

    def merc(lon, lat):
        return (WEBMERC_R * math.radians(lon),
                WEBMERC_R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))
    (x0, y0), (x1, y1) = merc(b[0], b[1]), merc(b[2], b[3])
    return x0, y0, x1, y1


def ogcapi_tiles(opts, layer=None):
    """ogrinfo (with opts) on OGCAPI:.../collections/parcels with API=TILES;
    returns the CompletedProcess (stderr holds GDAL's debug messages: the
    URLs it fetched). The bounds are given in the tile matrix set's CRS:
    GDAL's driver takes the collection's CRS84 bbox as if it were in that CRS
    when it lays out vector tile layers."""
    x0, y0, x1, y1 = parcels_merc_bounds()
    exe = shutil.which("ogrinfo")
    check(exe, "ogrinfo not found: install gdal-bin (it is a test dependency)")
    cmd = [exe, "-ro", *opts, f"OGCAPI:{S.base}/collections/parcels", "-oo", "API=TILES",
           "-oo", f"MINX={x0!r}", "-oo", f"MINY={y0!r}", "-oo", f"MAXX={x1!r}",
           "-oo", f"MAXY={y1!r}"]
    if layer:
        cmd.append(layer)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, CPL_DEBUG="ON"))


def link(doc, rel, type_="application/json"):
    hits = [ln["href"] for ln in doc["links"] if ln["rel"] == rel and ln.get("type") == type_]
    check(hits, f"no {rel} link of type {type_} in {doc['links']}")
    return hits[0]


def path_of(href):
    check(href.startswith(S.base), f"link {href} is not on {S.base}")
    return href[len(S.base):]


def parcel_rows(text):
    """(code, dlbm, area_mu) of every feature ogrinfo printed."""
    rows = []
    for block in re.split(r"^OGRFeature\(", text, flags=re.M)[1:]:
        code = re.search(r"^\s+code \(String\) = (\S+)$", block, re.M)
        dlbm = re.search(r"^\s+dlbm \(String\) = (\S+)$", block, re.M)
        mu = re.search(r"^\s+area_mu \(Real\) = (\S+)$", block, re.M)
        check(code and dlbm and mu, f"a feature without code, dlbm or area_mu:\n{block[:800]}")
        rows.append((code.group(1), dlbm.group(1), float(mu.group(1))))
    return rows


OGCAPI_OPEN = {}


def test_ogcapi_tiles_tile_matrix_set():
    """GDAL follows collection -> tilesets-vector -> tileset -> tiling-scheme
    and takes the tile matrix set without an error (it reported 'Destination
    buffer too small' and 'Invalid tiling matrix set name' before)."""
    p = ogcapi_tiles(["-so"])
    OGCAPI_OPEN["ok"] = p.returncode == 0
    fetched = re.findall(r"Fetch\((\S+)\)", p.stderr)
    want = [S.base + u for u in ("/collections/parcels", "/collections/parcels/tiles",
                                 "/collections/parcels/tiles/WebMercatorQuad",
                                 "/tileMatrixSets/WebMercatorQuad")]
    eq(fetched[:4], want, "the documents GDAL's OGCAPI driver fetched")
    # GDAL 3.7 to 3.9.1 also say this of any tileset without raster tiles
    # (GDAL pull request 10415): not about this server
    noise = "Server does not support specified IMAGE_FORMAT: AUTO"
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("ERROR") and noise not in ln]
    eq(errors, [], "GDAL's errors on the tileset and tile matrix set")
    layers = re.findall(r"^\d+: Zoom level (\d+)", p.stdout, re.M)
    if p.returncode == 0:
        check(str(TILES_Z) in layers, f"no 'Zoom level {TILES_Z}' layer:\n{p.stdout}")
        return
    version = gdal_version()
    check(version < OGCAPI_VECTOR_TILES,
          f"GDAL {version} did not open the tileset (rc {p.returncode}):\n{p.stderr[-3000:]}")
    print(f"note: GDAL {'.'.join(map(str, version))} has no OGCAPI vector tile layers "
          f"(fixed in {'.'.join(map(str, OGCAPI_VECTOR_TILES))}); reading the tileset's "
          "tiles with its MVT driver instead", flush=True)


def tileset_tiles_via_mvt_driver():
    """What the OGCAPI driver does per tile, for a GDAL without its vector
    tile layers: the links it follows, the item template filled from the
    tileset's limits at TILES_Z, each tile read by GDAL's MVT driver."""
    coll = S.get_json("/collections/parcels")
    rel = "http://www.opengis.net/def/rel/ogc/1.0/"
    tilesets = S.get_json(path_of(link(coll, rel + "tilesets-vector")))
    one = [t for t in tilesets["tilesets"] if t["dataType"] == "vector"][0]
    tileset = S.get_json(path_of(link(one, "self")))
    template = link(tileset, "item", "application/vnd.mapbox-vector-tile")
    tms = S.get_json(path_of(link(tileset, rel + "tiling-scheme")))
    # what this GDAL's tile matrix set reader (TMS 1.0) needs besides 2.0
    eq([tms.get("identifier"), tms.get("supportedCRS")], [tms["id"], tms["crs"]],
       "the tile matrix set's TMS 1.0 identifier and supportedCRS")
    lim = [x for x in tileset["tileMatrixSetLimits"] if x["tileMatrix"] == str(TILES_Z)][0]
    out = []
    for row in range(lim["minTileRow"], lim["maxTileRow"] + 1):
        for col in range(lim["minTileCol"], lim["maxTileCol"] + 1):
            url = (template.replace("{tileMatrix}", str(TILES_Z)).replace("{tileRow}", str(row))
                   .replace("{tileCol}", str(col)))
            r = S.get(path_of(url))
            if r.status == 204:
                continue
            eq(r.status, 200, f"tile {url}")
            name = os.path.join(TMP, f"{TILES_Z}-{row}-{col}.pbf")
            with open(name, "wb") as f:
                f.write(r.body)
            out.append(tool("ogrinfo", "-ro", "-q", "-al", "-oo", f"Z={TILES_Z}",
                            "-oo", f"X={col}", "-oo", f"Y={row}", name))
    check(out, f"no tile at tile matrix {TILES_Z} has data")
    return "\n".join(out)


def test_ogcapi_tiles_reads_parcels():
    """The parcels read through the tileset are the API's own: every parcel
    code, with its land class and 亩, as the items response of the same
    server gives them."""
    check("ok" in OGCAPI_OPEN, "test_ogcapi_tiles_tile_matrix_set runs first")
    if OGCAPI_OPEN["ok"]:
        p = ogcapi_tiles(["-q"], f"Zoom level {TILES_Z}")
        eq(p.returncode, 0, f"ogrinfo 'Zoom level {TILES_Z}':\n{p.stderr[-3000:]}")
        text = p.stdout
    else:
        text = tileset_tiles_via_mvt_driver()
    rows = parcel_rows(text)
    items = S.get_json("/collections/parcels/items?limit=10000")
    eq(len(items["features"]), items["numberMatched"], "parcels in one items page")
    api = {f["properties"]["code"]: f["properties"] for f in items["features"]}
    check(rows, "no parcel read through the tileset")
    for code, dlbm, mu in rows:
        check(code in api, f"parcel code {code} read through the tileset is not in the API")
        eq(dlbm, api[code]["dlbm"], f"dlbm of parcel {code}")
        near(mu, api[code]["area_mu"], 1e-3, f"area_mu of parcel {code}")
    # a tile's features are clipped to the tile: a parcel across tiles comes
    # once per tile, and every parcel comes at least once
    eq(sorted({r[0] for r in rows}), sorted(api), "parcel codes read through the tileset")


def test_no_server_errors():
    bad = [d for d in S.access_log() if d["status"] >= 400]
    eq(bad, [], "4xx/5xx answers to GDAL")


TESTS = [test_gdal_is_installed, test_ogrinfo_lists_collections, test_ogrinfo_feature_counts,
         test_ogr2ogr_reads_every_feature, test_ogr_filters, test_ogcapi_tiles_tile_matrix_set,
         test_ogcapi_tiles_reads_parcels, test_no_server_errors]

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
