"""Items queries on a data set this test builds itself (fixtures.py): bbox in
several CRSs and across the antimeridian, limit, offset paging, properties,
sortby, property filters and single items. Every expected result is computed
here from the generated coordinates and attributes."""
import datetime
import json
import sys
import urllib.parse

import fixtures as fx
import harness
from harness import check, eq, near

S = None
PARCELS = fx.parcels()
BY_CODE = {code: (pts, props) for code, pts, props in PARCELS}
ITEMS = "/collections/parcels/items"


def items(query, coll="parcels"):
    return S.get_json(f"/collections/{coll}/items?{query}")


def codes(fc):
    return [f["properties"]["code"] for f in fc["features"]]


def all_pages(first_path):
    """Follows next links from first_path; returns (features, pages)."""
    feats, pages, url = [], [], S.base + first_path
    while url:
        check(url.startswith(S.base), f"link {url} leaves the server")
        page = S.get_json(url[len(S.base):])
        pages.append(page)
        feats += page["features"]
        nxt = [l["href"] for l in page["links"] if l["rel"] == "next"]
        check(len(nxt) <= 1, "more than one next link")
        url = nxt[0] if nxt else None
        check(len(pages) <= 200, "next links do not end")
    return feats, pages


def expect_bbox(query, expected, what):
    fc = items(query + "&limit=10000")
    got = sorted(codes(fc))
    eq(got, sorted(expected), what)
    eq(fc["numberMatched"], len(expected), what + ": numberMatched")
    eq(fc["numberReturned"], len(expected), what + ": numberReturned")


def test_bbox_grid():
    # boxes whose edges fall inside cells, never on a cell edge
    for b in [(118.4003, 29.1303, 118.4027, 29.1318),
              (118.4055, 29.1391, 118.4200, 29.1500),
              (118.3900, 29.1200, 118.4001, 29.1301),
              (118.4095, 29.1200, 118.4150, 29.1400)]:
        expected = fx.bbox_hits(PARCELS, *b)
        check(expected, f"bbox {b} should hit something")
        expect_bbox("bbox=" + ",".join(map(str, b)), expected, f"bbox {b}")
    expect_bbox("bbox=100,10,101,11", set(), "bbox far away")


def test_bbox_touching_edge():
    # a box touching a shared edge of columns 2 and 3 along x = 118.403
    # intersects the cells on both sides: "intersects" includes the boundary
    b = (118.4030, 29.1305, 118.4030, 29.1315)
    expected = fx.bbox_hits(PARCELS, *b)
    eq(len(expected), 4, "cells touched by a degenerate box on x = 118.403")
    expect_bbox("bbox=" + ",".join(map(str, b)), expected, "degenerate bbox on an edge")


def test_bbox_mbr_only():
    # inside the bounding boxes of the L and of the triangle, but outside both shapes
    for b, code in [((118.4214, 29.1314, 118.4218, 29.1318), "X-L"),
                    ((118.4315, 29.1315, 118.4319, 29.1319), "X-TRI")]:
        eq(fx.bbox_hits(PARCELS, *b), set(), f"independent check of {code} box")
        expect_bbox("bbox=" + ",".join(map(str, b)), set(), f"{code}: box in the MBR only")
    # the same shapes are found by boxes that do touch them
    expect_bbox("bbox=118.4205,29.1315,118.4208,29.1318", {"X-L"}, "box on the L's arm")
    expect_bbox("bbox=118.4305,29.1305,118.4309,29.1309", {"X-TRI"}, "box on the triangle")


def test_bbox_six_numbers():
    b = (118.4003, 29.1303, 118.4027, 29.1318)
    expected = fx.bbox_hits(PARCELS, *b)
    expect_bbox(f"bbox={b[0]},{b[1]},-100,{b[2]},{b[3]},500", expected, "6-number bbox")


def test_bbox_antimeridian():
    expected = fx.bbox_hits(PARCELS, 179.98, -1, -179.98, 1)
    eq(expected, {"X-E180", "X-W180"}, "independent antimeridian expectation")
    expect_bbox("bbox=179.98,-1,-179.98,1", expected, "bbox across the antimeridian")
    expect_bbox("bbox=179.98,-1,180,1", {"X-E180"}, "bbox ending on 180")
    expect_bbox("bbox=-180,-1,-179.98,1", {"X-W180"}, "bbox starting at -180")
    # the whole world but the strip around 175: from 176 east across 180 to 174
    expected = fx.bbox_hits(PARCELS, 176, -90, 174, 90)
    check("X-E170" in expected and "X-E180" in expected, "independent world expectation")
    expect_bbox("bbox=176,-90,174,90", expected, "bbox across the antimeridian, wide")


