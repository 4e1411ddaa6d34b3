"""The demo through time: `onemap demo` loads geodata/demo/history (the base
at the start of 2019, then dated steps) and ends in today's files; a site's
history carries the times of its steps; and the 2020 figures, computed here
from the manifest and the files alone (geodesic areas from geo.py), come out
as the office's 2020 report says. The end of 2019 is checked for being a
plausible state of its own."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import fixtures  # noqa: E402
import geo  # noqa: E402
import harness  # noqa: E402

DEMO = os.path.join(harness.SRC, "geodata", "demo")
HIST = os.path.join(DEMO, "history")
FROM, TO = "2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z"  # the report's year
END = "9999-12-31T00:00:00.000Z"
ACQUIRED = {"signed", "demolished", "reused"}
DEMOLISHED = {"demolished", "reused"}
STATUSES = ["planned", "negotiating", "signed", "demolished", "reused"]
REPORT = {"mu": 1883, "floor_area_m2": 14000, "households": 39, "graves": 145,
          "bases": {"香榧": 668, "油茶": 310}}
READ_ONLY = {"area_m2", "area_mu"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


LAYERS = load(os.path.join(harness.SRC, "geodata", "layers.json"))["layers"]
KEY = {l["id"]: l["key"] for l in LAYERS}


def by_key(layer, features):
    out = {}
    for f in features:
        k = f["properties"][KEY[layer]]
        assert k not in out, (layer, k)
        out[k] = f
    return out


class History:
    """The manifest replayed: each layer's features at any instant."""

    def __init__(self):
        self.manifest = load(os.path.join(HIST, "steps.json"))
        self.today = {l: by_key(l, load(os.path.join(DEMO, l + ".geojson"))["features"])
                      for l in KEY}
        base = self.manifest["base"]
        self.base_at = base["at"]
        self.base = {}
        for e in base["layers"]:
            layer = e["layer"]
            assert os.path.normpath(os.path.join(HIST, e["file"])) == \
                os.path.normpath(os.path.join(DEMO, layer + ".geojson")), e
            feats = dict(self.today[layer])
            for k in e["absent"]:
                assert k in feats, (layer, k, "absent from the base but not in today's file")
                del feats[k]
            if "earlier" in e:
                feats.update(by_key(layer, load(os.path.join(HIST, e["earlier"]))["features"]))
            self.base[layer] = feats
        assert set(self.base) == set(KEY), sorted(self.base)
        self.steps = [(s, by_key(s["layer"], load(os.path.join(HIST, s["file"]))["features"]))
                      for s in self.manifest["steps"]]

    def state(self, layer, t):
        """The layer at instant t: every version is valid from its time on."""
        if t < self.base_at:
            return {}
        feats = dict(self.base[layer])
        for s, fs in self.steps:
            if s["at"] > t:
                break
            if s["layer"] == layer:
                if s.get("mode", "upsert") == "replace":
                    feats = {}
                feats.update(fs)
        return feats

    def versions(self, layer, key):
        """(at, feature) of each version of one feature, oldest first."""
        out = []
        if key in self.base[layer]:
            out.append((self.base_at, self.base[layer][key]))
        for s, fs in self.steps:
            if s["layer"] == layer and key in fs:
                out.append((s["at"], fs[key]))
        return out


H = History()


def just_before(at):
    """The instant a millisecond before at (both in the stored form)."""
    t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ") - datetime.timedelta(milliseconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def area_mu(f):
    return geo.polygon_area(f["geometry"]["coordinates"]) / geo.MU


def rings_equal(a, b, tol=1e-9):
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if len(ra) != len(rb):
            return False
        for p, q in zip(ra, rb):
            if abs(p[0] - q[0]) > tol or abs(p[1] - q[1]) > tol:
                return False
    return True


