"""A database made before onemap kept past versions (no tables of them, no
valid-from times, schema_version 1) is brought up to date the first time it
is opened for writing, from its history alone: then asof reads answer as
for a database that kept them from the start, and later writes keep them.
The old form is made here from a database this onemap wrote, with the
sqlite3 shell (SpatiaLite loaded) or psql."""
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import geo  # noqa: E402
import harness  # noqa: E402
from test_area_queries import PARCELS, build, r  # noqa: E402

LAYERS = ["villages", "grids", "parcels", "farmland", "demolition_sites", "communities"]


def sql(db, text):
    if harness.BACKEND == "postgresql":
        res = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", db],
                             input=text, capture_output=True, text=True)
    else:
        res = subprocess.run(["sqlite3", "-bail", db], input=".load mod_spatialite\n" + text,
                             capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def downgrade(db):
    """The database as an onemap from before past versions left it."""
    parts = []
    for layer in LAYERS:
        if harness.BACKEND == "sqlite":  # SpatiaLite's registry and R-tree first
            parts.append(f"SELECT DiscardGeometryColumn('onemap_past_{layer}', 'geom');"
                         f"DROP TABLE idx_onemap_past_{layer}_geom;")
        parts.append(f"DROP TABLE onemap_past_{layer};"
                     f"ALTER TABLE {layer} DROP COLUMN since;")
        if harness.BACKEND == "postgresql":  # each geometry's GeoJSON text kept beside it
            parts.append(f"ALTER TABLE {layer} ADD COLUMN gj text;"
                         f"UPDATE {layer} SET gj = ST_AsGeoJSON(geom, 9);"
                         f"ALTER TABLE {layer} ALTER COLUMN gj SET NOT NULL;")
    parts.append("UPDATE onemap_meta SET value = '1' WHERE key = 'schema_version';")
    sql(db, "\n".join(parts))


def just_before(at):
    t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ") - datetime.timedelta(milliseconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_upgrade_from_history():
    db = harness.fresh_db("upgrade")
    build(db)
    moved = r(30, 30, 31, 31)
    with harness.Server(db=db) as s:
        tok = s.token("ed", "editor")
        h = {"Authorization": "Bearer " + tok, "Content-Type": "application/merge-patch+json"}
        fc = s.get_json("/collections/parcels/items?code=P0000")
        i = fc["features"][0]["id"]
        res = s.request("PATCH", f"/collections/parcels/items/{i}", headers=h,
                        body={"properties": {"dlbm": "0999"},
                              "geometry": {"type": "Polygon", "coordinates": [geo.rect_ring(*moved)]}})
        assert res.status == 200, res.body
        gone = s.get_json("/collections/parcels/items?code=P0303")["features"][0]["id"]
        assert s.request("DELETE", f"/collections/parcels/items/{gone}",
                         headers={"Authorization": "Bearer " + tok}).status == 204
        versions = s.get_json(f"/collections/parcels/items/{i}/history")["versions"]
        t_patch = [v["at"] for v in versions if v["version"] == 2][0]
        t_load = [v["at"] for v in versions if v["version"] == 1][0]
        want_then = s.get_json(f"/collections/parcels/items?asof={just_before(t_patch)}&limit=100")
    downgrade(db)
    assert sql(db, "SELECT value FROM onemap_meta WHERE key = 'schema_version'") == "1"
    assert sql(db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'parcels'"
                   " AND column_name = 'since';" if harness.BACKEND == "postgresql" else
               "SELECT count(*) FROM pragma_table_info('parcels') WHERE name = 'since';") == "0"

    # opened read-only (an export): today's map still reads
    now = json.loads(harness.run("export", db, "parcels").stdout)
    assert len(now["features"]) == len(PARCELS) - 1
    # but not the past: said in words, nothing half-read
    res = harness.run("export", db, "parcels", "--asof", t_patch, check=False)
    assert res.returncode == 1 and "earlier onemap" in res.stderr and not res.stdout, res.stderr

    with harness.Server(db=db) as s:  # a writable open: upgraded
        version = "3" if harness.BACKEND == "postgresql" else "2"
        assert sql(db, "SELECT value FROM onemap_meta WHERE key = 'schema_version'") == version
        if harness.BACKEND == "postgresql":  # the text is written from the WKB now
            assert sql(db, "SELECT count(*) FROM information_schema.columns"
                           " WHERE column_name = 'gj'") == "0"
        assert sql(db, "SELECT count(*) FROM onemap_past_parcels") == "2"  # patched + deleted
        assert sql(db, "SELECT count(*) FROM parcels WHERE since = ''") == "0"
        then = s.get_json(f"/collections/parcels/items?asof={just_before(t_patch)}&limit=100")
        key = lambda f: f["properties"]["code"]  # noqa: E731
        got = sorted(then["features"], key=key)
        want = sorted(want_then["features"], key=key)
        assert [(f["id"], f["properties"], f["geometry"]) for f in got] == \
               [(f["id"], f["properties"], f["geometry"]) for f in want]
        # the rebuilt version's area is computed anew: the same within a millimetre²
        a = {key(f): f["properties"]["area_m2"] for f in got}
        assert abs(a["P0000"] - geo.rect_area(*PARCELS["P0000"][0])) < 0.01
        old = s.get(f"/collections/parcels/items/{i}?asof={just_before(t_patch)}")
        assert old.header("ETag") == '"1"' and old.json()["properties"]["dlbm"] == PARCELS["P0000"][1]
        assert s.get(f"/collections/parcels/items/{gone}?asof={t_patch}").status == 200
        assert s.get(f"/collections/parcels/items/{i}?asof={just_before(t_load)}").status == 404
        # and writes keep past versions from now on
        res = s.request("PATCH", f"/collections/parcels/items/{i}", headers=h,
                        body={"properties": {"dlbm": "0101"}})
        assert res.status == 200, res.body
        t3 = [v["at"] for v in s.get_json(f"/collections/parcels/items/{i}/history")["versions"]
              if v["version"] == 3][0]
        assert s.get_json(f"/collections/parcels/items/{i}?asof={just_before(t3)}")["properties"]["dlbm"] == "0999"


if __name__ == "__main__":
    harness.main([test_upgrade_from_history])
