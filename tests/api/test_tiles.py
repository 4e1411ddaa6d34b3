"""Vector tiles black-box, on the 芹阳 demo: OGC API Tiles discovery and
TileJSON members, tiles decoded by GDAL's MVT driver and by an independent
decoder (mvt_decode.py), feature ids equal to those of an items bbox query,
valid geometries wound as MVT 2.1 asks, coverage without gaps or overlaps
at every zoom, 204 / 304 / gzip, and every kind of bad z/y/x.
Tile maths here are the WebMercatorQuad formulas, written independently."""
import gzip
import math
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import mvt_decode  # noqa: E402

SRV = None
MVT = "application/vnd.mapbox-vector-tile"
EXTENT, BUFFER = 4096, 64
HALF = math.pi * 6378137.0


# ---- tile maths ----------------------------------------------------------

def lonlat_to_tile(lon, lat, z):
    """Fractional tile coordinates (column, row) of a point at zoom z."""
    n = 2 ** z
    r = math.radians(lat)
    return (lon + 180) / 360 * n, (1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n


def tile_lonlat(z, x, y):
    """The lon/lat extent of tile z/x/y: minlon, minlat, maxlon, maxlat."""
    n = 2 ** z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))
    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def to_units(lon, lat, z, x, y):
    """A lon/lat point in the tile units (0..4096, y down) of tile z/x/y."""
    fx, fy = lonlat_to_tile(lon, lat, z)
    return (fx - x) * EXTENT, (fy - y) * EXTENT


def grid_step(z):
    return 1 if z >= 14 else min(8, 2 ** (14 - z))


# ---- fetching and decoding -------------------------------------------------

def tile(path, headers=None):
    res = SRV.get(path, headers=headers)
    assert res.status in (200, 204), (path, res.status, res.body[:300])
    if res.status == 200:
        assert res.header("Content-Type") == MVT, res.header("Content-Type")
    return res


def decode(path):
    res = tile(path)
    return mvt_decode.decode(res.body) if res.status == 200 else {}, res.body


def gdal_features(data, z, x, y, sql=None):
    """Runs ogrinfo on the tile bytes; returns {layer: [mvt_id...]} or the
    SQL result's text."""
    with tempfile.NamedTemporaryFile(suffix=".pbf", delete=False) as f:
        f.write(data)
        name = f.name
    try:
        cmd = ["ogrinfo", "-ro", "-q", "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}",
               "-oo", "CLIP=NO"]
        cmd += ["-dialect", "sqlite", "-sql", sql, name] if sql else ["-al", name]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
    finally:
        os.unlink(name)
    if sql:
        return out.stdout
    ids, layer = {}, None
    for line in out.stdout.splitlines():
        m = re.match(r"OGRFeature\((\w+)\):", line)
        if m:
            layer = m.group(1)
        m = re.match(r"\s+mvt_id \(Integer64\) = (\d+)", line)
        if m:
            ids.setdefault(layer, []).append(int(m.group(1)))
    return ids


def items(collection, bbox):
    res = SRV.get(f"/collections/{collection}/items?limit=10000&bbox="
                  + ",".join(f"{v:.10f}" for v in bbox))
    assert res.status == 200, res.body[:300]
    return res.json()["features"]


def extent(collection):
    res = SRV.get(f"/collections/{collection}")
    return res.json()["extent"]["spatial"]["bbox"][0]


def tiles_over(bbox, z):
    x0, y0 = lonlat_to_tile(bbox[0], bbox[3], z)
    x1, y1 = lonlat_to_tile(bbox[2], bbox[1], z)
    return [(int(x), int(y)) for x in range(int(x0), int(x1) + 1)
            for y in range(int(y0), int(y1) + 1)]


# ---- geometry in tile units ------------------------------------------------

def inside(ring, px, py):
    """Crossing-number test; ring is a list of (x, y), not closed."""
    c = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        if (y0 > py) != (y1 > py) and px < x0 + (py - y0) * (x1 - x0) / (y1 - y0):
            c = not c
    return c


def covers(polys, px, py):
    return any(inside(p[0], px, py) and not any(inside(h, px, py) for h in p[1:]) for p in polys)


def seg_dist(px, py, a, b):
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    t = 0 if dx == dy == 0 else max(0, min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - x0 - t * dx, py - y0 - t * dy)


