"""CQL2 filters (OGC API Features Part 3) through HTTP. The test makes its own
demolition-site data set (a grid of squares with varied attributes), imports
it with `onemap import`, and checks every filter's result against the same
filter evaluated here in Python over the squares it made. Query geometries sit
in the middle of cells, well away from every square's edge; the exact edge
cases are the unit suite's (store_filter_test)."""
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

NX, NY = 8, 6
LON0, LAT0, CELL = 118.38, 29.10, 0.005
STATUS = ["planned", "negotiating", "signed", "demolished", "reused"]
REUSE = ["park", "park_east", "50%_green", "500green", "road_1", "roadX1", None]
COLL = "demolition_sites"


def make_squares():
    out = []
    for i in range(NX * NY):
        cx, cy = i % NX, i // NX
        size = CELL if i % 3 else CELL / 2
        x0, y0 = LON0 + cx * CELL, LAT0 + cy * CELL
        sq = {
            "code": "S%03d" % i,
            "project": "P%d" % (i % 4),
            "status": STATUS[i % 5],
            "households": None if i % 7 == 0 else (i * 5) % 17,
            "floor_area_m2": (i * 13 % 40) * 12.5,
            "graves": i % 4,
            "reuse": REUSE[i % 7],
            "start_date": "2021-%02d-%02d" % (1 + i % 12, 1 + (i * 5) % 28),
            "box": (x0, y0, x0 + size, y0 + size),
            "full": size == CELL,
        }
        out.append(sq)
    return out


SQUARES = make_squares()


def feature_collection():
    feats = []
    for sq in SQUARES:
        x0, y0, x1, y1 = sq["box"]
        props = {k: v for k, v in sq.items() if k not in ("box", "full") and v is not None}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Polygon",
                                   "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1],
                                                    [x0, y0]]]}})
    return {"type": "FeatureCollection", "features": feats}


SRV = None


def load(srv):
    path = os.path.join(srv.tmp, "sites.geojson")
    with open(path, "w") as f:
        json.dump(feature_collection(), f)
    harness.run("import", srv.db, COLL, path)


def items(params):
    q = urllib.parse.urlencode(dict(params, limit=params.get("limit", 1000)),
                               quote_via=urllib.parse.quote)
    return SRV.get(f"/collections/{COLL}/items?{q}")


def codes_for(params):
    r = items(params)
    assert r.status == 200, (params, r.status, r.body[:300])
    d = r.json()
    got = sorted(f["properties"]["code"] for f in d["features"])
    assert d["numberMatched"] == len(got), (params, d["numberMatched"], len(got))
    return got


def expect(filt, pred, **extra):
    want = sorted(sq["code"] for sq in SQUARES if pred(sq))
    got = codes_for(dict({"filter": filt}, **extra))
    assert got == want, f"{filt}: got {got}, want {want}"
    return want


def expect_error(params, description, status=400):
    r = items(params)
    assert r.status == status, (params, r.status, r.body[:300])
    d = r.json()
    assert d["code"] == "InvalidParameterValue", d
    assert d["description"] == description, f"{params}:\n got  {d['description']}\n want {description}"


# ---- Python evaluation helpers ---------------------------------------------

def hh(sq):
    return sq["households"]


def box_of(c0x, c0y, c1x, c1y):
    """A box whose corners are given in cell units (use .5 for mid-cell)."""
    return (LON0 + c0x * CELL, LAT0 + c0y * CELL, LON0 + c1x * CELL, LAT0 + c1y * CELL)


def intersects(sq, b):
    x0, y0, x1, y1 = sq["box"]
    return x0 <= b[2] and x1 >= b[0] and y0 <= b[3] and y1 >= b[1]


def within(sq, b):
    x0, y0, x1, y1 = sq["box"]
    return x0 >= b[0] and x1 <= b[2] and y0 >= b[1] and y1 <= b[3]


def contains_pt(sq, p):
    x0, y0, x1, y1 = sq["box"]
    return x0 < p[0] < x1 and y0 < p[1] < y1


