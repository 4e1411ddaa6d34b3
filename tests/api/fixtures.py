"""Data sets the API tests build themselves, with known coordinates and
attributes, and the plain-geometry helpers that compute what a query must
return from those coordinates alone (never from onemap's output)."""

DLBM = [("0101", "水田"), ("0102", "水浇地"), ("0201", "果园"), ("0702", "农村宅基地")]


def ring_of(points):
    """A closed GeoJSON ring from open points."""
    pts = [list(p) for p in points]
    return pts + [pts[0]]


def polygon(points):
    return {"type": "Polygon", "coordinates": [ring_of(points)]}


def square(x, y, d):
    return [(x, y), (x + d, y), (x + d, y + d), (x, y + d)]


def feature(points, props):
    return {"type": "Feature", "geometry": polygon(points), "properties": props}


def collection(features):
    return {"type": "FeatureCollection", "features": features}


# ---- the parcels of test_items -------------------------------------------

GRID_X0, GRID_Y0, GRID_D, GRID_N = 118.40, 29.13, 0.001, 10


def grid_cell(i, j):
    """Column i (west to east), row j (south to north)."""
    return square(round(GRID_X0 + i * GRID_D, 9), round(GRID_Y0 + j * GRID_D, 9), GRID_D)


def grid_props(i, j):
    dlbm, dlmc = DLBM[(i + j) % len(DLBM)]
    return {"code": f"G{i:02d}{j:02d}", "dlbm": dlbm, "dlmc": dlmc,
            "qsxz": "国有" if i % 3 == 0 else "集体",
            "village_code": "33082410%04d" % (i // 5 + 1), "owner": f"业主{j}"}


# An L whose bounding box has an empty north-east quarter, and a triangle
# whose bounding box has an empty north-east half.
L_SHAPE = [(118.420, 29.130), (118.422, 29.130), (118.422, 29.131), (118.421, 29.131),
           (118.421, 29.132), (118.420, 29.132)]
TRIANGLE = [(118.430, 29.130), (118.432, 29.130), (118.430, 29.132)]
# Either side of the antimeridian, and one far from it.
EAST_EDGE = square(179.990, 0.010, 0.005)
WEST_EDGE = square(-179.995, 0.010, 0.005)
FAR_EAST = square(170.000, 0.010, 0.005)

EXTRAS = [("X-L", L_SHAPE, "0301"), ("X-TRI", TRIANGLE, "0301"),
          ("X-E180", EAST_EDGE, "1101"), ("X-W180", WEST_EDGE, "1101"),
          ("X-E170", FAR_EAST, "1101")]


def parcels():
    """[(code, points, props)] of every parcel, grid first (column-major)."""
    out = []
    for i in range(GRID_N):
        for j in range(GRID_N):
            p = grid_props(i, j)
            out.append((p["code"], grid_cell(i, j), p))
    for code, pts, dlbm in EXTRAS:
        p = {"code": code, "dlbm": dlbm, "qsxz": "集体", "village_code": "330824109999",
             "owner": "测试"}
        out.append((code, pts, p))
    return out


def parcels_fc():
    return collection([feature(pts, props) for _, pts, props in parcels()])


# ---- many small communities: more than the 10000 limit ---------------------

MANY = 10050


def communities_fc(n=MANY):
    feats = []
    for k in range(n):
        x = round(118.50 + (k % 101) * 0.0002, 9)
        y = round(29.20 + (k // 101) * 0.0002, 9)
        feats.append(feature(square(x, y, 0.0001), {
            "code": f"C{k:05d}", "name": f"小区{k}", "households": k % 50,
            "red_property": k % 3 == 0, "year_built": 1990 + k % 30}))
    return collection(feats)


VILLAGES = [("330824101001", "密赛村", "村", 120, square(118.40, 29.13, 0.005)),
            ("330824101002", "桃溪村", "村", 80, square(118.405, 29.13, 0.005)),
            ("330824101003", "城东社区", "社区", 120, square(118.40, 29.135, 0.01))]


def villages_fc():
    return collection([feature(pts, {"code": c, "name": n, "kind": k, "households": h,
                                     "population": h * 3})
                       for c, n, k, h, pts in VILLAGES])


def small_layers():
    """A few valid features in each of the six layers (for discovery and
    client tests): {collection: FeatureCollection}."""
    sq = lambda k, d=0.002: square(round(118.40 + k * 0.003, 9), 29.13, d)
    return {
        "villages": villages_fc(),
        "grids": collection([feature(sq(k), {
            "code": f"W{k:03d}", "name": f"第{k}网格", "level": "网格" if k < 3 else "微网格",
            "village_code": "330824101001", "manager": f"网格员{k}", "phone": "0570-0000000"})
            for k in range(7)]),
        "parcels": collection([feature(pts, props) for _, pts, props in parcels()[:40]]),
        "farmland": collection([feature(sq(k), {
            "code": f"F{k:03d}", "crop": ["香榧", "油茶", "中药材"][k % 3], "dlbm": "0101",
            "protected": k % 2 == 0, "operator": "合作社", "year": 2020})
            for k in range(9)]),
        "demolition_sites": collection([feature(sq(k), {
            "code": f"D{k:03d}", "project": "测试项目",
            "status": ["planned", "negotiating", "signed", "demolished", "reused"][k % 5],
            "households": k, "floor_area_m2": 100.5 * k, "graves": k % 4,
            "start_date": "2020-03-01"}) for k in range(11)]),
        "communities": communities_fc(13),
    }


# ---- plane geometry, for expected results ---------------------------------

def point_in(pt, poly):
    """Ray casting; points on the boundary count as inside."""
    x, y = pt
    inside = False
    n = len(poly)
    for k in range(n):
        (x1, y1), (x2, y2) = poly[k], poly[(k + 1) % n]
        if on_segment(pt, (x1, y1), (x2, y2)):
            return True
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def orient(a, b, c):
    v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return (v > 0) - (v < 0)


def on_segment(p, a, b):
    return (orient(a, b, p) == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]))


def segments_cross(a, b, c, d):
    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return (on_segment(c, a, b) or on_segment(d, a, b) or on_segment(a, c, d)
            or on_segment(b, c, d))


def polygons_intersect(p, q):
    """Two simple polygons (open point lists) share at least one point."""
    if any(point_in(v, q) for v in p) or any(point_in(v, p) for v in q):
        return True
    for k in range(len(p)):
        for m in range(len(q)):
            if segments_cross(p[k], p[(k + 1) % len(p)], q[m], q[(m + 1) % len(q)]):
                return True
    return False


def box(minx, miny, maxx, maxy):
    return [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy)]


def bbox_hits(features, minx, miny, maxx, maxy):
    """Codes of the (code, points, ...) features a lon/lat bbox intersects;
    minx > maxx crosses the antimeridian."""
    if minx > maxx:
        return bbox_hits(features, minx, miny, 180.0, maxy) | \
            bbox_hits(features, -180.0, miny, maxx, maxy)
    b = box(minx, miny, maxx, maxy)
    return {f[0] for f in features if polygons_intersect(f[1], b)}
