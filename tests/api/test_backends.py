"""The same demo gives the same answers on SQLite and on PostgreSQL: summary,
stats, items by bbox and by filter, locate, overlaps and tiles (decoded), and
after the same writes through both. Only numbers may differ, in their last
digits (SQLite's spatial index keeps float boxes, PostGIS exact ones).
PostgreSQL run only: skipped on SQLite."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Server, check, eq, main, run  # noqa: E402
from mvt_decode import decode  # noqa: E402

if getattr(harness, "BACKEND", "sqlite") != "postgresql":
    print("skipped: needs the PostgreSQL run (ONEMAP_TEST_PG)")
    sys.exit(77)

BBOX = "118.40,29.12,118.42,29.14"
POLY = {"type": "Polygon", "coordinates": [[[118.395, 29.125], [118.43, 29.12], [118.435, 29.15],
                                              [118.40, 29.155], [118.395, 29.125]]]}
PATHS = [
    "/summary",
    f"/summary?bbox={BBOX}",
    "/collections",
    "/collections/parcels",
    f"/collections/parcels/items?bbox={BBOX}&limit=50",
    f"/collections/parcels/items?bbox={BBOX}&limit=50&offset=50&sortby=-area_mu",
    "/collections/parcels/items?filter=dlbm%20IN%20('0101','0102')&limit=100&sortby=owner",
    "/collections/parcels/items?filter=area_mu%20%3E%2020%20AND%20S_INTERSECTS(geometry,"
    "POINT(118.41%2029.13))",
    "/collections/demolition_sites/items?limit=100",
    f"/collections/parcels/stats?bbox={BBOX}",
    "/collections/parcels/stats?group_by=dlbm",
    "/collections/farmland/stats?group_by=crop",
    "/locate?lon=118.41&lat=29.13",
    "/locate?lon=118.43&lat=29.15",
    "/collections/parcels/items/71",
    "/collections/grids/items?limit=5&sortby=code",
]
TILES = ["/collections/parcels/tiles/WebMercatorQuad/16/27218/54324",
         "/collections/parcels/tiles/WebMercatorQuad/14/6804/13581",
         "/tiles/WebMercatorQuad/13/3402/6790"]


def same(a, b, where, tol=1e-5):
    """Equal JSON, numbers within tol (relative above 1); links (their host)
    and when and in which change a write was made aside."""
    if isinstance(a, dict) and isinstance(b, dict):
        eq(sorted(a), sorted(b), f"{where}: members")
        for k in a:
            if k in ("links", "timeStamp", "at", "change_id"):  # the writes' own
                continue
            same(a[k], b[k], f"{where}.{k}", tol)
    elif isinstance(a, list) and isinstance(b, list):
        eq(len(a), len(b), f"{where}: length")
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]", tol)
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            not isinstance(a, bool) and not isinstance(b, bool):
        check(abs(a - b) <= tol * max(1.0, abs(a), abs(b)), f"{where}: {a!r} vs {b!r}")
    else:
        eq(b, a, where)


def pair():
    tmp = tempfile.mkdtemp(prefix="onemap-backends-")
    db = os.path.join(tmp, "demo.db")
    url = harness.fresh_db("backends")
    run("demo", db)
    run("demo", url)
    return Server(db=db), Server(db=url)


def compare(sl, pg, paths):
    for p in paths:
        a, b = sl.get(p), pg.get(p)
        eq(b.status, a.status, f"{p}: status")
        same(json.loads(a.body), json.loads(b.body), p)


def compare_tiles(sl, pg):
    for p in TILES:
        a, b = sl.get(p), pg.get(p)
        eq((b.status, a.status), (200, 200), f"{p}: status")
        da, db = decode(a.body), decode(b.body)
        eq(sorted(db), sorted(da), f"{p}: layers")
        for name in da:
            fa = sorted(da[name]["features"], key=lambda f: f["id"])
            fb = sorted(db[name]["features"], key=lambda f: f["id"])
            eq([f["id"] for f in fb], [f["id"] for f in fa], f"{p} {name}: features")
            for x, y in zip(fa, fb):
                eq(y["tags"], x["tags"], f"{p} {name} {x['id']}: properties")
                eq(y["rings"], x["rings"], f"{p} {name} {x['id']}: geometry")


def test_same_answers():
    sl, pg = pair()
    with sl, pg:
        compare(sl, pg, PATHS)
        for s in (sl, pg):
            r = s.request("POST", "/collections/parcels/stats", {"geometry": POLY},
                          {"Content-Type": "application/json"})
            eq(r.status, 200, "stats by polygon")
        same(json.loads(sl.request("POST", "/collections/parcels/stats", {"geometry": POLY},
                                   {"Content-Type": "application/json"}).body),
             json.loads(pg.request("POST", "/collections/parcels/stats", {"geometry": POLY},
                                   {"Content-Type": "application/json"}).body), "stats polygon")
        compare_tiles(sl, pg)


def test_same_after_writes():
    sl, pg = pair()
    with sl, pg:
        toks = [s.token("ed", "editor") for s in (sl, pg)]
        moved = {"type": "Polygon", "coordinates": [[[118.4149, 29.1381], [118.4157, 29.1379],
                                                     [118.4161, 29.1386], [118.4149, 29.1381]]]}
        for s, tok in zip((sl, pg), toks):
            h = {"Authorization": "Bearer " + tok,
                 "Content-Type": "application/merge-patch+json"}
            eq(s.request("PATCH", "/collections/parcels/items/71",
                         {"geometry": moved, "properties": {"owner": "张三"}}, h).status, 200,
               "PATCH")
            eq(s.request("DELETE", "/collections/parcels/items/72", None, h).status, 204,
               "DELETE")
        compare(sl, pg, PATHS + ["/collections/parcels/items/72", "/changes?since=3600"])
        compare_tiles(sl, pg)


if __name__ == "__main__":
    main([test_same_answers, test_same_after_writes])