def test_bbox_crs_4490_lat_first():
    b = (118.4055, 29.1391, 118.4200, 29.1500)
    expected = fx.bbox_hits(PARCELS, *b)
    uri = urllib.parse.quote("http://www.opengis.net/def/crs/EPSG/0/4490", safe="")
    expect_bbox(f"bbox={b[1]},{b[0]},{b[3]},{b[2]}&bbox-crs={uri}", expected,
                "bbox-crs EPSG:4490, lat first")
    # the same numbers read as lon/lat are a box in the Arctic: nothing there
    expect_bbox(f"bbox={b[1]},{b[0] - 100},{b[3]},{b[2] - 100}", set(),
                "lat-first numbers as CRS84")


def test_bbox_crs_4548():
    # a box in 4548 (northing, easting order) around a point inside the grid;
    # its corners go back to lon/lat with cs2cs and the expected cells are those
    # the resulting quadrilateral intersects
    (n0, e0), = harness.cs2cs("EPSG:4490", "EPSG:4548", [(29.1345, 118.4042)])
    n_min, n_max, e_min, e_max = n0 - 180.0, n0 + 140.0, e0 - 160.0, e0 + 230.0
    corners = harness.cs2cs("EPSG:4548", "EPSG:4490",
                            [(n_min, e_min), (n_min, e_max), (n_max, e_max), (n_max, e_min)])
    quad = [(lon, lat) for lat, lon in corners]
    # cell edges must not lie within 1e-6 degrees of a corner, or the
    # curvature of the box edges in lon/lat could matter
    for lon, lat in quad:
        for v, o in ((lon, fx.GRID_X0), (lat, fx.GRID_Y0)):
            frac = ((v - o) / fx.GRID_D) % 1.0
            check(1e-3 < frac < 1 - 1e-3, f"corner {lon},{lat} too close to a cell edge")
    expected = {c for c, pts, _ in PARCELS if fx.polygons_intersect(pts, quad)}
    check(6 <= len(expected) <= 30, f"box should hit a few cells, hits {len(expected)}")
    uri = "http://www.opengis.net/def/crs/EPSG/0/4548"
    expect_bbox(f"bbox={n_min},{e_min},{n_max},{e_max}&bbox-crs={uri}", expected,
                "bbox-crs EPSG:4548")
    expect_bbox(f"bbox={n_min},{e_min},{n_max},{e_max}&bbox-crs=EPSG:4548", expected,
                "bbox-crs EPSG:4548 (short name)")


def test_limit_default_and_max():
    total = len(PARCELS)
    check(total > 100, "the data set must exceed the default limit")
    fc = items("")
    eq(fc["numberReturned"], 100, "default limit")
    eq(len(fc["features"]), 100, "features with the default limit")
    eq(fc["numberMatched"], total, "numberMatched")
    fc = items("limit=3")
    eq(len(fc["features"]), 3, "limit=3")
    # over the maximum: clamped to 10000, not refused
    fc = items("limit=20000", coll="communities")
    eq(fc["numberMatched"], fx.MANY, "communities numberMatched")
    eq(fc["numberReturned"], 10000, "limit=20000 clamped")
    eq(len(fc["features"]), 10000, "features with limit=20000")
    nxt = [l["href"] for l in fc["links"] if l["rel"] == "next"]
    eq(len(nxt), 1, "next link after a clamped page")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt[0]).query)
    eq(q.get("offset"), ["10000"], "offset of the page after a clamped page")
    rest = S.get_json(nxt[0][len(S.base):])
    eq(rest["numberReturned"], fx.MANY - 10000, "the rest after a clamped page")


