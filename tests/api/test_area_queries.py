"""Area queries (stats, summary, locate, overlaps) on a data set built here,
checked against areas computed independently in geo.py."""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import geo  # noqa: E402
import harness  # noqa: E402

X0, Y0, D = 118.40, 29.13, 0.001
CLASSES = ["0101", "0102", "0201"]


def cell(i, j):
    return (X0 + i * D, Y0 + j * D, X0 + (i + 1) * D, Y0 + (j + 1) * D)


def r(x0, y0, x1, y1):
    return (X0 + x0 * D, Y0 + y0 * D, X0 + x1 * D, Y0 + y1 * D)


VILLAGES = {"330824003001": r(0, 0, 8, 4), "330824003002": r(8, 0, 12, 4)}
GRIDS = {"33082400300101": r(0, 0, 4, 4), "33082400300102": r(4, 0, 8, 4),
         "33082400300201": r(8, 0, 12, 4)}
MICRO = {"3308240030010101": r(0, 0, 4, 2), "3308240030010102": r(0, 2, 4, 4)}
FARMLAND = {"F1": (r(1.5, 0.5, 5.5, 2.5), "香榧"), "F2": (r(9, 1, 11, 3), "油茶")}
DEMOLITION = {"D1": r(5, 2, 7, 3.5)}
COMMUNITIES = {"C1": r(9.2, 3.2, 9.8, 3.8), "C2": r(9.5, 3.5, 9.9, 3.9)}
PARCELS = {f"P{i:02d}{j:02d}": (cell(i, j), CLASSES[(i + j) % 3]) for i in range(12) for j in range(4)}


def build(db):
    layers = {
        "villages": [geo.feature({"code": c, "name": f"村{c[-1]}", "kind": "村" if c[-1] == "1" else "社区"}, b)
                     for c, b in VILLAGES.items()],
        "grids": [geo.feature({"code": c, "name": c, "level": "网格", "village_code": c[:12],
                               "manager": f"网格员{c[-2:]}", "phone": "0570-6500000"}, b)
                  for c, b in GRIDS.items()] +
                 [geo.feature({"code": c, "name": c, "level": "微网格", "village_code": c[:12],
                               "parent_code": c[:14]}, b) for c, b in MICRO.items()],
        "parcels": [geo.feature({"code": c, "dlbm": k, "qsxz": "集体"}, b) for c, (b, k) in PARCELS.items()],
        "farmland": [geo.feature({"code": c, "crop": k}, b) for c, (b, k) in FARMLAND.items()],
        "demolition_sites": [geo.feature({"code": c, "project": "测试项目", "status": "signed"}, b)
                             for c, b in DEMOLITION.items()],
        "communities": [geo.feature({"code": c, "name": c, "red_property": c == "C1"}, b)
                        for c, b in COMMUNITIES.items()],
    }
    harness.run("init", db)
    for name, feats in layers.items():
        path = geo.write_fc(feats)
        harness.run("import", db, name, path)
        os.unlink(path)


SRV = None


def q(path, **params):
    res = SRV.get(path + ("?" + urllib.parse.urlencode(params) if params else ""))
    return res


def ok(path, **params):
    res = q(path, **params)
    assert res.status == 200, (path, params, res.status, res.body[:300])
    return res.json()


def close(a, b, rel=1e-4, absolute=1e-3):
    return abs(a - b) <= max(absolute, rel * abs(b))


def fid(collection, code):
    fc = ok(f"/collections/{collection}/items", code=code)
    assert fc["numberReturned"] == 1, fc
    return fc["features"][0]["id"]


def groups(res):
    return {g["key"]: g for g in res["groups"]}


def test_whole_layer_grouped():
    res = ok("/collections/parcels/stats", group_by="dlbm")
    g = groups(res)
    assert res["total"]["count"] == len(PARCELS)
    for k in CLASSES:
        exp = [b for b, kk in PARCELS.values() if kk == k]
        assert g[k]["count"] == len(exp)
        assert close(g[k]["area_m2"], sum(geo.rect_area(*b) for b in exp)), (k, g[k])
        assert close(g[k]["area_mu"], g[k]["area_m2"] / geo.MU)
        assert close(g[k]["area_ha"], g[k]["area_m2"] / 10000)
    areas = [x["area_m2"] for x in res["groups"]]
    assert areas == sorted(areas, reverse=True), "groups sorted by area, largest first"


def expected_in(box, clip):
    out = {}
    for b, k in PARCELS.values():
        part = geo.rect_clip(b, box)
        if part[0] < part[2] and part[1] < part[3]:
            n, a = out.get(k, (0, 0.0))
            out[k] = (n + 1, a + (geo.rect_area(*part) if clip else geo.rect_area(*b)))
    return out