def poly(b, swap=False):
    pts = [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3]), (b[0], b[1])]
    if swap:
        pts = [(y, x) for x, y in pts]
    return "POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in pts) + "))"


def bbox(b, swap=False):
    v = (b[1], b[0], b[3], b[2]) if swap else b
    return "BBOX(" + ", ".join(repr(x) for x in v) + ")"


# ---- tests ---------------------------------------------------------------------

def test_attribute_filters():
    assert len(codes_for({"filter": "TRUE"})) == NX * NY
    expect("status = 'signed'", lambda s: s["status"] == "signed")
    expect("status <> 'signed'", lambda s: s["status"] != "signed")
    expect("households > 8", lambda s: hh(s) is not None and hh(s) > 8)
    expect("households >= 3 AND households < 9 OR graves = 3",
           lambda s: (hh(s) is not None and 3 <= hh(s) < 9) or s["graves"] == 3)
    expect("NOT (graves = 0 OR graves = 1)", lambda s: s["graves"] not in (0, 1))
    expect("households BETWEEN 4 AND 10", lambda s: hh(s) is not None and 4 <= hh(s) <= 10)
    expect("households NOT BETWEEN 4 AND 10",
           lambda s: hh(s) is not None and not 4 <= hh(s) <= 10)
    expect("status IN ('planned', 'reused', 'nothing')", lambda s: s["status"] in ("planned", "reused"))
    expect("status NOT IN ('planned')", lambda s: s["status"] != "planned")
    expect("households IS NULL", lambda s: hh(s) is None)
    expect("reuse IS NOT NULL AND graves <> 2", lambda s: s["reuse"] is not None and s["graves"] != 2)
    expect("floor_area_m2 >= 2.5e2", lambda s: s["floor_area_m2"] >= 250)
    expect("households > graves", lambda s: hh(s) is not None and hh(s) > s["graves"])
    expect("start_date >= DATE('2021-06-15')", lambda s: s["start_date"] >= "2021-06-15")
    expect("start_date < date('2021-03-01')", lambda s: s["start_date"] < "2021-03-01")
    expect("code = 'S007' or code = 'x'", lambda s: s["code"] == "S007")
    # a full square is about 500 m x 555 m, a quarter one a quarter of that
    expect("area_m2 > 150000", lambda s: s["full"])
    expect("area_mu < 225", lambda s: not s["full"])


def test_like():
    r = lambda s: s["reuse"] or ""  # noqa: E731
    expect("reuse LIKE 'park%'", lambda s: r(s).startswith("park"))
    expect("reuse LIKE 'PARK%'", lambda s: False)
    expect("reuse LIKE '50\\%%'", lambda s: r(s).startswith("50%"))
    expect("reuse LIKE 'road\\_1'", lambda s: r(s) == "road_1")
    expect("reuse LIKE 'road_1'", lambda s: r(s) in ("road_1", "roadX1"))
    expect("reuse NOT LIKE '%e%'", lambda s: s["reuse"] is not None and "e" not in s["reuse"])


def test_spatial():
    b = box_of(1.5, 0.5, 4.5, 3.5)
    expect(f"S_INTERSECTS(geometry, {bbox(b)})", lambda s: intersects(s, b))
    expect(f"S_INTERSECTS(geometry, {poly(b)})", lambda s: intersects(s, b))
    expect(f"S_WITHIN(geometry, {poly(b)})", lambda s: within(s, b))
    expect(f"S_DISJOINT(geometry, {bbox(b)})", lambda s: not intersects(s, b))
    expect(f"NOT S_INTERSECTS(geom, {bbox(b)})", lambda s: not intersects(s, b))
    p = (LON0 + 5.25 * CELL, LAT0 + 2.25 * CELL)
    expect(f"S_CONTAINS(geometry, POINT({p[0]!r} {p[1]!r}))", lambda s: contains_pt(s, p))
    expect(f"S_INTERSECTS(geometry, POINT({p[0]!r} {p[1]!r}))", lambda s: contains_pt(s, p))
    line = (LON0 + 0.5 * CELL, LAT0 + 4.25 * CELL, LON0 + 6.25 * CELL)
    expect(f"S_INTERSECTS(geometry, LINESTRING({line[0]!r} {line[1]!r}, {line[2]!r} {line[1]!r}))",
           lambda s: intersects(s, (line[0], line[1], line[2], line[1])))
    expect(f"status = 'signed' AND S_INTERSECTS(geometry, {bbox(b)}) OR households = 0",
           lambda s: (s["status"] == "signed" and intersects(s, b)) or hh(s) == 0)