def simple_ring(ring):
    """Closed, at least a triangle, no two non-adjacent edges meeting."""
    if ring[0] != ring[-1] or len(ring) < 4:
        return False
    pts = [tuple(p) for p in ring[:-1]]
    n = len(pts)
    if len(set(pts)) != n:
        return False
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if fixtures.segments_cross(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                return False
    return True


def test_manifest():
    m = H.manifest
    size = sum(os.path.getsize(os.path.join(HIST, n)) for n in os.listdir(HIST))
    assert size < 300_000, size
    named = {"steps.json"} | {s["file"] for s in m["steps"]} | \
        {e["earlier"] for e in m["base"]["layers"] if "earlier" in e}
    assert named == set(os.listdir(HIST)), set(os.listdir(HIST)) ^ named
    ats = [H.base_at] + [s["at"] for s in m["steps"]]
    assert ats == sorted(ats) and len(set(ats)) == len(ats), "steps in time order, one per instant"
    assert H.base_at < "2020" and all("2019" < a < TO for a in ats[1:])
    assert {s["mode"] for s in m["steps"]} <= {"upsert", "replace"}
    # every step writes each of its features: none is as it was before
    for s, fs in H.steps:
        before = H.state(s["layer"], just_before(s["at"]))
        for k, f in fs.items():
            assert before.get(k) != f, (s["file"], k, "written without a change")
    # the history ends in today's files
    for layer in KEY:
        assert H.state(layer, END) == H.today[layer], layer


def figures():
    """The report's figures for [FROM, TO), by their definitions."""
    s0, s1 = H.state("demolition_sites", FROM), H.state("demolition_sites", TO)

    def status(s, k):
        return s[k]["properties"]["status"] if k in s else None

    acquired = [k for k in s1 if status(s1, k) in ACQUIRED and status(s0, k) not in ACQUIRED]
    demolished = [k for k in s1 if status(s1, k) in DEMOLISHED and status(s0, k) not in DEMOLISHED]
    out = {"mu": sum(area_mu(s1[k]) for k in acquired), "acquired": sorted(acquired),
           "demolished": sorted(demolished)}
    for field in ["floor_area_m2", "households", "graves"]:
        out[field] = sum(s1[k]["properties"][field] for k in demolished)
    f0, f1 = H.state("farmland", FROM), H.state("farmland", TO)
    out["bases"] = {}
    for k, f in f1.items():
        if k not in f0:
            crop = f["properties"]["crop"]
            out["bases"][crop] = out["bases"].get(crop, 0) + area_mu(f)
    return out


def test_2020_figures():
    got = figures()
    for field in ["mu", "floor_area_m2", "households", "graves"]:
        assert abs(got[field] - REPORT[field]) <= 0.005 * REPORT[field], (field, got)
    assert set(got["bases"]) == set(REPORT["bases"]), got["bases"]
    for crop, mu in REPORT["bases"].items():
        assert abs(got["bases"][crop] - mu) <= 0.005 * mu, (crop, got["bases"])
    # the definitions matter: some sites were signed or demolished before 2020,
    # some are not signed yet
    sites = H.today["demolition_sites"]
    assert set(got["acquired"]) < set(sites) and set(got["demolished"]) < set(sites)
    assert set(got["demolished"]) - set(got["acquired"]), "a site signed in 2019, demolished in 2020"
    assert any(f["properties"]["status"] in DEMOLISHED and k not in got["demolished"]
               for k, f in sites.items()), "a site demolished before 2020"


def test_sites_move_through_their_statuses():
    for k, f in H.today["demolition_sites"].items():
        vs = H.versions("demolition_sites", k)
        assert vs[0][0] > H.base_at, (k, "recorded by a step, not in the base")
        statuses = [v["properties"]["status"] for _, v in vs]
        assert statuses == STATUSES[:len(statuses)], (k, statuses)
        p = f["properties"]
        assert vs[0][0][:10] == p["start_date"], (k, vs[0][0], p["start_date"])
        if p["status"] in DEMOLISHED:
            assert vs[-1][0][:10] == p["end_date"], (k, vs[-1][0], p["end_date"])
        else:
            assert p["end_date"] > vs[-1][0][:10], (k, p["end_date"])
        for _, v in vs:
            q = v["properties"]
            assert ("reuse" in q) == (q["status"] == "reused"), (k, q)
            assert v["geometry"] == f["geometry"], k
            assert {x: y for x, y in q.items() if x not in ("status", "reuse")} == \
                {x: y for x, y in p.items() if x not in ("status", "reuse")}, k


def test_end_of_2019():
    farm = H.state("farmland", FROM)
    assert farm and all(f["properties"]["year"] < 2020 for f in farm.values())
    assert not {f["properties"]["crop"] for f in farm.values()} & set(REPORT["bases"])
    sites = H.state("demolition_sites", FROM)
    assert {f["properties"]["status"] for f in sites.values()} >= {"negotiating", "signed",
                                                                   "demolished"}
    for layer in KEY:
        before, now = H.state(layer, FROM), H.state(layer, TO)
        assert set(before) <= set(now), layer
        for k, f in before.items():
            if f != now[k]:
                for ring in f["geometry"]["coordinates"]:
                    assert simple_ring(ring), (layer, k)
    # 2020 communities: one joined the 红色物业联盟
    c0, c1 = H.state("communities", FROM), H.state("communities", TO)
    joined = [k for k in c1 if c1[k]["properties"]["red_property"] and
              not c0[k]["properties"]["red_property"]]
    assert joined and all(c1[k]["properties"].get("red_grade") for k in joined), joined
    assert all("red_grade" not in c0[k]["properties"] for k in joined)


def test_parcels_resurveyed():
    p0, p1 = H.state("parcels", FROM), H.state("parcels", TO)
    assert set(p0) == set(p1)
    classes = {f["properties"]["dlbm"]: f["properties"]["dlmc"] for f in p1.values()}
    relabelled = [k for k in p1 if p0[k]["properties"] != p1[k]["properties"]]
    reshaped = [k for k in p1 if p0[k]["geometry"] != p1[k]["geometry"]]
    assert len(relabelled) >= 3 and len(reshaped) >= 4, (len(relabelled), len(reshaped))
    for k in relabelled:
        a, b = p0[k]["properties"], p1[k]["properties"]
        assert a["dlbm"] != b["dlbm"] and classes.get(a["dlbm"], a["dlmc"]) == a["dlmc"], (k, a)
    # a reshaped parcel moved one vertex, which it shares with exactly one
    # other reshaped parcel in both states: the pair's area stays the same
    def verts(f):
        return {tuple(p) for p in f["geometry"]["coordinates"][0]}
    v0 = {k: verts(f) for k, f in p0.items()}
    v1 = {k: verts(f) for k, f in p1.items()}
    pairs = {}
    for k in reshaped:
        old, new = v0[k] - v1[k], v1[k] - v0[k]
        assert len(old) == 1 and len(new) == 1, (k, old, new)
        pairs.setdefault((old.pop(), new.pop()), []).append(k)
    for (old, new), ks in pairs.items():
        assert len(ks) == 2, ks
        assert sorted(k for k in p0 if old in v0[k]) == sorted(ks), (old, ks)
        assert sorted(k for k in p1 if new in v1[k]) == sorted(ks), (new, ks)
        a0 = sum(geo.polygon_area(p0[k]["geometry"]["coordinates"]) for k in ks)
        a1 = sum(geo.polygon_area(p1[k]["geometry"]["coordinates"]) for k in ks)
        assert abs(a0 - a1) <= 1e-9 * a1, (ks, a0, a1)
        assert p0[ks[0]]["properties"]["village_code"] == p0[ks[1]]["properties"]["village_code"]
    # parcels still tile each village: its parcels' area is the same
    for v in {f["properties"]["village_code"] for f in p1.values()}:
        a0 = sum(geo.polygon_area(f["geometry"]["coordinates"]) for f in p0.values()
                 if f["properties"]["village_code"] == v)
        a1 = sum(geo.polygon_area(f["geometry"]["coordinates"]) for f in p1.values()
                 if f["properties"]["village_code"] == v)
        assert abs(a0 - a1) <= 1e-9 * a1, (v, a0, a1)


SRV = None
DB = None
DEMO_OUT = None


def test_demo_report_lines():
    lines = DEMO_OUT.splitlines()
    for layer, feats in H.today.items():
        line = next((l for l in lines if l.split()[:1] == [layer]), None)
        assert line and int(line.split()[1]) == len(feats), (layer, DEMO_OUT)
        mu = sum(area_mu(f) for f in feats.values())
        assert abs(float(line.split()[3]) - mu) <= 0.001 * mu + 0.1, (line, mu)
    hist = next(l for l in lines if l.startswith("history"))
    assert int(hist.split()[1]) == len(H.steps), hist


def test_exports_equal_todays_files():
    for layer, want in H.today.items():
        out = json.loads(harness.run("export", DB, layer).stdout)
        got = by_key(layer, out["features"])
        assert set(got) == set(want), (layer, set(got) ^ set(want))
        for k, f in want.items():
            props = {x: y for x, y in got[k]["properties"].items()
                     if x not in READ_ONLY and y is not None}
            assert props == f["properties"], (layer, k, props, f["properties"])
            g = got[k]["geometry"]
            assert g["type"] == f["geometry"]["type"], (layer, k)
            assert rings_equal(g["coordinates"], f["geometry"]["coordinates"]), (layer, k)


def fid(collection, code):
    fc = SRV.get_json(f"/collections/{collection}/items?{KEY[collection]}={code}")
    assert fc["numberReturned"] == 1, (collection, code, fc)
    return fc["features"][0]["id"]


def history(collection, code):
    """(at, properties) of each version the server keeps, oldest first."""
    h = SRV.get_json(f"/collections/{collection}/items/{fid(collection, code)}/history")
    vs = sorted(h["versions"], key=lambda v: v["version"])
    return [(v["at"], v["feature"]["properties"]) for v in vs]


def test_site_histories():
    for k in H.today["demolition_sites"]:
        want = [(at, f["properties"]["status"]) for at, f in H.versions("demolition_sites", k)]
        got = [(at, p["status"]) for at, p in history("demolition_sites", k)]
        assert got == want, (k, got, want)


def test_other_histories():
    # a relabelled parcel, the community that joined, a base planted in 2020
    p0, p1 = H.state("parcels", FROM), H.state("parcels", TO)
    k = next(k for k in p1 if p0[k]["properties"]["dlbm"] != p1[k]["properties"]["dlbm"])
    want = [(at, f["properties"]["dlbm"]) for at, f in H.versions("parcels", k)]
    assert [(at, p["dlbm"]) for at, p in history("parcels", k)] == want, k
    c0, c1 = H.state("communities", FROM), H.state("communities", TO)
    k = next(k for k in c1 if c1[k]["properties"]["red_property"] and
             not c0[k]["properties"]["red_property"])
    want = [(at, f["properties"]["red_property"]) for at, f in H.versions("communities", k)]
    assert [(at, p["red_property"]) for at, p in history("communities", k)] == want, k
    f0 = H.state("farmland", FROM)
    k = next(k for k in H.today["farmland"] if k not in f0)
    want = [at for at, _ in H.versions("farmland", k)]
    assert [at for at, _ in history("farmland", k)] == want and want[0] > FROM, k


def test_period_summary_2020():
    """The server's figures of the year (/summary?from=&to=) are the report's,
    behind them the features the definitions name."""
    res = SRV.get_json(f"/summary?from={FROM}&to={TO}")
    got, want = res["figures"], figures()
    assert abs(got["acquired"]["area_mu"] - REPORT["mu"]) <= 0.005 * REPORT["mu"], got["acquired"]
    assert abs(got["acquired"]["area_mu"] - want["mu"]) < 0.01
    assert sorted(f["code"] for f in got["acquired"]["features"]) == want["acquired"]
    d = got["demolished"]
    assert sorted(f["code"] for f in d["features"]) == want["demolished"]
    for ours, field in (("floor_area_m2", "floor_area_m2"), ("main_houses", "households"),
                        ("graves", "graves")):
        assert abs(d[ours] - REPORT[field]) <= 0.005 * REPORT[field], (ours, d[ours])
        assert d[ours] == want[field], (ours, d[ours], want[field])
    crops = {c["crop"]: c["area_mu"] for c in got["planted"]["crops"]}
    assert set(crops) == set(REPORT["bases"]), crops
    for crop, mu in REPORT["bases"].items():
        assert abs(crops[crop] - mu) <= 0.005 * mu, (crop, crops)
    joined = [f["code"] for f in got["red_property_joined"]["features"]]
    c0, c1 = H.state("communities", FROM), H.state("communities", TO)
    assert sorted(joined) == sorted(k for k in c1 if c1[k]["properties"]["red_property"]
                                    and not (k in c0 and c0[k]["properties"]["red_property"]))
    # per layer: what the manifest changed in the year
    for layer in KEY:
        s0, s1 = H.state(layer, FROM), H.state(layer, TO)
        c = res["collections"][layer]
        assert (c["count_from"], c["count_to"]) == (len(s0), len(s1)), (layer, c)
        assert c["added"] == len(set(s1) - set(s0)), (layer, c)
        assert c["changed"] == sum(1 for k in set(s0) & set(s1) if s0[k] != s1[k]), (layer, c)


def test_asof_end_of_2019():
    """asof=2019-12-31T23:59:59Z: every layer as the manifest had it then."""
    at = "2019-12-31T23:59:59.000Z"
    for layer in KEY:
        want = H.state(layer, at)
        fc = SRV.get_json(f"/collections/{layer}/items?asof=2019-12-31T23:59:59Z&limit=10000")
        got = by_key(layer, fc["features"])
        assert fc["numberMatched"] == len(want) and set(got) == set(want), layer
        for k, f in want.items():
            props = {x: y for x, y in got[k]["properties"].items()
                     if x not in READ_ONLY and y is not None}
            assert props == f["properties"], (layer, k, props, f["properties"])
            assert rings_equal(got[k]["geometry"]["coordinates"], f["geometry"]["coordinates"]), \
                (layer, k)


if __name__ == "__main__":
    failed = harness.run_all([test_manifest, test_2020_figures,
                              test_sites_move_through_their_statuses, test_end_of_2019,
                              test_parcels_resurveyed])
    DB = harness.fresh_db("history")
    DEMO_OUT = harness.run("demo", DB).stdout
    with harness.Server(db=DB) as SRV:
        failed += harness.run_all([test_demo_report_lines, test_exports_equal_todays_files,
                                   test_site_histories, test_other_histories,
                                   test_period_summary_2020, test_asof_end_of_2019])
    sys.exit(1 if failed else 0)
