"""The 芹阳 demo data set as the office reads it: the 2020 report's figures
come back from the map and its history, grids add up to their villages, and
every point of the sub-district has exactly one responsible grid."""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

REPORT_MU = {"大棚蔬菜": 600, "山地蔬菜": 600, "中药材": 320, "香榧": 668, "油茶": 310, "蟠姜": 20}
YEAR = ("2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z")  # the report's year
SRV = None


def ok(path):
    res = SRV.get(path)
    assert res.status == 200, (path, res.status, res.body[:300])
    return res.json()


def all_items(collection):
    return ok(f"/collections/{collection}/items?limit=10000")["features"]


def test_report_figures():
    res = ok("/collections/farmland/stats?group_by=crop")
    got = {g["key"]: g["area_mu"] for g in res["groups"]}
    for crop, mu in REPORT_MU.items():
        assert abs(got[crop] - mu) <= 0.005 * mu, (crop, got.get(crop), mu)
    # the year's sites: signed (亩 acquired) or demolished (houses, m2, graves)
    # in 2020, from the status each had before, as its history tells
    sites = all_items("demolition_sites")
    mu, demolished = 0.0, {"households": 0, "floor_area_m2": 0, "graves": 0}
    for f in sites:
        versions = ok(f"/collections/demolition_sites/items/{f['id']}/history")["versions"]
        assert all(v["at"] < YEAR[1] for v in versions), versions
        before = [v for v in versions if v["at"] <= YEAR[0]]
        was = max(before, key=lambda v: v["version"])["feature"]["properties"]["status"] \
            if before else None
        now = f["properties"]["status"]
        if now in ("signed", "demolished", "reused") and was not in ("signed", "demolished",
                                                                     "reused"):
            mu += f["properties"]["area_mu"]
        if now in ("demolished", "reused") and was not in ("demolished", "reused"):
            for k in demolished:
                demolished[k] += f["properties"][k]
    assert abs(mu - 1883) <= 0.005 * 1883, mu
    assert demolished == {"households": 39, "floor_area_m2": 14000, "graves": 145}, demolished
    assert len({f["properties"]["status"] for f in sites}) >= 3
    villages = all_items("villages")
    assert len(villages) == 26
    names = {f["properties"]["name"] for f in villages}
    assert {"密赛村", "桃溪村", "翁村村", "五福村"} <= names
    red = ok("/collections/communities/stats?group_by=red_property")
    assert any(g["key"] is True and g["count"] > 0 for g in red["groups"])


def test_grids_add_up_to_villages():
    grids = [f for f in all_items("grids") if f["properties"]["level"] == "网格"]
    villages = {f["properties"]["code"]: f for f in all_items("villages")}
    sums = {}
    for g in grids:
        s = ok(f"/summary?within=grids/{g['id']}")
        v = g["properties"]["village_code"]
        acc = sums.setdefault(v, {})
        for layer, x in s["collections"].items():
            acc[layer] = acc.get(layer, 0.0) + x["total"]["area_m2"]
    assert set(sums) == set(villages)
    for code, acc in sums.items():
        whole = ok(f"/summary?within=villages/{villages[code]['id']}")["collections"]
        for layer in ["parcels", "farmland", "demolition_sites", "communities"]:
            exp = whole[layer]["total"]["area_m2"]
            assert abs(acc[layer] - exp) <= max(1e-4 * exp, 0.01), (code, layer, acc[layer], exp)
        assert abs(acc["parcels"] - villages[code]["properties"]["area_m2"]) <= 1e-4 * acc["parcels"]


def test_every_point_has_one_grid():
    ext = ok("/collections/villages")["extent"]["spatial"]["bbox"][0]
    rng = random.Random(2020)
    inside = 0
    for _ in range(300):
        x = rng.uniform(ext[0], ext[2])
        y = rng.uniform(ext[1], ext[3])
        res = ok(f"/locate?lon={x}&lat={y}")
        if res["village"] is None:
            assert res["grid"] is None and res["hits"]["villages"] == []
            continue
        inside += 1
        assert res["grid"] is not None and res["micro_grid"] is not None, res
        assert res["grid"]["village_code"] == res["village"]["code"]
        assert res["micro_grid"]["parent_code"] == res["grid"]["code"]
        assert len(res["hits"]["villages"]) == 1
        assert len(res["hits"]["parcels"]) == 1, res["hits"]
        assert res["grid"]["manager"] and res["grid"]["phone"]
    assert inside > 100
    # a vertex shared by several grids still names exactly one of them
    g = all_items("grids")[0]
    x, y = g["geometry"]["coordinates"][0][0][:2] if g["geometry"]["type"] == "Polygon" else \
        g["geometry"]["coordinates"][0][0][0][:2]
    res = ok(f"/locate?lon={x}&lat={y}")
    assert res["grid"] is not None and res["village"] is not None
    assert len(res["hits"]["grids"]) >= 2


if __name__ == "__main__":
    with harness.Server(demo=True) as SRV:
        harness.main([test_report_figures, test_grids_add_up_to_villages, test_every_point_has_one_grid])