def test_filter_with_other_parameters():
    b = box_of(0.5, 0.5, 6.5, 4.5)
    q = box_of(2.5, 1.5, 7.5, 5.5)
    pred = lambda s: intersects(s, b) and intersects(s, q) and s["graves"] != 1  # noqa: E731
    bbox_param = ",".join(repr(v) for v in q)
    want = expect(f"S_INTERSECTS(geometry, {bbox(b)}) AND graves <> 1", pred, bbox=bbox_param)
    # {property}=value and filter together
    expect("graves <> 1", lambda s: s["graves"] != 1 and s["status"] == "reused", status="reused")
    # paging keeps the filter: walk the next links
    params = {"filter": f"S_INTERSECTS(geometry, {bbox(b)}) AND graves <> 1", "bbox": bbox_param,
              "limit": 3}
    r = items(params)
    seen = []
    for _ in range(50):
        d = r.json()
        assert d["numberMatched"] == len(want)
        seen += [f["properties"]["code"] for f in d["features"]]
        nxt = [l["href"] for l in d["links"] if l["rel"] == "next"]
        if not nxt:
            break
        assert "filter=" in nxt[0]
        r = SRV.get(nxt[0][len(SRV.base):])
    assert sorted(seen) == want, (seen, want)
    # without bbox the count comes from SQL
    params = {"filter": "graves = 2", "limit": 4, "offset": 4}
    d = items(params).json()
    assert d["numberMatched"] == sum(1 for s in SQUARES if s["graves"] == 2)
    assert d["numberReturned"] == min(4, d["numberMatched"] - 4)


def cs2cs(points, src, dst):
    """Transforms (a, b) pairs with PROJ's cs2cs, in both CRSs' own axis order."""
    text = "".join(f"{a!r} {b!r}\n" for a, b in points)
    p = subprocess.run(["cs2cs", "-f", "%.4f", src, dst], input=text, capture_output=True,
                       text=True, check=True)
    return [tuple(float(v) for v in line.split()[:2]) for line in p.stdout.splitlines()]


def test_filter_crs():
    b = box_of(1.5, 1.5, 4.5, 3.5)
    # EPSG:4490 by URI: latitude first
    for crs in ("http://www.opengis.net/def/crs/EPSG/0/4490", "EPSG:4490"):
        expect(f"S_INTERSECTS(geometry, {bbox(b, swap=True)})", lambda s: intersects(s, b),
               **{"filter-crs": crs})
        expect(f"S_WITHIN(geometry, {poly(b, swap=True)})", lambda s: within(s, b),
               **{"filter-crs": crs})
    # EPSG:4548 (Gauss-Kruger CM 117E): northing, easting. The corners come
    # from cs2cs; the GK grid is turned about 0.8 degrees against the
    # meridians here, which moves the box's edges by far less than the half
    # cell between them and the squares.
    corners = [(b[1], b[0]), (b[1], b[2]), (b[3], b[2]), (b[3], b[0])]
    ne = cs2cs(corners, "EPSG:4490", "EPSG:4548")
    ring = ne + [ne[0]]
    wkt = "POLYGON((" + ", ".join(f"{n!r} {e!r}" for n, e in ring) + "))"
    crs = "http://www.opengis.net/def/crs/EPSG/0/4548"
    expect(f"S_INTERSECTS(geometry, {wkt})", lambda s: intersects(s, b), **{"filter-crs": crs})
    expect(f"S_DISJOINT(geometry, {wkt})", lambda s: not intersects(s, b), **{"filter-crs": crs})
    ns = [c[0] for c in ne]
    es = [c[1] for c in ne]
    gk = (min(ns), min(es), max(ns), max(es))
    expect("S_INTERSECTS(geometry, BBOX(%r, %r, %r, %r))" % gk, lambda s: intersects(s, b),
           **{"filter-crs": crs})