def near_edge(rings, px, py, tol):
    for r in rings:
        for a, b in zip(r, r[1:] + r[:1]):
            if min(a[0], b[0]) - tol <= px <= max(a[0], b[0]) + tol and \
               min(a[1], b[1]) - tol <= py <= max(a[1], b[1]) + tol and seg_dist(px, py, a, b) <= tol:
                return True
    return False


def geojson_polys(geom, z, x, y):
    """A GeoJSON (Multi)Polygon in tile units: [[exterior, hole...]...]."""
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return [[[to_units(lon, lat, z, x, y) for lon, lat in ring[:-1]] for ring in p] for p in polys]


def check_tile_structure(t):
    """MVT 2.1 rules every decoded layer must follow; returns the features'
    polygons by layer as {layer: {id: polygons}}."""
    out = {}
    for name, layer in t.items():
        assert layer["version"] == 2 and layer["extent"] == EXTENT, (name, layer["version"])
        assert len(set(layer["keys"])) == len(layer["keys"]), "keys repeat"
        seen = out.setdefault(name, {})
        for f in layer["features"]:
            assert f["type"] == 3 and f["id"] and f["id"] not in seen, (name, f["id"])
            assert "area_mu" in f["tags"], f["tags"]
            polys = mvt_decode.polygons(f["rings"])  # raises on holes first or zero area
            assert polys, (name, f["id"])
            for r in f["rings"]:
                assert len(r) >= 3
                for (ax, ay), (bx, by) in zip(r, r[1:] + r[:1]):
                    assert (ax, ay) != (bx, by), "repeated point"
                for (ax, ay), (bx, by), (cx, cy) in zip(r, r[1:] + r[:1], r[2:] + r[:2]):
                    assert (bx - ax) * (cy - by) - (by - ay) * (cx - bx) != 0, "collinear vertex"
                for px, py in r:
                    assert -BUFFER <= px <= EXTENT + BUFFER and -BUFFER <= py <= EXTENT + BUFFER
            seen[f["id"]] = polys
    return out


# ---- tests -------------------------------------------------------------------

