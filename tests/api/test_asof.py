"""The map through time: asof= on items, one item, stats, summary, locate,
overlaps and tiles, and `onemap export --asof`. A parcel's geometry and
attributes are changed, a grid's manager renamed and a parcel deleted; read
a moment before each write the answers are the old ones everywhere, read at
it the new ones. Expected values come from the data set written here
(test_area_queries) and areas computed independently in geo.py; tiles are
read with the independent decoder in mvt_decode."""
import datetime
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import geo  # noqa: E402
import harness  # noqa: E402
import mvt_decode  # noqa: E402
from test_area_queries import (CLASSES, COMMUNITIES, DEMOLITION, FARMLAND, GRIDS, PARCELS, X0, Y0,  # noqa: E402
                               D, build, r)
from test_tiles import lonlat_to_tile  # noqa: E402

SRV = None
TOK = None
MOVED = "P0000"          # patched: moved to NEW_BOX and its class changed
NEW_BOX = r(20, 20, 21, 21)
NEW_CLASS = "0201"
GONE = "P0101"           # deleted
GRID = "33082400300101"  # its manager renamed
T = {}                   # the instants of the writes, from the history


def url(path, **params):
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def ok(path, **params):
    return SRV.get_json(url(path, **params))


def hdr(ct="application/merge-patch+json", **extra):
    h = {"Content-Type": ct, "Authorization": "Bearer " + TOK}
    h.update(extra)
    return h


def fid(code, collection="parcels"):
    fc = ok(f"/collections/{collection}/items", code=code)
    assert fc["numberReturned"] == 1, fc
    return fc["features"][0]["id"]


