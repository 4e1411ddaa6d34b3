"""Metadata kept current by every write: a collection's numberOfFeatures and
extent, numberMatched of an unfiltered page, and the whole-area /summary
(kept until the next write) are read without scanning the layer, and stay
exact: each test writes (single features, imports into an empty layer, a
replace import, a write by another process), then reads the new figures and
compares them with figures computed here from what was written."""
import json
import os
import sqlite3
import sys
import tempfile

import geo
import harness
from harness import check, eq, near

TMP = tempfile.mkdtemp(prefix="onemap-meta-")
X0, Y0, D = 118.40, 29.10, 0.001
F32 = 3e-5  # the spatial index keeps boxes as 32-bit floats, rounded outward


def parcel(code, i, j=0, dlbm="0101", w=1):
    return geo.feature({"code": code, "dlbm": dlbm},
                       (round(X0 + i * D, 9), round(Y0 + j * D, 9), round(X0 + (i + w) * D, 9),
                        round(Y0 + (j + 1) * D, 9)))


def hdr(tok):
    return {"Authorization": f"Bearer {tok}", "Content-Type": "application/geo+json"}


def expected(features):
    """Count, extent and per-dlbm (count, m²) of features, computed here."""
    xs = [x for f in features for x, _ in f["geometry"]["coordinates"][0]]
    ys = [y for f in features for _, y in f["geometry"]["coordinates"][0]]
    groups = {}
    for f in features:
        g = groups.setdefault(f["properties"]["dlbm"], [0, 0.0])
        g[0] += 1
        g[1] += geo.polygon_area(f["geometry"]["coordinates"])
    ext = [min(xs), min(ys), max(xs), max(ys)] if xs else None
    return len(features), ext, groups


def check_figures(s, features, what):
    n, ext, groups = expected(features)
    c = s.get_json("/collections/parcels")
    eq(c["numberOfFeatures"], n, f"{what}: numberOfFeatures")
    if ext:
        got = c["extent"]["spatial"]["bbox"][0]
        for k in range(4):
            near(got[k], ext[k], F32, f"{what}: extent[{k}]")
        check(got[0] <= ext[0] and got[1] <= ext[1] and got[2] >= ext[2] and got[3] >= ext[3],
              f"{what}: the extent {got} holds every feature {ext}")
    eq(s.get_json("/collections/parcels/items?limit=1")["numberMatched"], n,
       f"{what}: numberMatched of an unfiltered page")
    summ = s.get_json("/summary")["collections"]["parcels"]
    eq(summ["total"]["count"], n, f"{what}: /summary count")
    near(summ["total"]["area_m2"], sum(m2 for _, m2 in groups.values()), 1e-2,
         f"{what}: /summary m²")
    got_groups = {g["key"]: (g["count"], g["area_m2"]) for g in summ["groups"]}
    eq(sorted(got_groups), sorted(groups), f"{what}: /summary groups")
    for k, (cnt, m2) in groups.items():
        eq(got_groups[k][0], cnt, f"{what}: /summary {k} count")
        near(got_groups[k][1], m2, 1e-3 + m2 * 1e-6, f"{what}: /summary {k} m²")