def test_discovery():
    conf = SRV.get("/conformance").json()["conformsTo"]
    for c in ["core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"]:
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{c}" in conf, c
    coll = SRV.get("/collections/parcels").json()
    links = [ln for ln in coll["links"]
             if ln["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]
    assert links and links[0]["href"].endswith("/collections/parcels/tiles"), coll["links"]
    ts = SRV.get("/collections/parcels/tiles").json()
    assert len(ts["tilesets"]) == 1
    one = ts["tilesets"][0]
    assert one["dataType"] == "vector"
    assert one["tileMatrixSetURI"] == \
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    rels = {ln["rel"]: ln for ln in one["links"]}
    assert rels["self"]["href"].endswith("/collections/parcels/tiles/WebMercatorQuad")
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]["href"].endswith(
        "/tileMatrixSets/WebMercatorQuad")
    item = rels["item"]
    assert item["type"] == MVT and item["templated"] is True
    assert item["href"].endswith(
        "/collections/parcels/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    api = SRV.get("/api").json()["paths"]
    assert "/collections/parcels/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}" in api
    assert "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}" in api
    assert "/tileMatrixSets/WebMercatorQuad" in api
    assert SRV.get("/collections/nosuch/tiles").status == 404
    assert SRV.get("/collections/nosuch/tiles/WebMercatorQuad").status == 404
    assert SRV.get("/collections/parcels/tiles/WorldCRS84Quad").status == 404
    assert SRV.get("/tileMatrixSets/WorldCRS84Quad").status == 404
    assert SRV.get("/tiles").json()["tilesets"][0]["links"]


def test_tile_matrix_set():
    lst = SRV.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in lst] == ["WebMercatorQuad"]
    tms = SRV.get("/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad"
    assert tms["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert tms["uri"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    assert len(tms["tileMatrices"]) == 25
    for z, m in enumerate(tms["tileMatrices"]):
        cell = 2 * HALF / 256 / 2 ** z
        assert m["id"] == str(z)
        assert m["matrixWidth"] == m["matrixHeight"] == 2 ** z
        assert m["tileWidth"] == m["tileHeight"] == 256
        assert abs(m["cellSize"] - cell) <= 1e-9 * cell
        assert abs(m["scaleDenominator"] - cell / 0.00028) <= 1e-9 * cell / 0.00028
        assert abs(m["pointOfOrigin"][0] + HALF) < 1e-3 and abs(m["pointOfOrigin"][1] - HALF) < 1e-3
        assert m["cornerOfOrigin"] == "topLeft"


def test_tileset_metadata():
    for coll in ["parcels", "grids"]:
        meta = SRV.get(f"/collections/{coll}/tiles/WebMercatorQuad").json()
        assert meta["tilejson"] == "3.0.0"
        assert meta["tiles"][0].endswith(f"/collections/{coll}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}")
        assert meta["minzoom"] == 0 and meta["maxzoom"] == 24
        ext = extent(coll)
        b = meta["bounds"]
        assert b[0] <= ext[0] + 1e-6 and b[1] <= ext[1] + 1e-6
        assert b[2] >= ext[2] - 1e-6 and b[3] >= ext[3] - 1e-6
        assert b[2] - b[0] < ext[2] - ext[0] + 1e-3
        vl = meta["vector_layers"]
        assert [v["id"] for v in vl] == [coll]
        queryables = SRV.get(f"/collections/{coll}/queryables").json()["properties"]
        fields = set(vl[0]["fields"])
        assert fields == set(queryables) - {"geometry", "area_m2"}, (fields, set(queryables))
        assert meta["layers"][0]["id"] == coll
        # the limits are the tiles over the bounds
        for lim in meta["tileMatrixSetLimits"]:
            z = int(lim["tileMatrix"])
            x0, y0 = lonlat_to_tile(b[0], b[3], z)
            x1, y1 = lonlat_to_tile(b[2], b[1], z)
            assert (lim["minTileCol"], lim["maxTileCol"]) == (int(x0), int(x1)), lim
            assert (lim["minTileRow"], lim["maxTileRow"]) == (int(y0), int(y1)), lim
    every = SRV.get("/tiles/WebMercatorQuad").json()
    assert {v["id"] for v in every["vector_layers"]} == {
        "villages", "grids", "parcels", "farmland", "demolition_sites", "communities"}
    assert every["tiles"][0].endswith("/tiles/WebMercatorQuad/{z}/{y}/{x}")


def test_z16_ids_match_items():
    """The feature ids in a z16 tile are the ids an items bbox query finds
    for the tile's lon/lat extent, decoded by GDAL and by mvt_decode."""
    rnd = random.Random(16)
    candidates = tiles_over(extent("parcels"), 16)
    checked = 0
    for x, y in rnd.sample(candidates, 8):
        path = f"/tiles/WebMercatorQuad/16/{y}/{x}?collections=parcels,grids"
        t, data = decode(path)
        bbox = tile_lonlat(16, x, y)
        want = {c: sorted(f["id"] for f in items(c, bbox)) for c in ["parcels", "grids"]}
        got = {c: sorted(f["id"] for f in t[c]["features"]) if c in t else [] for c in want}
        assert got == want, (x, y, got, want)
        if data:
            by_gdal = gdal_features(data, 16, x, y)
            assert {c: sorted(v) for c, v in by_gdal.items()} == {c: v for c, v in got.items() if v}
            checked += bool(want["parcels"])
    assert checked >= 4, checked


def test_geometries_valid():
    """Tiles at z12-z18 across the demo: GDAL finds every geometry valid;
    the independent decoder finds MVT 2.1's windings and no repeated or
    collinear vertices."""
    rnd = random.Random(12)
    ext = extent("villages")
    for z in range(12, 19):
        cand = tiles_over(ext, z)
        for x, y in rnd.sample(cand, min(2, len(cand))):
            t, data = decode(f"/tiles/WebMercatorQuad/{z}/{y}/{x}")
            check_tile_structure(t)
            if not t:
                continue
            out = gdal_features(data, z, x, y, sql=" UNION ALL ".join(
                f"SELECT '{layer}' AS l, count(*) AS n, sum(ST_IsValid(geometry)) AS v "
                f"FROM {layer}" for layer in t))
            rows = re.findall(r"l \(String\) = (\w+)\s+n \(Integer\) = (\d+)\s+"
                              r"v \(Integer\) = (\d+)", out)
            assert {r[0] for r in rows} == set(t), out
            for layer, n, v in rows:
                assert int(n) == len(t[layer]["features"]) == int(v), (z, x, y, layer, out)


def district_outline(villages, z, x, y):
    """Edges of the villages that no other village shares: the sub-district's
    outline, in tile units (the demo's neighbours share identical vertices)."""
    count = {}
    for f in villages:
        for poly in (f["geometry"]["coordinates"] if f["geometry"]["type"] == "MultiPolygon"
                     else [f["geometry"]["coordinates"]]):
            for ring in poly:
                for a, b in zip(ring, ring[1:]):
                    k = (tuple(a), tuple(b)) if tuple(a) < tuple(b) else (tuple(b), tuple(a))
                    count[k] = count.get(k, 0) + 1
    return [(to_units(*a, z, x, y), to_units(*b, z, x, y)) for (a, b), n in count.items() if n == 1]


def rect_crossed(edges, lo, hi):
    """Whether any edge meets the square lo..hi (tile units)."""
    def seg_hits(a, b):
        # Liang-Barsky clipping of a-b against the square
        t0, t1 = 0.0, 1.0
        dx, dy = b[0] - a[0], b[1] - a[1]
        for p, q in ((-dx, a[0] - lo), (dx, hi - a[0]), (-dy, a[1] - lo), (dy, hi - a[1])):
            if p == 0:
                if q < 0:
                    return False
            else:
                r = q / p
                if p < 0:
                    t0 = max(t0, r)
                else:
                    t1 = min(t1, r)
                if t0 > t1:
                    return False
        return True
    return any(seg_hits(a, b) for a, b in edges)


def clip_area2(ring, lo, hi):
    """Twice the signed area of ring clipped to the square lo..hi,
    computed exactly (Sutherland-Hodgman over fractions)."""
    from fractions import Fraction as Fr
    pts = [(Fr(x), Fr(y)) for x, y in ring]
    for axis, bound, keep_low in ((0, lo, False), (0, hi, True), (1, lo, False), (1, hi, True)):
        out = []
        for a, b in zip(pts, pts[1:] + pts[:1]):
            ina = a[axis] <= bound if keep_low else a[axis] >= bound
            inb = b[axis] <= bound if keep_low else b[axis] >= bound
            if ina:
                out.append(a)
            if ina != inb:
                t = (bound - a[axis]) / (b[axis] - a[axis])
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
        pts = out
        if not pts:
            return 0
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))


def bbox_of(polys):
    xs = [x for p in polys for x, _ in p[0]]
    ys = [y for p in polys for _, y in p[0]]
    return min(xs), min(ys), max(xs), max(ys)


def covers_fast(items_, px, py):
    return sum(1 for b, p in items_ if b[0] <= px <= b[2] and b[1] <= py <= b[3] and covers(p, px, py))


def test_coverage_without_gaps_or_overlaps():
    """Villages tile the sub-district, grids their village, micro-grids their
    grid, parcels their village. At every zoom from 10 to 18: no sample point
    is covered twice within a layer; points away from the original
    boundaries are covered as the original data covers them; and in tiles
    wholly inside the sub-district each layer covers the tile exactly (areas
    clipped to the tile add up to it, computed exactly)."""
    villages = SRV.get("/collections/villages/items?limit=10000").json()["features"]
    ext = extent("villages")
    cx, cy = (ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2
    full_tiles = 0
    for z in range(10, 19):
        step = grid_step(z)
        fx, fy = lonlat_to_tile(cx, cy, z)
        around = [(int(fx) + dx, int(fy) + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        for x, y in (around if z in (15, 17) else around[4:5]):
            t, _ = decode(f"/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=villages,grids,parcels")
            polys = check_tile_structure(t)
            levels = {f["id"]: f["tags"]["level"] for f in t["grids"]["features"]}
            layers = {
                "villages": list(polys["villages"].values()),
                "grid": [p for i, p in polys["grids"].items() if levels[i] == "网格"],
                "micro": [p for i, p in polys["grids"].items() if levels[i] == "微网格"],
            }
            if z >= 16:
                layers["parcels"] = list(polys.get("parcels", {}).values())
            indexed = {k: [(bbox_of(p), p) for p in v] for k, v in layers.items()}
            orig = [geojson_polys(f["geometry"], z, x, y) for f in villages]
            orig_indexed = [(bbox_of(p), p) for p in orig]
            orig_rings = [r for p in orig for poly in p for r in poly]
            n = 20
            for i in range(n):
                for j in range(n):
                    px = (i + 0.2718281828) * EXTENT / n
                    py = (j + 0.3141592653) * EXTENT / n
                    counts = {k: covers_fast(v, px, py) for k, v in indexed.items()}
                    assert max(counts.values()) <= 1, (z, x, y, px, py, counts)
                    want = covers_fast(orig_indexed, px, py)
                    if any(c != want for c in counts.values()):
                        assert near_edge(orig_rings, px, py, 1.5 * step), \
                            (z, x, y, px, py, counts, want)
            outline = district_outline(villages, z, x, y)
            if not rect_crossed(outline, 0, EXTENT) and covers_fast(orig_indexed, 1, 1):
                for k, v in layers.items():
                    got = sum(clip_area2(r, 0, EXTENT) for p in v for poly in p for r in poly)
                    assert got == 2 * EXTENT * EXTENT, (z, x, y, k, got)
                full_tiles += 1
    assert full_tiles >= 5, full_tiles


def test_z10_size():
    """A z10 tile over the whole sub-district stays within 500 KB."""
    ext = extent("villages")
    for x, y in tiles_over(ext, 10):
        res = tile(f"/tiles/WebMercatorQuad/10/{y}/{x}")
        assert len(res.body) <= 500 * 1024, len(res.body)
        if res.status == 200:
            check_tile_structure(mvt_decode.decode(res.body))


def test_empty_tiles():
    # far away; and the world tile, where the whole sub-district is below a pixel
    for path in ["/collections/parcels/tiles/WebMercatorQuad/16/0/0",
                 "/tiles/WebMercatorQuad/3/7/7", "/tiles/WebMercatorQuad/0/0/0"]:
        res = SRV.get(path)
        assert res.status == 204, (path, res.status)
        assert res.body == b"" and res.header("Content-Type") is None
    ext = extent("parcels")
    x, y = lonlat_to_tile(ext[0], ext[3], 18)
    res = SRV.get(f"/collections/parcels/tiles/WebMercatorQuad/18/{int(y) - 3}/{int(x) - 3}")
    assert res.status == 204


def center_tile(z, coll="parcels"):
    ext = extent(coll)
    x, y = lonlat_to_tile((ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2, z)
    return int(x), int(y)


def test_etag_304():
    x, y = center_tile(15)
    path = f"/collections/parcels/tiles/WebMercatorQuad/15/{y}/{x}"
    a = tile(path)
    etag = a.header("ETag")
    assert a.status == 200 and etag and etag.startswith('"') and etag.endswith('"')
    assert "no-cache" in (a.header("Cache-Control") or "")
    b = tile(path)
    assert b.body == a.body and b.header("ETag") == etag
    for inm in [etag, f'W/{etag}', f'"nope", {etag}', "*"]:
        c = SRV.get(path, headers={"If-None-Match": inm})
        assert c.status == 304 and c.body == b"" and c.header("ETag") == etag, inm
    d = SRV.get(path, headers={"If-None-Match": '"something-else"'})
    assert d.status == 200 and d.body == a.body
    # another tile has another ETag
    other = tile(f"/collections/parcels/tiles/WebMercatorQuad/15/{y}/{x + 1}")
    assert other.header("ETag") != etag or other.body == a.body
    # HEAD carries the ETag without a body
    h = SRV.request("HEAD", path)
    assert h.status == 200 and h.header("ETag") == etag and h.body == b""


def vary(res):
    """Every Vary header of a response, joined (there may be several)."""
    return ", ".join(res.headers.get_all("Vary") or [])


def test_gzip():
    x, y = center_tile(14)
    path = f"/tiles/WebMercatorQuad/14/{y}/{x}"
    plain = SRV.get(path)
    assert plain.status == 200 and plain.header("Content-Encoding") is None
    assert "Accept-Encoding" in vary(plain)
    for ae in ["gzip", "br, gzip;q=0.8, deflate", "*"]:
        z = SRV.get(path, headers={"Accept-Encoding": ae})
        assert z.status == 200 and z.header("Content-Encoding") == "gzip", ae
        assert "Accept-Encoding" in vary(z)
        assert gzip.decompress(z.body) == plain.body
        assert len(z.body) < len(plain.body)
        assert z.header("ETag") != plain.header("ETag")
        c = SRV.get(path, headers={"Accept-Encoding": ae, "If-None-Match": z.header("ETag")})
        assert c.status == 304
    for ae in ["gzip;q=0", "deflate", "identity"]:
        z = SRV.get(path, headers={"Accept-Encoding": ae})
        assert z.header("Content-Encoding") is None and z.body == plain.body, ae


def error(path, want):
    res = SRV.get(path)
    assert res.status == want, (path, res.status, res.body[:200])
    body = res.json()
    assert body["code"] and body["description"], body
    return body["description"]


def test_bad_tiles():
    base = "/collections/parcels/tiles/WebMercatorQuad"
    for z, y, x, what in [("abc", 0, 0, "tileMatrix"), ("1.5", 0, 0, "tileMatrix"),
                          ("-1", 0, 0, "tileMatrix"), ("+1", 0, 0, "tileMatrix"),
                          ("0x1", 0, 0, "tileMatrix"), (3, "a", 0, "tileRow"),
                          (3, -2, 0, "tileRow"), (3, 0, "1e3", "tileCol"),
                          (3, 0, "%20", "tileCol"), (3, 0, "99999999999", "tileCol")]:
        for prefix in [base, "/tiles/WebMercatorQuad"]:
            desc = error(f"{prefix}/{z}/{y}/{x}", 400)
            assert what in desc, (z, y, x, desc)
    for z, y, x, what in [(25, 0, 0, "tileMatrix"), (99, 0, 0, "tileMatrix"),
                          (3, 8, 0, "tileRow"), (3, 0, 8, "tileCol"), (0, 0, 1, "tileCol"),
                          (24, 2 ** 24, 0, "tileRow"), (10, 0, 1024, "tileCol")]:
        for prefix in [base, "/tiles/WebMercatorQuad"]:
            desc = error(f"{prefix}/{z}/{y}/{x}", 404)
            assert what in desc, (z, y, x, desc)
    assert SRV.get(f"{base}/24/{2 ** 24 - 1}/{2 ** 24 - 1}").status == 204
    error(f"{base}/3/0/0/1", 404)
    error(f"{base}/3/0", 404)
    error("/collections/nosuch/tiles/WebMercatorQuad/3/0/0", 404)
    assert "collections" in error("/tiles/WebMercatorQuad/3/0/0?collections=parcels,nosuch", 400)
    assert "collections" in error("/tiles/WebMercatorQuad/3/0/0?collections=", 400)
    error(f"{base}/3/0/0?foo=1", 400)
    res = SRV.request("POST", f"{base}/3/0/0", body="x")
    assert res.status == 405


def test_combined_layers():
    x, y = center_tile(14, "villages")
    t, _ = decode(f"/tiles/WebMercatorQuad/14/{y}/{x}?collections=parcels,villages")
    assert set(t) == {"parcels", "villages"}
    assert list(t) == ["villages", "parcels"]  # registry order
    same, _ = decode(f"/tiles/WebMercatorQuad/14/{y}/{x}?collections=villages,parcels,villages")
    assert same == t
    alone, _ = decode(f"/collections/parcels/tiles/WebMercatorQuad/14/{y}/{x}")
    assert alone["parcels"] == t["parcels"]
    every, _ = decode(f"/tiles/WebMercatorQuad/14/{y}/{x}")
    assert {"villages", "grids", "parcels"} <= set(every)
    f = t["parcels"]["features"][0]
    feat = SRV.get(f"/collections/parcels/items/{f['id']}").json()
    props = feat["properties"]
    for k, v in f["tags"].items():
        assert props[k] == v or (k == "area_mu" and abs(props[k] - v) < 1e-9), (k, v, props[k])
    assert set(f["tags"]) == {k for k, v in props.items() if v is not None} - {"area_m2"}


def main():
    global SRV
    with harness.Server(demo=True) as srv:
        SRV = srv
        harness.main([test_discovery, test_tile_matrix_set, test_tileset_metadata,
                      test_z16_ids_match_items, test_geometries_valid,
                      test_coverage_without_gaps_or_overlaps, test_z10_size, test_empty_tiles,
                      test_etag_304, test_gzip, test_bad_tiles, test_combined_layers])


if __name__ == "__main__":
    main()