def test_paging_follows_links():
    feats, pages = all_pages(ITEMS + "?limit=7")
    got = codes({"features": feats})
    eq(len(got), len(PARCELS), "features over all pages")
    eq(sorted(got), sorted(BY_CODE), "every feature exactly once over all pages")
    eq(len(pages), -(-len(PARCELS) // 7), "number of pages")
    for k, p in enumerate(pages):
        eq(p["numberMatched"], len(PARCELS), f"page {k} numberMatched")
        eq(p["numberReturned"], len(p["features"]), f"page {k} numberReturned")
        rels = [l["rel"] for l in p["links"]]
        eq("prev" in rels, k > 0, f"page {k} has a prev link")
        eq("next" in rels, k < len(pages) - 1, f"page {k} has a next link")
        eq(rels.count("self"), 1, f"page {k} self links")
    # prev links lead back page by page to the first one
    last = pages[-1]
    for k in range(len(pages) - 1, 0, -1):
        prev = [l["href"] for l in last["links"] if l["rel"] == "prev"][0]
        last = S.get_json(prev[len(S.base):])
        eq(codes(last), codes(pages[k - 1]), f"prev of page {k}")


def test_paging_with_bbox_and_offset():
    b = (118.4003, 29.1303, 118.4072, 29.1368)
    expected = fx.bbox_hits(PARCELS, *b)
    query = ITEMS + "?bbox=" + ",".join(map(str, b)) + "&limit=10&sortby=code"
    feats, pages = all_pages(query)
    eq(codes({"features": feats}), sorted(expected), "bbox pages sorted by code")
    for p in pages:
        eq(p["numberMatched"], len(expected), "bbox numberMatched on every page")
    fc = S.get_json(query + "&offset=13")
    eq(codes(fc), sorted(expected)[13:23], "bbox with offset=13")
    prev = [l["href"] for l in fc["links"] if l["rel"] == "prev"][0]
    eq(urllib.parse.parse_qs(urllib.parse.urlsplit(prev).query)["offset"], ["3"],
       "prev offset from 13 with limit 10")
    fc = items("offset=1000")
    eq((fc["numberReturned"], fc["features"]), (0, []), "offset past the end")
    eq(fc["numberMatched"], len(PARCELS), "numberMatched past the end")


def test_counts_and_timestamp():
    t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    fc = items("limit=5&dlbm=0101")
    t1 = datetime.datetime.now(datetime.timezone.utc)
    eq(fc["type"], "FeatureCollection", "type")
    expected = sum(1 for _, _, p in PARCELS if p["dlbm"] == "0101")
    eq(fc["numberMatched"], expected, "numberMatched with a filter")
    eq(fc["numberReturned"], 5, "numberReturned")
    ts = datetime.datetime.strptime(fc["timeStamp"], "%Y-%m-%dT%H:%M:%SZ")
    ts = ts.replace(tzinfo=datetime.timezone.utc)
    check(t0 - datetime.timedelta(seconds=1) <= ts <= t1 + datetime.timedelta(seconds=1),
          f"timeStamp {fc['timeStamp']} is not the time of the request")


def test_properties_selection():
    fc = items("properties=code,dlbm&limit=200")
    for f in fc["features"]:
        eq(sorted(f["properties"]), ["code", "dlbm"], "properties=code,dlbm")
        eq(f["properties"]["dlbm"], BY_CODE[f["properties"]["code"]][1]["dlbm"], "dlbm value")
        check(f["geometry"]["type"] == "Polygon", "geometry kept with properties=")
    fc = items("properties=area_m2&limit=1")
    eq(sorted(fc["features"][0]["properties"]), ["area_m2"], "properties=area_m2")
    fc = items("limit=1")
    eq(sorted(fc["features"][0]["properties"]),
       sorted(["code", "dlbm", "dlmc", "qsxz", "village_code", "owner", "area_m2", "area_mu"]),
       "all properties by default")


def test_sortby():
    props = [p for _, _, p in PARCELS]
    fc = items("sortby=-code&limit=10000")
    eq(codes(fc), sorted(BY_CODE, reverse=True), "sortby=-code")
    fc = items("sortby=%2Bdlbm,-code&limit=10000")
    exp = sorted(props, key=lambda p: p["code"], reverse=True)
    exp = sorted(exp, key=lambda p: p["dlbm"])
    eq(codes(fc), [p["code"] for p in exp], "sortby=+dlbm,-code")
    fc = items("sortby=owner,code&limit=10000")
    eq(codes(fc), [p["code"] for p in sorted(props, key=lambda p: (p["owner"], p["code"]))],
       "sortby=owner,code (UTF-8 text)")


def test_property_filters():
    props = [p for _, _, p in PARCELS]
    for q, pred in [("dlbm=0102", lambda p: p["dlbm"] == "0102"),
                    ("qsxz=" + urllib.parse.quote("国有"), lambda p: p["qsxz"] == "国有"),
                    ("dlbm=0201&village_code=330824100002",
                     lambda p: p["dlbm"] == "0201" and p["village_code"] == "330824100002"),
                    ("owner=nobody", lambda p: False)]:
        expected = sorted(p["code"] for p in props if pred(p))
        fc = items(q + "&limit=10000&sortby=code")
        eq(codes(fc), expected, q)
        eq(fc["numberMatched"], len(expected), q + " numberMatched")
    # an integer and a boolean field
    fc = S.get_json("/collections/villages/items?households=120")
    eq(sorted(f["properties"]["code"] for f in fc["features"]),
       sorted(c for c, _, _, h, _ in fx.VILLAGES if h == 120), "households=120")
    fc = S.get_json("/collections/communities/items?red_property=true&households=7&limit=10000")
    eq(fc["numberMatched"], sum(1 for k in range(fx.MANY) if k % 3 == 0 and k % 50 == 7),
       "red_property=true&households=7")
    # a filter combined with a bbox
    b = (118.4003, 29.1303, 118.4072, 29.1368)
    expected = sorted(c for c in fx.bbox_hits(PARCELS, *b) if BY_CODE[c][1]["dlbm"] == "0101")
    fc = items("dlbm=0101&bbox=" + ",".join(map(str, b)) + "&sortby=code")
    eq(codes(fc), expected, "dlbm=0101 within a bbox")


def find_id(code):
    fc = items("code=" + urllib.parse.quote(code))
    eq(fc["numberMatched"], 1, f"code={code}")
    return fc["features"][0]["id"]


def test_single_item():
    code = "G0307"
    fid = find_id(code)
    r = S.get(f"{ITEMS}/{fid}")
    eq(r.status, 200, "item status")
    eq(r.header("Content-Type"), "application/geo+json", "item Content-Type")
    check(r.header("Content-Crs") is None, "no Content-Crs without crs")
    etag = r.header("ETag")
    check(etag and etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/"),
          f"strong ETag, got {etag!r}")
    f = r.json()
    eq(f["type"], "Feature", "item type")
    eq(f["id"], fid, "item id")
    pts, props = BY_CODE[code]
    for k, v in props.items():
        eq(f["properties"][k], v, f"property {k}")
    ring = f["geometry"]["coordinates"][0]
    eq(len(ring), len(pts) + 1, "ring length")
    for (x, y), (ex, ey) in zip(ring, fx.ring_of(pts)):
        near(x, ex, 1e-9, "longitude")
        near(y, ey, 1e-9, "latitude")
    links = {l["rel"]: l for l in f["links"]}
    eq(links["self"]["href"], f"{S.base}{ITEMS}/{fid}", "self link")
    eq(links["self"]["type"], "application/geo+json", "self type")
    eq(links["alternate"]["type"], "text/html", "alternate type")
    eq(links["collection"]["href"], f"{S.base}/collections/parcels", "collection link")
    alt = S.get(links["alternate"]["href"][len(S.base):])
    eq(alt.status, 200, "alternate status")
    check(alt.header("Content-Type").startswith("text/html"), "alternate is HTML")
    check(code.encode() in alt.body, "the HTML page shows the feature")
    eq(S.get(f"{ITEMS}/{fid}").header("ETag"), etag, "ETag is stable")
    # the HTML page is another representation: another strong ETag, and
    # caches are told that the answer depends on Accept
    html = S.get(f"{ITEMS}/{fid}", headers={"Accept": "text/html"})
    check(html.header("Content-Type").startswith("text/html"), "item by Accept: text/html")
    h_etag = html.header("ETag")
    check(h_etag and h_etag != etag and not h_etag.startswith("W/"),
          f"HTML ETag {h_etag!r} vs JSON {etag!r}")
    eq(alt.header("ETag"), h_etag, "f=html and Accept: text/html give the same page")
    for resp in (r, html):
        check("accept" in (resp.header("Vary") or "").lower(), "Vary: Accept")


def test_items_headers():
    r = S.get(ITEMS + "?limit=1")
    eq(r.header("Content-Type"), "application/geo+json", "items Content-Type")
    check(r.header("Content-Crs") is None, "no Content-Crs without crs")
    for crs in ["http://www.opengis.net/def/crs/EPSG/0/4548",
                "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                "http://www.opengis.net/def/crs/EPSG/0/4490"]:
        r = S.get(ITEMS + "?limit=1&crs=" + urllib.parse.quote(crs, safe=""))
        eq(r.header("Content-Crs"), f"<{crs}>", f"Content-Crs for {crs}")
        fid = r.json()["features"][0]["id"]
        r = S.get(f"{ITEMS}/{fid}?crs=" + urllib.parse.quote(crs, safe=""))
        eq(r.header("Content-Crs"), f"<{crs}>", f"item Content-Crs for {crs}")
    # crs=EPSG:4490 by URI is lat, lon
    fid = find_id("G0000")
    f = S.get_json(f"{ITEMS}/{fid}?crs=http://www.opengis.net/def/crs/EPSG/0/4490")
    ring = f["geometry"]["coordinates"][0]
    for (a, b), (lon, lat) in zip(ring, fx.ring_of(fx.grid_cell(0, 0))):
        near(a, lat, 1e-9, "EPSG:4490 first axis is latitude")
        near(b, lon, 1e-9, "EPSG:4490 second axis is longitude")


def test_links_on_items():
    fc = items("limit=5&dlbm=0101&properties=code")
    links = {l["rel"]: l["href"] for l in fc["links"]}
    for rel in ("self", "next", "alternate"):
        check(rel in links, f"{rel} link on items")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(links["next"]).query)
    eq(q, {"limit": ["5"], "dlbm": ["0101"], "properties": ["code"], "offset": ["5"]},
       "next link keeps the query")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(links["alternate"]).query)
    eq(q.get("f"), ["html"], "alternate is f=html")
    r = S.get(links["alternate"][len(S.base):])
    check(r.header("Content-Type").startswith("text/html"), "alternate page is HTML")


def test_count_past_the_page():
    """Large matches: past a full page and a thousand more rows the server
    counts the rest from its index; numberMatched stays exact."""
    comm = []
    for k in range(fx.MANY):
        x = round(118.50 + (k % 101) * 0.0002, 9)
        y = round(29.20 + (k // 101) * 0.0002, 9)
        comm.append((f"C{k:05d}", fx.square(x, y, 0.0001)))
    for b in [(118.49, 29.19, 118.53, 29.23),            # all of them
              (118.50005, 29.20005, 118.5150, 29.2150),  # edges through squares
              (118.50531, 29.20113, 118.51773, 29.22071)]:
        expected = sorted(fx.bbox_hits(comm, *b))
        check(len(expected) > 1200, f"bbox {b}: a large match")
        for offset in (0, 500):
            page = items(f"bbox={','.join(map(str, b))}&limit=10&offset={offset}", "communities")
            eq(page["numberMatched"], len(expected), f"bbox {b} offset {offset}: numberMatched")
            eq([f["properties"]["code"] for f in page["features"]],
               expected[offset:offset + 10], f"bbox {b} offset {offset}: the page")


def test_reads_of_one_and_of_several_statements():
    # a server learns which kinds of request read with one statement and
    # reads those without a transaction; the same route with a query that
    # takes several (a count beside the page, more rows than one batch)
    # then runs again in one: every answer must be whole and right, in
    # whatever order they come
    small = (118.4003, 29.1303, 118.4027, 29.1318)
    few = sorted(fx.bbox_hits(PARCELS, *small))
    comm = [(f"C{k:05d}", fx.square(round(118.50 + (k % 101) * 0.0002, 9),
                                    round(29.20 + (k // 101) * 0.0002, 9), 0.0001))
            for k in range(fx.MANY)]
    large = (118.50005, 29.20005, 118.5150, 29.2150)
    many = sorted(fx.bbox_hits(comm, *large))
    check(len(many) > 2000, "the large box must match more rows than one batch")
    some = sorted(BY_CODE)[:5]
    for i in range(12):
        for _ in range(1 + i % 3):  # one-statement reads, 1 to 3 in a row
            fc = items("bbox=" + ",".join(map(str, small)) + "&limit=100")
            eq(sorted(codes(fc)), few, f"round {i}: small box")
            eq(fc["numberMatched"], len(few), f"round {i}: small box numberMatched")
        fc = items("limit=5&sortby=code")  # the page and its count
        eq(codes(fc), some, f"round {i}: first page")
        eq(fc["numberMatched"], len(PARCELS), f"round {i}: numberMatched of all")
        if i % 4 == 0:  # more rows than one batch
            fc = items("bbox=" + ",".join(map(str, large)) + "&limit=10000", "communities")
            eq(sorted(f["properties"]["code"] for f in fc["features"]), many,
               f"round {i}: large box")
            eq(fc["numberMatched"], len(many), f"round {i}: large box numberMatched")


TESTS = [test_bbox_grid, test_bbox_touching_edge, test_bbox_mbr_only, test_bbox_six_numbers,
         test_bbox_antimeridian, test_bbox_crs_4490_lat_first, test_bbox_crs_4548,
         test_limit_default_and_max, test_paging_follows_links, test_paging_with_bbox_and_offset,
         test_counts_and_timestamp, test_properties_selection, test_sortby,
         test_property_filters, test_single_item, test_items_headers, test_links_on_items,
         test_count_past_the_page, test_reads_of_one_and_of_several_statements]

if __name__ == "__main__":
    with harness.Server(demo=False, imports=[("parcels", fx.parcels_fc()),
                                             ("communities", fx.communities_fc()),
                                             ("villages", fx.villages_fc())]) as S:
        failed = harness.run_all(TESTS)
    sys.exit(1 if failed else 0)
