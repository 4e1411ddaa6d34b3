"""The onemap command: help, argument errors (exit 2), imports that name the
file, feature index and reason and write nothing when any feature is bad,
and export round trips that keep coordinates to 1e-9 degrees."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import fixtures as fx
import harness
from harness import check, eq, near

COMMANDS = ["init", "demo", "import", "export", "serve"]
TMP = tempfile.mkdtemp(prefix="onemap-cli-")
DB = os.path.join(TMP, "cli.db")


def onemap(*args):
    return harness.run(*args, check=False)


def parcel(k, code=None, dlbm="0101", geometry=None):
    x = round(118.40 + k * 0.002, 9)
    return {"type": "Feature", "geometry": geometry or fx.polygon(fx.square(x, 29.13, 0.001)),
            "properties": {"code": code or f"K{k:03d}", "dlbm": dlbm}}


def write(name, obj):
    path = os.path.join(TMP, name)
    if isinstance(obj, str):
        with open(path, "w", encoding="utf-8") as f:
            f.write(obj)
        return path
    return harness.write_json(path, obj)


def exported(db=DB, coll="parcels"):
    p = onemap("export", db, coll)
    eq(p.returncode, 0, f"export {coll}: {p.stderr}")
    return json.loads(p.stdout)["features"]


def test_help():
    p = onemap("--help")
    eq(p.returncode, 0, "onemap --help")
    for c in COMMANDS:
        check(f"  {c} " in p.stdout, f"onemap --help lists {c}")
    p = onemap()
    eq(p.returncode, 2, "onemap without a command")
    check("usage: onemap" in p.stderr and p.stdout == "", "usage on stderr")
    for c in COMMANDS:
        p = onemap(c, "--help")
        eq(p.returncode, 0, f"onemap {c} --help: {p.stderr}")
        check(p.stdout.startswith(f"usage: onemap {c}"), f"onemap {c} --help: {p.stdout!r}")
        eq(p.stderr, "", f"onemap {c} --help writes nothing on stderr")


def test_bad_arguments():
    f = write("ok.geojson", fx.collection([parcel(0)]))
    cases = [["frobnicate"], ["init"], ["init", DB, "--bogus"], ["import"], ["import", DB],
             ["import", DB, "parcels"], ["import", DB, "parcels", f, "--bogus"],
             ["import", DB, "parcels", f, "--crs"], ["import", DB, "parcels", f, "--crs", "EPSG:9999"],
             ["export"], ["export", DB], ["export", DB, "parcels", "extra"], ["serve"],
             ["serve", "--bogus"], ["serve", "--db"], ["serve", "--db", DB, "--threads", "0"],
             ["serve", "--db", DB, "--threads", "many"],
             ["serve", "--db", DB, "--listen", "nonsense"], ["demo"], ["demo", "a", "b"]]
    for args in cases:
        p = onemap(*args)
        eq(p.returncode, 2, f"onemap {' '.join(args)}: exit status ({p.stderr.strip()})")
        check(p.stderr.strip(), f"onemap {' '.join(args)}: says why on stderr")
        eq(p.stdout, "", f"onemap {' '.join(args)}: nothing on stdout")
    p = onemap("import", DB, "parcels", f, "--crs", "EPSG:9999")
    check("EPSG:9999" in p.stderr, f"--crs error names the value: {p.stderr}")
    eq(len(exported()), 0, "nothing imported by the argument errors")


def test_invalid_features_write_nothing():
    good = write("good.geojson", fx.collection([parcel(k) for k in range(3)]))
    eq(onemap("import", DB, "parcels", good).returncode, 0, "a good import")
    before = exported()
    bowtie = {"type": "Polygon", "coordinates": [[[118.5, 29.1], [118.501, 29.101],
                                                  [118.501, 29.1], [118.5, 29.101],
                                                  [118.5, 29.1]]]}
    feats = [parcel(10 + k) for k in range(7)]
    feats[2]["properties"]["dlbm"] = "99x"
    feats[4]["geometry"] = bowtie
    del feats[5]["properties"]["code"]
    feats[6]["properties"]["qsxz"] = "私有"
    bad = write("bad.geojson", fx.collection(feats))
    p = onemap("import", DB, "parcels", bad)
    check(p.returncode not in (0, 2), f"import of invalid features: exit {p.returncode}")
    lines = p.stderr.splitlines()
    for index, words in [(2, ["dlbm", "99x"]), (4, ["geometry", "elf-intersection"]),
                         (5, ["code"]), (6, ["qsxz", "私有"])]:
        line = [l for l in lines if f"features[{index}]" in l and bad in l]
        check(line, f"no line names {bad} and features[{index}]:\n{p.stderr}")
        for w in words:
            check(w in line[0], f"features[{index}]: {line[0]!r} does not name {w!r}")
    for index in (0, 1, 3):
        check(not any(l.startswith(f"{bad}: features[{index}]") for l in lines),
              f"features[{index}] is valid but reported:\n{p.stderr}")
    eq(exported(), before, "nothing written by a failed import")


def test_duplicate_keys():
    before = exported()
    feats = [parcel(30 + k) for k in range(5)]
    feats[1]["properties"]["code"] = feats[3]["properties"]["code"] = "DUP"
    dup = write("dup.geojson", fx.collection(feats))
    p = onemap("import", DB, "parcels", dup)
    check(p.returncode not in (0, 2), f"duplicate keys: exit {p.returncode}")
    check(any("features[3]" in l and "features[1]" in l and "DUP" in l and dup in l
              for l in p.stderr.splitlines()), f"duplicate named with both indexes:\n{p.stderr}")
    eq(exported(), before, "nothing written with duplicate keys")
    # a duplicate next to a key that is in the database already: still nothing
    feats = [parcel(0), parcel(41, code="DUP2"), parcel(42, code="DUP2")]
    p = onemap("import", DB, "parcels", write("dup2.geojson", fx.collection(feats)))
    check(p.returncode not in (0, 2) and "features[2]" in p.stderr, f"DUP2: {p.stderr}")
    eq(exported(), before, "nothing written with duplicate keys beside a stored key")


def test_unknown_collection_and_files():
    f = write("one.geojson", fx.collection([parcel(50)]))
    before = exported()
    p = onemap("import", DB, "nope", f)
    check(p.returncode not in (0, 2) and "nope" in p.stderr, f"unknown collection: {p.stderr}")
    missing = os.path.join(TMP, "missing.geojson")
    p = onemap("import", DB, "parcels", missing)
    check(p.returncode not in (0, 2) and missing in p.stderr, f"missing file: {p.stderr}")
    broken = write("broken.geojson", '{"type":"FeatureCollection","features":[{"type":')
    p = onemap("import", DB, "parcels", broken)
    check(p.returncode not in (0, 2) and broken in p.stderr and "line 1" in p.stderr,
          f"unparsable file: {p.stderr}")
    notfc = write("feature.geojson", parcel(51))
    p = onemap("import", DB, "parcels", notfc)
    check(p.returncode not in (0, 2) and notfc in p.stderr and "FeatureCollection" in p.stderr,
          f"a Feature instead of a FeatureCollection: {p.stderr}")
    p = onemap("export", DB, "nope")
    check(p.returncode not in (0, 2) and "nope" in p.stderr and p.stdout == "",
          f"export of an unknown collection: {p.stderr}")
    nodb = os.path.join(TMP, "none", "x.db")
    p = onemap("export", nodb, "parcels")
    check(p.returncode not in (0, 2) and nodb in p.stderr, f"export from no database: {p.stderr}")
    check(not os.path.exists(nodb), "export does not create a database")
    p = onemap("init", DB)
    check(p.returncode not in (0, 2) and DB in p.stderr, f"init of an existing db: {p.stderr}")
    eq(exported(), before, "nothing written by the failures")


def test_export_round_trip():
    rnd = random.Random(7)
    feats = []
    for k in range(25):
        x, y = 118.3 + rnd.random() * 0.2, 29.0 + rnd.random() * 0.2
        pts = [(round(x + dx, 9), round(y + dy, 9)) for dx, dy in
               [(0, 0), (0.00123456789, 0.0000000013), (0.001, 0.00098765432), (-0.0000000007, 0.001)]]
        feats.append({"type": "Feature", "geometry": fx.polygon(pts), "properties": {
            "code": f"R{k:03d}", "dlbm": fx.DLBM[k % 4][0], "dlmc": fx.DLBM[k % 4][1],
            "qsxz": "国有", "owner": f"单位\"{k}\"\\"}})
    db = os.path.join(TMP, "rt.db")
    eq(onemap("init", db).returncode, 0, "init")
    p = onemap("import", db, "parcels", write("rt.geojson", fx.collection(feats)))
    eq(p.returncode, 0, f"import: {p.stderr}")
    check("25" in p.stdout, f"import reports the count: {p.stdout}")
    out = {f["properties"]["code"]: f for f in exported(db)}
    eq(sorted(out), sorted(f["properties"]["code"] for f in feats), "exported codes")
    for f in feats:
        g = out[f["properties"]["code"]]
        for k, v in f["properties"].items():
            eq(g["properties"][k], v, f"{f['properties']['code']}.{k}")
        ring_in, ring_out = f["geometry"]["coordinates"][0], g["geometry"]["coordinates"][0]
        eq(len(ring_out), len(ring_in), "ring length")
        for (x, y), (ex, ey) in zip(ring_out, ring_in):
            near(x, ex, 1e-9, "exported longitude")
            near(y, ey, 1e-9, "exported latitude")
    # the export imports again, and exports the same
    db2 = os.path.join(TMP, "rt2.db")
    eq(onemap("init", db2).returncode, 0, "init 2")
    again = onemap("export", db, "parcels").stdout
    p = onemap("import", db2, "parcels", write("rt-export.geojson", again))
    eq(p.returncode, 0, f"re-import of an export: {p.stderr}")
    strip = lambda fs: sorted(({k: v for k, v in f.items() if k != "id"} for f in fs),
                              key=lambda f: f["properties"]["code"])
    eq(strip(exported(db2)), strip(exported(db)), "export of the re-import")


def test_serve_on_a_busy_port():
    # a second server on the same address must fail, not share the port
    with harness.Server(db=DB) as s:
        try:
            p = subprocess.run([harness.BIN, "serve", "--db", DB, "--listen",
                                f"127.0.0.1:{s.port}"], capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"a second server on port {s.port} started")
        check(p.returncode not in (0, 2), f"second server: exit {p.returncode}")
        check(f"127.0.0.1:{s.port}" in p.stderr, f"second server names the address: {p.stderr}")
        eq(s.get_json("/health"), {"status": "ok"}, "the first server still serves")


def test_files_of_page_size_empty_and_piped():
    """Imports map a regular file (no terminator after its last byte): files
    ending exactly at a page boundary, cut short there, empty or piped in."""
    text = json.dumps(fx.collection([parcel(60), parcel(61)]), separators=(",", ":"))
    exact = write("page.geojson", text + " " * (8192 - len(text.encode())))
    eq(os.path.getsize(exact), 8192, "the file is two pages")
    p = onemap("import", DB, "parcels", exact)
    eq(p.returncode, 0, f"page-sized file: {p.stderr}")
    check(any(f["properties"]["code"] == "K061" for f in exported()), "its features are stored")
    before = exported()
    cut = write("cut.geojson", (text[:-3] + " " * 4096)[:4096])
    eq(os.path.getsize(cut), 4096, "the cut file is one page")
    p = onemap("import", DB, "parcels", cut)
    check(p.returncode not in (0, 2) and cut in p.stderr, f"file cut at a page: {p.stderr}")
    empty = write("empty.geojson", "")
    p = onemap("import", DB, "parcels", empty)
    check(p.returncode not in (0, 2) and empty in p.stderr, f"empty file: {p.stderr}")
    eq(exported(), before, "nothing written by the failures")
    piped = subprocess.run([harness.BIN, "import", DB, "parcels", "/dev/stdin"], capture_output=True,
                           text=True, input=json.dumps(fx.collection([parcel(62)])))
    eq(piped.returncode, 0, f"piped file: {piped.stderr}")
    check(any(f["properties"]["code"] == "K062" for f in exported()), "the piped feature is stored")


TESTS = [test_help, test_bad_arguments, test_invalid_features_write_nothing, test_duplicate_keys,
         test_unknown_collection_and_files, test_export_round_trip, test_serve_on_a_busy_port,
         test_files_of_page_size_empty_and_piped]

if __name__ == "__main__":
    if onemap("init", DB).returncode != 0:
        sys.exit("onemap init failed")
    failed = harness.run_all(TESTS)
    if not failed:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)
