"""`onemap import` takes what POST /collections/{c}/import takes: GeoJSON, a
zipped Shapefile and a bare .shp with its sidecar files, with the same options
(--encoding, --crs, --key, --mode, --dry-run, --make-valid) and the same
report (--json prints it as the API answers). Shapefiles are written by GDAL's
ogr2ogr; coordinates are checked against PROJ's cs2cs, Chinese text against
the source file."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import geo
import harness
from harness import check, eq

TMP = tempfile.mkdtemp(prefix="onemap-cli-import-")
X0, Y0, D = 118.41, 29.13, 0.001
OWNERS = ["芹阳村股份经济合作社", "密赛村股份经济合作社", "桃溪村股份经济合作社"]


def onemap(*args):
    return harness.run(*args, check=False)


def rect(i, j=0):
    return (round(X0 + i * D, 9), round(Y0 + j * D, 9), round(X0 + (i + 1) * D, 9),
            round(Y0 + (j + 1) * D, 9))


def survey(n=3, prefix="S", dlmc="水田"):
    """Features with 三调 field names, as surveyors deliver them."""
    return [geo.feature({"TBBH": f"{prefix}{i}", "DLBM": "0101", "DLMC": dlmc, "QSXZ": "集体",
                         "QSDWMC": OWNERS[i % len(OWNERS)]}, rect(i)) for i in range(n)]


def shapefile(name, feats, encoding="GBK", srs="EPSG:4548", cpg=False, prj=True):
    """Writes feats (lon/lat) as a Shapefile in srs with DBF text in encoding;
    returns the path of its .shp. Old ArcGIS writes no .cpg: removed unless cpg."""
    d = os.path.join(TMP, name)
    os.makedirs(d)
    src = geo.write_fc(feats, os.path.join(d, "src.geojson"))
    shp = os.path.join(d, name + ".shp")
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-lco", f"ENCODING={encoding}",
                    "-s_srs", "EPSG:4490", "-t_srs", srs, shp, src], check=True,
                   capture_output=True)
    with open(shp[:-4] + ".dbf", "rb") as f:
        check(feats[0]["properties"]["DLMC"].encode(encoding) in f.read(),
              f"the DBF holds {encoding} text")
    for ext, keep in (("cpg", cpg), ("prj", prj)):
        if not keep and os.path.exists(shp[:-4] + "." + ext):
            os.unlink(shp[:-4] + "." + ext)
    os.unlink(src)
    return shp


def zipped(shp, members=("shp", "shx", "dbf", "prj", "cpg"), folder=""):
    z = shp[:-4] + ".zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as out:
        for ext in members:
            p = shp[:-4] + "." + ext
            if os.path.exists(p):
                out.write(p, folder + os.path.basename(p))
    return z


def fresh_db(name):
    db = os.path.join(TMP, name + ".db")
    harness.run("init", db)
    return db


def stored(db):
    p = onemap("export", db, "parcels")
    eq(p.returncode, 0, f"export: {p.stderr}")
    return {f["properties"]["code"]: f for f in json.loads(p.stdout)["features"]}


def check_stored(db, feats, what):
    """Every feature of feats is stored with its Chinese text intact and its
    corners where PROJ puts them (to 1e-8 degrees)."""
    got = stored(db)
    eq(sorted(got), sorted(f["properties"]["TBBH"] for f in feats), f"{what}: codes")
    for f in feats:
        p, g = f["properties"], got[f["properties"]["TBBH"]]
        eq((g["properties"]["dlmc"], g["properties"]["owner"], g["properties"]["qsxz"]),
           (p["DLMC"], p["QSDWMC"], p["QSXZ"]), f"{what}: {p['TBBH']} text")
        ring = g["geometry"]["coordinates"][0]
        for x, y in f["geometry"]["coordinates"][0]:
            check(any(abs(x - gx) < 1e-8 and abs(y - gy) < 1e-8 for gx, gy in ring),
                  f"{what}: {p['TBBH']} lacks corner {x} {y}: {ring}")


def test_zipped_gbk_shapefile_without_cpg():
    feats = survey()
    shp = shapefile("gbk", feats)
    check(not os.path.exists(shp[:-4] + ".cpg"), "no .cpg beside it")
    z = zipped(shp, folder="gbk/")
    db = fresh_db("zip")
    p = onemap("import", db, "parcels", z)
    eq(p.returncode, 0, f"import of a zipped Shapefile: {p.stderr}")
    check(f"{z}: 3 added, 0 changed, 0 unchanged, 0 removed in parcels" in p.stdout, p.stdout)
    check_stored(db, feats, "zip")
    # named .zip but not one: refused, naming the file
    fake = os.path.join(TMP, "fake.zip")
    with open(fake, "w") as f:
        f.write('{"type":"FeatureCollection","features":[]}')
    p = onemap("import", db, "parcels", fake)
    check(p.returncode == 1 and fake in p.stderr and "zip" in p.stderr, f"fake zip: {p.stderr}")
    # a zip under any name is read as one
    other = os.path.join(TMP, "survey.dat")
    shutil.copy(z, other)
    p = onemap("import", db, "parcels", other, "--dry-run")
    eq(p.returncode, 0, f"a zip named .dat: {p.stderr}")
    check("0 added, 0 changed, 3 unchanged" in p.stdout, p.stdout)


def test_bare_shp_with_sidecars():
    feats = survey(prefix="B")
    shp = shapefile("bare", feats)
    db = fresh_db("bare")
    p = onemap("import", db, "parcels", shp)
    eq(p.returncode, 0, f"import of a .shp: {p.stderr}")
    check_stored(db, feats, ".shp")
    # upper-case sidecars, as old Windows tools write them
    up = os.path.join(TMP, "UPPER")
    os.makedirs(up)
    for ext in ("shp", "shx", "dbf", "prj"):
        shutil.copy(shp[:-4] + "." + ext, os.path.join(up, "BARE." + ext.upper()))
    db2 = fresh_db("upper")
    p = onemap("import", db2, "parcels", os.path.join(up, "BARE.SHP"))
    eq(p.returncode, 0, f"import of BARE.SHP: {p.stderr}")
    check_stored(db2, feats, "BARE.SHP")
    # without its .dbf: refused, naming the missing file; nothing written
    os.unlink(os.path.join(up, "BARE.DBF"))
    db3 = fresh_db("nodbf")
    p = onemap("import", db3, "parcels", os.path.join(up, "BARE.SHP"))
    check(p.returncode == 1 and "BARE.DBF" in p.stderr and "missing" in p.stderr,
          f"a .shp without its .dbf: {p.stderr}")
    eq(stored(db3), {}, "nothing written without the .dbf")
    p = onemap("import", db3, "parcels", os.path.join(TMP, "nowhere.shp"))
    check(p.returncode == 1 and "nowhere.shp" in p.stderr, f"a missing .shp: {p.stderr}")


def test_encoding_option():
    feats = survey(prefix="U", dlmc="旱地")
    shp = shapefile("utf8", feats, encoding="UTF-8")
    z = zipped(shp)
    db = fresh_db("enc")
    # read as GBK (the default without a .cpg) the UTF-8 text is not the text
    p = onemap("import", db, "parcels", z)
    if p.returncode == 0:
        check(all(f["properties"]["dlmc"] != "旱地" for f in stored(db).values()),
              "UTF-8 read as GBK gives other text")
        db = fresh_db("enc2")
    for path in (z, shp):
        p = onemap("import", db, "parcels", path, "--encoding", "UTF-8", "--mode", "replace")
        eq(p.returncode, 0, f"--encoding UTF-8 {path}: {p.stderr}")
        check_stored(db, feats, f"--encoding UTF-8 {os.path.basename(path)}")
    # a .cpg wins over --encoding
    shp2 = shapefile("cpg", survey(prefix="C"), encoding="UTF-8", cpg=True)
    p = onemap("import", db, "parcels", shp2, "--encoding", "GBK", "--dry-run")
    eq(p.returncode, 0, f".cpg beside --encoding: {p.stderr}")
    # an unknown name is a usage error whatever the file, GeoJSON included
    gj = geo.write_fc(survey(prefix="G"), os.path.join(TMP, "enc.geojson"))
    before = stored(db)
    for path in (z, shp, gj):
        p = onemap("import", db, "parcels", path, "--encoding", "FOO-99")
        eq(p.returncode, 2, f"--encoding FOO-99 {path}: {p.stderr}")
        check("encoding" in p.stderr and "FOO-99" in p.stderr, p.stderr)
    eq(stored(db), before, "nothing written with an unknown encoding")
    p = onemap("import", db, "parcels", gj, "--encoding", "GBK", "--dry-run")
    eq(p.returncode, 0, f"a known encoding on GeoJSON is accepted: {p.stderr}")


def test_crs_option_without_prj():
    feats = survey(prefix="P")
    shp = shapefile("noprj", feats, prj=False)
    check(not os.path.exists(shp[:-4] + ".prj"), "no .prj")
    db = fresh_db("crs")
    p = onemap("import", db, "parcels", shp, "--dry-run")
    check(p.returncode == 1, f"Gauss-Kruger metres read as degrees are refused: {p.stdout} {p.stderr}")
    p = onemap("import", db, "parcels", zipped(shp), "--crs", "EPSG:4548")
    eq(p.returncode, 0, f"--crs EPSG:4548: {p.stderr}")
    check_stored(db, feats, "--crs EPSG:4548")
    # the corners once more, from PROJ rather than from the source: the .shp
    # holds easting, northing; cs2cs turns them into lat, lon
    got = stored(db)["P0"]["geometry"]["coordinates"][0]
    gk = harness.cs2cs("EPSG:4490", "EPSG:4548", [(y, x) for x, y in geo.rect_ring(*rect(0))])
    back = harness.cs2cs("EPSG:4548", "EPSG:4490", gk)
    for lat, lon in back:
        check(any(abs(lon - gx) < 1e-8 and abs(lat - gy) < 1e-8 for gx, gy in got), (lon, lat, got))


def test_key_mode_dry_run_make_valid():
    db = fresh_db("opts")
    first = survey(prefix="K")
    eq(onemap("import", db, "parcels", zipped(shapefile("k1", first))).returncode, 0, "first import")
    # the same owners under new codes: matched by --key owner they are changes
    second = survey(prefix="N")
    z = zipped(shapefile("k2", second))
    p = onemap("import", db, "parcels", z, "--key", "owner", "--dry-run")
    eq(p.returncode, 0, p.stderr)
    check("dry run: 0 added, 3 changed, 0 unchanged, 0 removed" in p.stdout, p.stdout)
    p = onemap("import", db, "parcels", z, "--dry-run")
    check("dry run: 3 added, 0 changed" in p.stdout, p.stdout)
    eq(sorted(stored(db)), ["K0", "K1", "K2"], "dry runs write nothing")
    p = onemap("import", db, "parcels", z, "--key", "nosuchfield")
    check(p.returncode == 2 and "nosuchfield" in p.stderr, f"--key of no field: {p.stderr}")
    # --mode replace removes what the file lacks
    one = survey(1, prefix="K")
    p = onemap("import", db, "parcels", zipped(shapefile("k3", one)), "--mode", "replace")
    eq(p.returncode, 0, p.stderr)
    check("0 added, 0 changed, 1 unchanged, 2 removed" in p.stdout, p.stdout)
    eq(sorted(stored(db)), ["K0"], "replace left only K0")
    # a self-intersecting ring: refused with its index and reason, then repaired
    x0, y0, x1, y1 = rect(5)
    bow = survey(2, prefix="V")
    bow[1]["geometry"]["coordinates"] = [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]
    z = zipped(shapefile("bow", bow))
    p = onemap("import", db, "parcels", z)
    check(p.returncode == 1 and "features[1]" in p.stderr and "elf-intersection" in p.stderr,
          f"bow tie: {p.stderr}")
    eq(sorted(stored(db)), ["K0"], "nothing written with an invalid feature")
    p = onemap("import", db, "parcels", z, "--make-valid")
    eq(p.returncode, 0, p.stderr)
    check("features[1] (V1): geometry repaired" in p.stdout, f"repair noted: {p.stdout}")
    eq(sorted(stored(db)), ["K0", "V0", "V1"], "repaired import")


def test_json_report_is_the_apis():
    feats = survey(prefix="J")
    z = zipped(shapefile("json", feats))
    db = fresh_db("json")
    eq(onemap("import", db, "parcels", zipped(shapefile("json0", survey(2, prefix="J")))).returncode,
       0, "first import")
    bad = survey(4, prefix="J")
    bad[3]["properties"]["DLBM"] = "99x"
    zbad = zipped(shapefile("jsonbad", bad))
    cli = {}
    for name, path in (("ok", z), ("bad", zbad)):
        p = onemap("import", db, "parcels", path, "--dry-run", "--json", "--mode", "replace")
        eq(p.returncode, 0 if name == "ok" else 1, f"{name}: {p.stderr}")
        cli[name] = json.loads(p.stdout)
    with harness.Server(db=db) as s:
        tok = s.token("cli", "admin")
        for name, path in (("ok", z), ("bad", zbad)):
            with open(path, "rb") as f:
                res = s.request("POST", "/collections/parcels/import?dry_run=true&mode=replace",
                                body=f.read(), headers={"Authorization": f"Bearer {tok}",
                                                        "Content-Type": "application/zip"})
            eq(res.status, 200 if name == "ok" else 422, res.body)
            api = res.json()
            if name == "bad":  # an error like any other, with the report beside it
                check(res.header("Content-Type").startswith("application/problem+json"),
                      res.header("Content-Type"))
                eq((api["code"], api["status"]), ("InvalidData", 422), "the error's members")
            for k in ("code", "description", "status"):  # the error's own members
                api.pop(k, None)
            eq(cli[name], api, f"{name}: the CLI's --json report equals the API's")
    check(cli["ok"]["added"] == 1 and cli["ok"]["unchanged"] == 2, cli["ok"])
    check(cli["bad"]["invalid"][0]["index"] == 3 and "99x" in cli["bad"]["invalid"][0]["reason"],
          cli["bad"])


def test_preview_is_what_the_server_read():
    """A dry run with preview=true gives the features as they would be
    stored: a Gauss-Kruger Shapefile's parcels back in lon/lat (compared with
    the rectangles they were made from), each with its key and status."""
    feats = survey(3, prefix="P")
    z = zipped(shapefile("preview", feats))
    db = fresh_db("preview")
    eq(onemap("import", db, "parcels", zipped(shapefile("preview0", survey(1, prefix="P"))))
       .returncode, 0, "first import")
    with open(z, "rb") as f:
        body = f.read()
    with harness.Server(db=db) as s:
        tok = s.token("pre", "admin")
        hdr = {"Authorization": f"Bearer {tok}", "Content-Type": "application/zip"}
        rep = s.request("POST", "/collections/parcels/import?dry_run=true&preview=true", body=body,
                        headers=hdr)
        eq(rep.status, 200, rep.body)
        pre = rep.json()["preview"]
        eq((pre["type"], pre["truncated"], len(pre["features"])), ("FeatureCollection", False, 3),
           "the preview's features")
        by_key = {f["properties"]["key"]: f for f in pre["features"]}
        eq({k: f["properties"]["status"] for k, f in by_key.items()},
           {"P0": "unchanged", "P1": "added", "P2": "added"}, "each feature's status")
        for i, f in enumerate(feats):
            want = geo.rect_ring(*rect(i))
            got = by_key[f"P{i}"]["geometry"]["coordinates"][0]
            eq(len(got), len(want), f"P{i}: vertices")
            for (x, y) in got:  # every vertex is a corner of the rectangle it came from
                check(min(abs(x - a) + abs(y - b) for a, b in want) < 1e-7, f"P{i}: {x}, {y}")
        # a preview writes nothing and comes only with a dry run
        eq(sorted(stored(db)), ["P0"], "nothing written")
        r = s.request("POST", "/collections/parcels/import?preview=true", body=body, headers=hdr)
        eq(r.status, 400, r.body)
        check("preview" in r.json()["description"], r.body)
        eq(sorted(stored(db)), ["P0"], "nothing written")
        plain = s.request("POST", "/collections/parcels/import?dry_run=true", body=body, headers=hdr)
        check("preview" not in plain.json(), "no preview unless asked")


def test_zip_with_no_or_two_shapefiles():
    db = fresh_db("zips")
    a = shapefile("two_a", survey(prefix="A"))
    b = shapefile("two_b", survey(prefix="B"))
    two = os.path.join(TMP, "two.zip")
    with zipfile.ZipFile(two, "w") as z:
        for shp in (a, b):
            for ext in ("shp", "shx", "dbf"):
                z.write(shp[:-4] + "." + ext, os.path.basename(shp[:-4]) + "." + ext)
    p = onemap("import", db, "parcels", two)
    check(p.returncode == 1 and "more than one .shp" in p.stderr and "two_a.shp" in p.stderr
          and "two_b.shp" in p.stderr and two in p.stderr, f"two .shp: {p.stderr}")
    none = os.path.join(TMP, "none.zip")
    with zipfile.ZipFile(none, "w") as z:
        z.writestr("readme.txt", "no Shapefile here")
    p = onemap("import", db, "parcels", none)
    check(p.returncode == 1 and "no .shp" in p.stderr and none in p.stderr, f"no .shp: {p.stderr}")
    eq(stored(db), {}, "nothing written")


TESTS = [test_zipped_gbk_shapefile_without_cpg, test_bare_shp_with_sidecars, test_encoding_option,
         test_crs_option_without_prj, test_key_mode_dry_run_make_valid, test_json_report_is_the_apis,
         test_preview_is_what_the_server_read, test_zip_with_no_or_two_shapefiles]

if __name__ == "__main__":
    failed = harness.run_all(TESTS)
    if not failed:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)