BOX = r(2.5, 0.5, 6.3, 2.2)


def check_groups(res, exp):
    g = groups(res)
    assert set(g) == set(exp), (set(g), set(exp))
    for k, (n, a) in exp.items():
        assert g[k]["count"] == n, (k, g[k], n)
        assert close(g[k]["area_m2"], a), (k, g[k]["area_m2"], a)
    assert res["total"]["count"] == sum(n for n, _ in exp.values())


def test_bbox_clip_and_whole():
    bbox = ",".join(repr(v) for v in BOX)
    check_groups(ok("/collections/parcels/stats", bbox=bbox, group_by="dlbm"), expected_in(BOX, True))
    check_groups(ok("/collections/parcels/stats", bbox=bbox, group_by="dlbm", clip="false"),
                 expected_in(BOX, False))


def test_stats_with_filter():
    bbox = ",".join(repr(v) for v in BOX)
    exp = {k: v for k, v in expected_in(BOX, True).items() if k in ("0101", "0201")}
    res = ok("/collections/parcels/stats", bbox=bbox, group_by="dlbm",
             filter="dlbm IN ('0101', '0201')")
    check_groups(res, exp)
    half = r(0, 0, 6, 4)  # S_INTERSECTS with the left half: the filter's geometry narrows the area
    res = ok("/collections/parcels/stats", group_by="dlbm", clip="false",
             filter=f"S_INTERSECTS(geometry, {wkt(half)}) AND dlbm = '0102'")
    n = sum(1 for b, k in PARCELS.values() if k == "0102" and b[0] <= half[2])  # touching intersects
    assert res["total"]["count"] == n, (res["total"], n)
    body = {"geometry": {"type": "Polygon", "coordinates": [geo.rect_ring(*BOX)]}, "group_by": "dlbm",
            "filter": "dlbm = '0101'"}
    res = SRV.request("POST", "/collections/parcels/stats", body=body,
                      headers={"Content-Type": "application/json"})
    assert res.status == 200, res.body
    check_groups(res.json(), {"0101": exp["0101"]})
    bad = SRV.get("/collections/parcels/stats?filter=" + urllib.parse.quote("dlbm = "))
    assert bad.status == 400 and "filter" in bad.json()["description"]


def wkt(b):
    x0, y0, x1, y1 = b
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def test_wkt_and_post_geometry():
    exp = expected_in(BOX, True)
    check_groups(ok("/collections/parcels/stats", geometry=wkt(BOX), group_by="dlbm"), exp)
    body = {"geometry": {"type": "Polygon", "coordinates": [geo.rect_ring(*BOX)]}, "group_by": "dlbm",
            "clip": True}
    res = SRV.request("POST", "/collections/parcels/stats", body=body,
                      headers={"Content-Type": "application/json"})
    assert res.status == 200, res.body
    check_groups(res.json(), exp)


def test_within_grid_by_id_and_code():
    g = fid("grids", "33082400300102")
    exp = expected_in(GRIDS["33082400300102"], True)
    a = ok("/collections/parcels/stats", within=f"grids/{g}", group_by="dlbm")
    b = ok("/collections/parcels/stats", within="grids/33082400300102", group_by="dlbm")
    check_groups(a, exp)
    assert a["total"] == b["total"]


def test_summary_grids_add_up_to_village():
    total = {}
    for code in ["33082400300101", "33082400300102"]:
        s = ok("/summary", within=f"grids/{fid('grids', code)}")
        for layer, v in s["collections"].items():
            total[layer] = total.get(layer, 0.0) + v["total"]["area_m2"]
    village = ok("/summary", within=f"villages/{fid('villages', '330824003001')}")
    for layer in ["parcels", "farmland", "demolition_sites"]:
        assert close(total[layer], village["collections"][layer]["total"]["area_m2"]), layer
    assert close(village["collections"]["parcels"]["total"]["area_m2"],
                 geo.rect_area(*VILLAGES["330824003001"]))
    fl = groups(village["collections"]["farmland"])
    assert close(fl["香榧"]["area_m2"], geo.rect_area(*FARMLAND["F1"][0])), fl
    assert village["collections"]["parcels"]["group_by"] == "dlbm"