def test_bad_filters():
    bad = [
        ("status = 'signed", "filter: unterminated string starting at character 10"),
        ("(status = 'signed'", "filter: expected ')' at character 19"),
        ("status LIKEE 'x'", "filter: unknown operator 'LIKEE' at character 8"),
        ("status = ", "filter: expected a property or a literal at character 10"),
        ("households = 'ten'",
         "filter: cannot compare households (integer) with a string at character 14"),
        ("start_date = '2021-01-01'",
         "filter: cannot compare start_date (date) with a string (write a date as "
         "DATE('YYYY-MM-DD')) at character 14"),
        ("owner = 'x'", "filter: 'owner' is not a queryable of demolition_sites"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))",
         "filter: a polygon ring needs at least 4 positions at character 32"),
        ("S_INTERSECTS(households, POINT(1 2))",
         "filter: S_INTERSECTS needs geometries; households (integer) is not one at character 14"),
        ("code = 'a'; DROP TABLE demolition_sites",
         "filter: unexpected character ';' at character 11"),
        ("(" * 65 + "graves = 1" + ")" * 65, "filter: nesting deeper than the limit of 64 at character 65"),
    ]
    for filt, desc in bad:
        expect_error({"filter": filt}, desc)
    expect_error({"filter": "graves = 1", "filter-lang": "cql2-json"},
                 "filter-lang: 'cql2-json' is not supported (only cql2-text)")
    expect_error({"filter": "graves = 1", "filter-lang": "ecql"},
                 "filter-lang: 'ecql' is not supported (only cql2-text)")
    r = items({"filter": "graves = 1", "filter-crs": "EPSG:9999"})
    assert r.status == 400 and r.json()["description"].startswith("filter-crs: "), r.body
    # the filter is checked against the collection it is sent to
    r = SRV.get("/collections/parcels/items?filter=" + urllib.parse.quote("graves = 1"))
    assert r.status == 400
    assert r.json()["description"] == "filter: 'graves' is not a queryable of parcels"
    # explicit cql2-text is fine
    assert len(codes_for({"filter": "graves = 1", "filter-lang": "cql2-text"})) > 0


def test_injection():
    expect("code = 'x'' OR 1=1 --'", lambda s: False)
    expect("code = 'S001'' OR ''a''=''a'", lambda s: False)
    expect("status IN ('x'') OR 1=1 OR status IN (''y')", lambda s: False)
    expect("reuse LIKE 'park'' OR ''1''=''1'", lambda s: False)
    expect('"code"= \'S002\'', lambda s: s["code"] == "S002")
    # the table is still there and whole
    assert len(codes_for({"filter": "TRUE"})) == NX * NY
    assert SRV.alive()


def test_discovery():
    conf = SRV.get("/conformance").json()["conformsTo"]
    for c in ("http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
              "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
              "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
              "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
              "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
              "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions"):
        assert c in conf, c
    api = SRV.get("/api").json()
    names = [p.get("$ref", "").rsplit("/", 1)[-1]
             for p in api["paths"][f"/collections/{COLL}/items"]["get"]["parameters"]]
    for n in ("filter", "filter-lang", "filter-crs"):
        assert n in names, names
        assert n in api["components"]["parameters"]


if __name__ == "__main__":
    status = 1
    with harness.Server(demo=False) as SRV:
        load(SRV)
        try:
            harness.main([test_attribute_filters, test_like, test_spatial,
                          test_filter_with_other_parameters, test_filter_crs, test_bad_filters,
                          test_injection, test_discovery])
        except SystemExit as e:
            status = e.code
    sys.exit(status)