def test_single_writes_keep_the_figures():
    db = os.path.join(TMP, "single.db")
    harness.run("init", db)
    with harness.Server(db=db) as s:
        tok = s.token("meta", "admin")
        check_figures(s, [], "empty")
        eq(s.get_json("/collections/parcels")["extent"]["spatial"]["bbox"][0], [-180, -90, 180, 90],
           "an empty layer's extent")
        feats = {}
        for k, (i, j, dl) in enumerate([(0, 0, "0101"), (3, 2, "0102"), (-4, 5, "0101")]):
            f = parcel(f"M{k}", i, j, dl)
            res = s.request("POST", "/collections/parcels/items", body=f, headers=hdr(tok))
            eq(res.status, 201, res.body)
            feats[f"M{k}"] = (f, res.header("Location").rsplit("/", 1)[1])
            check_figures(s, [v[0] for v in feats.values()], f"after POST M{k}")
        # the westernmost one moves east: the extent shrinks
        f, fid = feats["M2"]
        moved = parcel("M2", 1, 1, "0201", w=2)
        etag = s.get(f"/collections/parcels/items/{fid}").header("ETag")
        res = s.request("PUT", f"/collections/parcels/items/{fid}", body=moved,
                        headers={**hdr(tok), "If-Match": etag})
        eq(res.status, 200, res.body)
        feats["M2"] = (moved, fid)
        check_figures(s, [v[0] for v in feats.values()], "after PUT")
        # the north-easternmost one goes
        f, fid = feats.pop("M1")
        eq(s.request("DELETE", f"/collections/parcels/items/{fid}", headers=hdr(tok)).status, 204,
           "DELETE")
        check_figures(s, [v[0] for v in feats.values()], "after DELETE")
        res = s.request("PATCH", f"/collections/parcels/items/{feats['M0'][1]}",
                        body={"properties": {"dlbm": "0102"}},
                        headers={**hdr(tok), "Content-Type": "application/merge-patch+json"})
        eq(res.status, 200, res.body)
        feats["M0"][0]["properties"]["dlbm"] = "0102"
        check_figures(s, [v[0] for v in feats.values()], "after PATCH")


def test_imports_keep_the_figures():
    db = os.path.join(TMP, "imports.db")
    harness.run("init", db)
    # large enough for the bulk load into an empty layer (rows without
    # per-row triggers, the totals added at the end)
    feats = [parcel(f"B{k:05d}", k % 100, k // 100, ("0101", "0102", "0201")[k % 3])
             for k in range(3000)]
    with harness.Server(db=db) as s:
        tok = s.token("meta", "admin")
        res = s.request("POST", "/collections/parcels/import",
                        body={"type": "FeatureCollection", "features": feats}, headers=hdr(tok))
        eq(res.status, 200, res.body[:300])
        check_figures(s, feats, "after a bulk import")
        keep = feats[:1000]
        res = s.request("POST", "/collections/parcels/import?mode=replace",
                        body={"type": "FeatureCollection", "features": keep}, headers=hdr(tok))
        eq(res.json()["removed"], 2000, res.body[:300])
        check_figures(s, keep, "after a replace import")
        # a failed import changes nothing
        bad = keep[:10] + [parcel("B00001", 500, 500)]
        res = s.request("POST", "/collections/parcels/import",
                        body={"type": "FeatureCollection", "features": bad}, headers=hdr(tok))
        check(res.status in (409, 422), res.body[:300])
        check_figures(s, keep, "after a refused import")
        # another process writes: the server's figures follow at once
        extra = [parcel(f"C{k}", 200 + k, 0, "0702") for k in range(5)]
        harness.run("import", db, "parcels",
                    harness.write_json(os.path.join(TMP, "extra.geojson"),
                                       {"type": "FeatureCollection", "features": extra}))
        check_figures(s, keep + extra, "after an import by the command line")


def test_database_from_before_gets_its_figures():
    db = os.path.join(TMP, "old.db")
    harness.run("init", db)
    feats = [parcel(f"O{k}", k, 0) for k in range(7)]
    harness.run("import", db, "parcels", harness.write_json(
        os.path.join(TMP, "old.geojson"), {"type": "FeatureCollection", "features": feats}))
    con = sqlite3.connect(db)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                       " AND name LIKE 'onemap_stats_%'")]
    check(len(names) == 18, f"three triggers per layer: {names}")
    for n in names:
        con.execute(f'DROP TRIGGER "{n}"')
    con.execute("DROP TABLE onemap_layer_stats")
    con.commit()
    con.close()
    # read-only commands count as before
    p = harness.run("export", db, "parcels")
    eq(len(json.loads(p.stdout)["features"]), 7, "export of a database from before")
    with harness.Server(db=db) as s:
        check_figures(s, feats, "a database from before")
    con = sqlite3.connect(db)
    eq(con.execute("SELECT features FROM onemap_layer_stats WHERE layer = 'parcels'").fetchone()[0],
       7, "its figures are kept from now on")
    con.close()


TESTS = [test_single_writes_keep_the_figures, test_imports_keep_the_figures,
         test_database_from_before_gets_its_figures]

if __name__ == "__main__":
    harness.main(TESTS)