def test_locate_interior_boundary_corner_outside():
    x, y = X0 + 1.7 * D, Y0 + 0.7 * D
    res = ok("/locate", lon=x, lat=y)
    assert res["village"]["code"] == "330824003001"
    assert res["grid"]["code"] == "33082400300101"
    assert res["grid"]["manager"] == "网格员01"
    assert res["micro_grid"]["code"] == "3308240030010101"
    assert res["hits"]["parcels"] == [fid("parcels", "P0100")]
    assert res["hits"]["farmland"] == [fid("farmland", "F1")]
    # on the edge between two grids: exactly one grid, both hit
    res = ok("/locate", lon=X0 + 4 * D, lat=Y0 + 1.5 * D)
    assert res["grid"] is not None and res["grid"]["code"] in GRIDS
    assert len([h for h in res["hits"]["grids"]]) >= 2
    # the corner of four parcels
    res = ok("/locate", lon=X0 + 2 * D, lat=Y0 + 2 * D)
    assert len(res["hits"]["parcels"]) == 4, res["hits"]
    assert res["grid"]["code"] == "33082400300101"
    assert res["micro_grid"]["code"] in MICRO
    res = ok("/locate", lon=117.0, lat=29.0)
    assert res["village"] is None and res["grid"] is None and res["micro_grid"] is None
    assert all(v == [] for v in res["hits"].values())


def test_overlaps():
    res = ok("/collections/farmland/overlaps", **{"with": "demolition_sites"})
    assert res["numberMatched"] == 1, res
    p = res["pairs"][0]
    assert p["a"] == fid("farmland", "F1") and p["b"] == fid("demolition_sites", "D1")
    assert close(p["area_m2"], geo.rect_area(*geo.rect_clip(FARMLAND["F1"][0], DEMOLITION["D1"])))
    assert close(p["area_mu"], p["area_m2"] / geo.MU)
    assert ok("/collections/parcels/overlaps", **{"with": "parcels"})["numberMatched"] == 0
    res = ok("/collections/communities/overlaps", **{"with": "communities"})
    assert res["numberMatched"] == 1
    assert close(res["pairs"][0]["area_m2"], geo.rect_area(*geo.rect_clip(COMMUNITIES["C1"], COMMUNITIES["C2"])))
    # paging: parcels touching the grid edge
    res = ok("/collections/parcels/overlaps", **{"with": "grids", "limit": "5"})
    assert res["numberReturned"] == 5 and res["numberMatched"] > 5
    assert any(l["rel"] == "next" for l in res["links"])


def test_errors():
    cases = [
        ("/collections/parcels/stats?group_by=nope", 400, "group_by"),
        ("/collections/parcels/stats?bbox=1,2,3,4&within=grids/1", 400, "only one"),
        ("/collections/parcels/stats?within=grids/99999999", 404, "within"),
        ("/collections/parcels/stats?within=nogrid", 400, "within"),
        ("/collections/parcels/stats?within=nope/1", 404, "nope"),
        ("/collections/parcels/stats?geometry=" + urllib.parse.quote(
            "POLYGON((118.4 29.13,118.401 29.131,118.401 29.13,118.4 29.131,118.4 29.13))"), 400,
         "Self-intersection"),
        ("/collections/parcels/stats?geometry=" + urllib.parse.quote("POINT(118.4 29.13)"), 400, "Polygon"),
        ("/collections/parcels/stats?geometry=POLYGON((", 400, "geometry"),
        ("/collections/parcels/stats?clip=maybe", 400, "clip"),
        ("/collections/parcels/stats?bbox=1,2,3", 400, "bbox"),
        ("/collections/nope/stats", 404, "nope"),
        ("/summary?group_by=x", 400, "group_by"),
        ("/locate?lon=118.4", 400, "lat"),
        ("/locate?lon=abc&lat=29", 400, "lon"),
        ("/locate?lon=118.4&lat=29&crs=EPSG:1", 400, "crs"),
        ("/collections/parcels/overlaps", 400, "with"),
        ("/collections/parcels/overlaps?with=nope", 400, "with"),
        ("/collections/parcels/overlaps?with=grids&limit=0", 400, "limit"),
    ]
    for path, status, word in cases:
        res = SRV.get(path)
        assert res.status == status, (path, res.status, res.body)
        body = res.json()
        assert word in body["description"], (path, body)
    res = SRV.request("POST", "/collections/parcels/stats", body="{}", headers={"Content-Type": "text/plain"})
    assert res.status == 415
    res = SRV.request("POST", "/collections/parcels/stats", body="{bad", headers={"Content-Type": "application/json"})
    assert res.status == 400 and "body" in res.json()["description"]
    res = SRV.request("POST", "/collections/parcels/stats", body={"geometry": 3},
                      headers={"Content-Type": "application/json"})
    assert res.status == 400
    assert SRV.alive()


if __name__ == "__main__":
    import tempfile
    tmp = tempfile.mkdtemp(prefix="onemap-area-")
    db = os.path.join(tmp, "area.db")
    build(db)
    with harness.Server(db=db) as SRV:
        harness.main([test_whole_layer_grouped, test_bbox_clip_and_whole, test_wkt_and_post_geometry, test_stats_with_filter,
                      test_within_grid_by_id_and_code, test_summary_grids_add_up_to_village,
                      test_locate_interior_boundary_corner_outside, test_overlaps, test_errors])