def just_before(at):
    t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (t - datetime.timedelta(milliseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_time(collection, i, version):
    hist = ok(f"/collections/{collection}/items/{i}/history")
    for v in hist["versions"]:
        if v["version"] == version:
            return v["at"]
    raise AssertionError(f"no version {version} in {hist}")


def setup():
    global TOK
    TOK = SRV.token("asof-editor", "editor")
    i = fid(MOVED)
    res = SRV.request("PATCH", f"/collections/parcels/items/{i}", headers=hdr(**{"If-Match": '"1"'}),
                      body={"properties": {"dlbm": NEW_CLASS},
                            "geometry": {"type": "Polygon", "coordinates": [geo.rect_ring(*NEW_BOX)]}})
    assert res.status == 200, res.body
    T["moved"] = write_time("parcels", i, 2)
    g = fid(GRID, "grids")
    res = SRV.request("PATCH", f"/collections/grids/items/{g}", headers=hdr(),
                      body={"properties": {"manager": "新网格员"}})
    assert res.status == 200, res.body
    T["grid"] = write_time("grids", g, 2)
    d = fid(GONE)
    res = SRV.request("DELETE", f"/collections/parcels/items/{d}", headers=hdr())
    assert res.status == 204, res.body
    T["gone"] = write_time("parcels", d, 2)
    T["first"] = write_time("parcels", fid("P0202"), 1)
    assert T["first"] < T["moved"] < T["grid"] < T["gone"], T


def states():
    """(asof, the parcels as they were then: code -> (box, class))."""
    before = dict(PARCELS)
    moved = dict(before)
    moved[MOVED] = (NEW_BOX, NEW_CLASS)
    gone = dict(moved)
    del gone[GONE]
    return [(just_before(T["moved"]), before), (T["moved"], moved),
            (just_before(T["gone"]), moved), (T["gone"], gone)]


def test_item_then_and_now():
    i = fid(MOVED)
    old = SRV.get(url(f"/collections/parcels/items/{i}", asof=just_before(T["moved"])))
    assert old.status == 200, old.body
    assert old.header("ETag") == '"1"'
    f = old.json()
    assert f["properties"]["dlbm"] == PARCELS[MOVED][1]
    assert f["geometry"]["coordinates"][0][0] == list(PARCELS[MOVED][0][:2]), f["geometry"]
    assert abs(f["properties"]["area_m2"] - geo.rect_area(*PARCELS[MOVED][0])) < 0.01
    new = SRV.get(url(f"/collections/parcels/items/{i}", asof=T["moved"]))
    assert new.header("ETag") == '"2"' and new.json()["properties"]["dlbm"] == NEW_CLASS
    # the deleted parcel: there before its delete, gone at it, as it is now
    d = SRV.get_json(url("/collections/parcels/items", code=GONE, asof=just_before(T["gone"])))
    assert d["numberReturned"] == 1
    gid = d["features"][0]["id"]
    assert SRV.get(url(f"/collections/parcels/items/{gid}", asof=just_before(T["gone"]))).status == 200
    assert SRV.get(url(f"/collections/parcels/items/{gid}", asof=T["gone"])).status == 404
    assert SRV.get(f"/collections/parcels/items/{gid}").status == 404
    # before anything was written: nothing
    assert SRV.get(url(f"/collections/parcels/items/{i}", asof=just_before(T["first"]))).status == 404


def test_bbox_pages():
    old_box, new_box = PARCELS[MOVED][0], NEW_BOX
    for asof, state in states():
        for box in (old_box, new_box, r(0, 0, 3, 3)):
            inner = (box[0] + D / 4, box[1] + D / 4, box[2] - D / 4, box[3] - D / 4)
            bbox = ",".join(str(v) for v in inner)
            fc = ok("/collections/parcels/items", bbox=bbox, asof=asof, limit=100)
            got = sorted(f["properties"]["code"] for f in fc["features"])
            want = sorted(c for c, (b, _) in state.items()
                          if b[0] < inner[2] and b[2] > inner[0] and b[1] < inner[3] and b[3] > inner[1])
            assert got == want, (asof, box, got, want)
            assert fc["numberMatched"] == len(want)
        # a CQL2 filter over the state of then
        fc = ok("/collections/parcels/items", asof=asof, limit=100,
                filter="dlbm = '0101' AND S_INTERSECTS(geometry, POLYGON((118 29, 119 29, 119 30, 118 30, 118 29)))")
        want = sorted(c for c, (_, k) in state.items() if k == "0101")
        assert sorted(f["properties"]["code"] for f in fc["features"]) == want, asof
        assert fc["numberMatched"] == len(want)
        # a page without bbox, sorted, counted over the whole state
        fc = ok("/collections/parcels/items", asof=asof, limit=5, offset=3, sortby="-code")
        assert fc["numberMatched"] == len(state)
        assert [f["properties"]["code"] for f in fc["features"]] == sorted(state, reverse=True)[3:8]


def test_stats_and_summary():
    for asof, state in states():
        res = ok("/collections/parcels/stats", group_by="dlbm", asof=asof)
        assert res["total"]["count"] == len(state), (asof, res["total"])
        g = {x["key"]: x for x in res["groups"]}
        for k in CLASSES:
            boxes = [b for b, kk in state.values() if kk == k]
            assert g.get(k, {"count": 0})["count"] == len(boxes), (asof, k)
            if boxes:
                assert abs(g[k]["area_m2"] - sum(geo.rect_area(*b) for b in boxes)) < 0.05, (asof, k)
        s = ok("/summary", asof=asof)
        p = s["collections"]["parcels"]
        assert p["total"]["count"] == len(state)
        assert abs(p["total"]["area_m2"] - sum(geo.rect_area(*b) for b, _ in state.values())) < 0.05
    # the whole-area summary of now is not one of the past ones
    now = ok("/summary")["collections"]["parcels"]["total"]["count"]
    assert now == len(PARCELS) - 1
    # stats within an area named by a feature: the grid as it was (unchanged shape)
    res = ok("/collections/parcels/stats", within=f"grids/{GRID}", asof=just_before(T["moved"]))
    inside = [c for c, (b, _) in PARCELS.items() if b[0] < GRIDS[GRID][2] and b[1] < GRIDS[GRID][3]
              and b[2] > GRIDS[GRID][0] and b[3] > GRIDS[GRID][1]]
    assert res["total"]["count"] == len(inside), res["total"]


def test_locate_and_overlaps():
    x, y = X0 + 1.7 * D, Y0 + 0.7 * D
    assert ok("/locate", lon=x, lat=y, asof=just_before(T["grid"]))["grid"]["manager"] == "网格员01"
    assert ok("/locate", lon=x, lat=y, asof=T["grid"])["grid"]["manager"] == "新网格员"
    # the moved parcel's old place: hit then, not now
    mx, my = PARCELS[MOVED][0][0] + D / 2, PARCELS[MOVED][0][1] + D / 2
    then = ok("/locate", lon=mx, lat=my, asof=just_before(T["moved"]))["hits"]["parcels"]
    now = ok("/locate", lon=mx, lat=my)["hits"]["parcels"]
    assert then == [fid(MOVED)] and now == [], (then, now)
    # parcels overlapping the farmland base F1 (cells 1..5 x 0..2): the
    # deleted parcel P0101 among them before its delete, not after
    def pairs(asof):
        res = ok("/collections/farmland/overlaps", **{"with": "parcels", "limit": 1000, "asof": asof})
        return {p["b"] for p in res["pairs"]}
    gone = SRV.get_json(url("/collections/parcels/items", code=GONE, asof=just_before(T["gone"])))
    gone_id = gone["features"][0]["id"]
    before, after = pairs(just_before(T["gone"])), pairs(T["gone"])
    assert gone_id in before and before - after == {gone_id}, (gone_id, before, after)

def test_period():
    # the writes of the test: one parcel changed, one removed, a grid changed
    res = ok("/summary", **{"from": just_before(T["moved"])})
    p, g = res["collections"]["parcels"], res["collections"]["grids"]
    assert (p["added"], p["removed"], p["changed"]) == (0, 1, 1), p
    assert (p["count_from"], p["count_to"]) == (len(PARCELS), len(PARCELS) - 1), p
    want = geo.rect_area(*NEW_BOX) - geo.rect_area(*PARCELS[MOVED][0]) - geo.rect_area(*PARCELS[GONE][0])
    assert abs(p["area_change_m2"] - want) < 0.05, (p, want)
    assert abs(p["area_change_mu"] - want / geo.MU) < 1e-4
    assert (g["added"], g["removed"], g["changed"]) == (0, 0, 1), g
    assert res["collections"]["villages"]["changed"] == 0
    # from before the first load: everything was added, and the figures
    # name the site that reached "signed", the bases planted and the
    # community that joined the alliance
    res = ok("/summary", **{"from": "2000-01-01T00:00:00Z", "to": just_before(T["moved"])})
    assert res["collections"]["parcels"]["added"] == len(PARCELS)
    f = res["figures"]
    assert f["acquired"]["count"] == len(DEMOLITION)
    assert abs(f["acquired"]["area_mu"] - geo.rect_area(*DEMOLITION["D1"]) / geo.MU) < 1e-3
    assert [x["code"] for x in f["acquired"]["features"]] == ["D1"]
    assert f["acquired"]["features"][0]["from"] is None and f["acquired"]["features"][0]["to"] == "signed"
    assert f["demolished"]["count"] == 0 and f["demolished"]["features"] == []
    crops = {c["crop"]: c for c in f["planted"]["crops"]}
    for code, (box, crop) in FARMLAND.items():
        assert abs(crops[crop]["area_mu"] - geo.rect_area(*box) / geo.MU) < 1e-3, crops
    assert sorted(x["code"] for x in f["planted"]["features"]) == sorted(FARMLAND)
    assert [x["code"] for x in f["red_property_joined"]["features"]] == ["C1"]
    # within an area: the moved parcel's old place only
    box = ",".join(str(v) for v in PARCELS[MOVED][0])
    res = ok("/summary", bbox=box, **{"from": just_before(T["moved"]), "to": T["moved"]})
    p = res["collections"]["parcels"]
    assert p["count_from"] >= 1 and p["removed"] == 1 and p["changed"] == 0, p
    # errors name the parameter
    for params, word in (({"to": T["moved"]}, "from"), ({"from": "soon"}, "from"),
                         ({"from": T["gone"], "to": T["moved"]}, "before"),
                         ({"from": T["moved"], "to": "2020"}, "to")):
        res = SRV.get(url("/summary", **params))
        assert res.status == 400 and word in res.json()["description"], (params, res.body)


def tile_features(asof, z, lon, lat):
    fx, fy = lonlat_to_tile(lon, lat, z)
    res = SRV.get(url(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{int(fy)}/{int(fx)}",
                      **({"asof": asof} if asof else {})))
    assert res.status in (200, 204), (res.status, res.body[:200])
    if res.status == 204:
        return {}, res
    feats = mvt_decode.decode(res.body).get("parcels", {}).get("features", [])
    return {f["id"]: f for f in feats}, res


def test_tiles():
    i = fid(MOVED)
    ox, oy = PARCELS[MOVED][0][0] + D / 2, PARCELS[MOVED][0][1] + D / 2
    nx, ny = NEW_BOX[0] + D / 2, NEW_BOX[1] + D / 2
    for z in (14, 17):
        old_here, _ = tile_features(just_before(T["moved"]), z, ox, oy)
        new_here, res = tile_features(T["moved"], z, ox, oy)
        old_there, _ = tile_features(just_before(T["moved"]), z, nx, ny)
        new_there, _ = tile_features(T["moved"], z, nx, ny)
        same_tile = [int(v) for v in lonlat_to_tile(ox, oy, z)] == [int(v) for v in lonlat_to_tile(nx, ny, z)]
        assert i in old_here, (z, sorted(old_here))
        assert i in new_there, (z, sorted(new_there))
        if not same_tile:
            assert i not in new_here and i not in old_there, z
        # a recent instant may still be written: not cached for good
        assert res.header("Cache-Control") == "no-cache"
    # long ago: nothing there yet, and that never changes
    _, res = tile_features("2001-01-01T00:00:00Z", 15, ox, oy)
    assert res.status == 204
    assert "immutable" in res.header("Cache-Control")


def test_export_asof():
    out = harness.run("export", SRV.db, "parcels", "--asof", just_before(T["moved"])).stdout
    fc = json.loads(out)
    got = {f["properties"]["code"]: f["properties"]["dlbm"] for f in fc["features"]}
    assert got == {c: k for c, (_, k) in PARCELS.items()}
    now = json.loads(harness.run("export", SRV.db, "parcels").stdout)
    assert len(now["features"]) == len(PARCELS) - 1
    bad = harness.run("export", SRV.db, "parcels", "--asof", "yesterday", check=False)
    assert bad.returncode == 2 and "--asof" in bad.stderr and "RFC 3339" in bad.stderr


def test_bad_instants():
    for value, word in (("2020-13-01T00:00:00Z", "RFC 3339"), ("yesterday", "RFC 3339"),
                        ("2020-01-01", "RFC 3339"), ("2020-01-01T00:00:00", "RFC 3339"),
                        ("2999-01-01T00:00:00Z", "future")):
        for path in ("/collections/parcels/items", "/collections/parcels/stats", "/summary",
                     "/collections/parcels/tiles/WebMercatorQuad/15/13520/27170"):
            res = SRV.get(url(path, asof=value))
            assert res.status == 400, (path, value, res.status)
            body = res.json()
            assert "asof" in body["description"] and word in body["description"], body
    # offsets and fractions are read as RFC 3339 says
    i = fid(MOVED)
    t = datetime.datetime.strptime(T["moved"], "%Y-%m-%dT%H:%M:%S.%fZ") + datetime.timedelta(hours=8)
    local = t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+08:00"
    assert SRV.get(url(f"/collections/parcels/items/{i}", asof=local)).header("ETag") == '"2"'
    # where the past is not asked for, asof is an unknown parameter
    res = SRV.get(url("/collections", asof=T["moved"]))
    assert res.status == 400 and "asof" in res.json()["description"]


if __name__ == "__main__":
    tmp = harness.fresh_db("asof")
    build(tmp)
    with harness.Server(db=tmp) as SRV:
        setup()
        harness.main([test_item_then_and_now, test_bbox_pages, test_stats_and_summary,
                      test_locate_and_overlaps, test_period, test_tiles, test_export_asof, test_bad_instants])
