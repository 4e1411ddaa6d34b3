"""`onemap copy` moves a whole database between SQLite and PostgreSQL, both
ways: a round trip SQLite -> PostgreSQL -> SQLite gives the same exports,
the same history and changes, and tokens that still work; a copy that fails
leaves no half-made SQLite file behind.
PostgreSQL only (the API suites' PostgreSQL run): skipped on SQLite."""
import datetime
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Server, check, eq, main, run  # noqa: E402

if harness.BACKEND != "postgresql":
    print("skipped: needs the PostgreSQL run (ONEMAP_TEST_PG)")
    sys.exit(77)

PATCH = {"Content-Type": "application/merge-patch+json"}


def sqlite_db(tmp, name):
    return os.path.join(tmp, name + ".db")


def exports(db, layers, asof=None):
    out = {}
    for layer in layers:
        fc = json.loads(run("export", db, layer, *(["--asof", asof] if asof else [])).stdout)
        out[layer] = sorted((json.dumps(f, sort_keys=True, ensure_ascii=False)
                             for f in fc["features"]))
    return out


def history(srv, fids):
    """What the API says of the past: each feature's versions and the change
    feed, without the server-local parts (none: they are all data)."""
    return ({fid: srv.get_json(f"/collections/parcels/items/{fid}/history")["versions"]
             for fid in fids},
            srv.get_json("/changes?since=0&limit=10000"))


def just_before(at):
    t = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ") - datetime.timedelta(milliseconds=1)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_round_trip():
    tmp = tempfile.mkdtemp(prefix="onemap-copy-")
    src = sqlite_db(tmp, "src")
    run("demo", src)
    with Server(db=src) as s:
        tok = s.token("ed", "editor")
        auth = dict(PATCH, Authorization="Bearer " + tok)
        for owner in ("张三", "李四"):
            eq(s.request("PATCH", "/collections/parcels/items/71",
                         json.dumps({"properties": {"owner": owner}}), auth).status, 200, "PATCH")
        eq(s.request("DELETE", "/collections/parcels/items/72", None,
                     {"Authorization": "Bearer " + tok}).status, 204, "DELETE")
        layers = [c["id"] for c in s.get_json("/collections")["collections"]]
        before = history(s, (71, 72, 73))
        # instants inside the past: between the two PATCHes, and a moment
        # before the delete
        past = [v["at"] for v in before[0][71] if v["version"] == 2] + \
               [just_before(v["at"]) for v in before[0][72] if v["op"] == "delete"]
        check(len(past) == 2, before[0])
    s.token("gone", "reader")
    run("token", "revoke", src, "gone")

    pg = harness.fresh_db("copy")
    out = run("copy", src, pg).stdout
    check("copied" in out and "2 tokens" in out, out)
    back = sqlite_db(tmp, "back")
    out2 = run("copy", pg, back).stdout
    eq(out2, out, "the same counts both ways")

    want = exports(src, layers)
    eq(exports(pg, layers), want, "exports of the PostgreSQL copy")
    eq(exports(back, layers), want, "exports after the round trip")
    for t in past:  # the map through time comes along
        was = exports(src, ["parcels"], t)
        check(was != exports(src, ["parcels"]), f"the map at {t} is not today's")
        eq(exports(pg, ["parcels"], t), was, f"the PostgreSQL copy at {t}")
        eq(exports(back, ["parcels"], t), was, f"the round trip at {t}")
    for db in (pg, back):
        with Server(db=db) as s:
            eq(history(s, (71, 72, 73)), before, f"history and changes in {db}")
            listed = run("token", "list", db).stdout
            check("ed" in listed and "gone" in listed, listed)
            # the token copied works, the revoked one stays revoked
            eq(s.request("PATCH", "/collections/parcels/items/73",
                         json.dumps({"properties": {"owner": "王五"}}),
                         dict(PATCH, Authorization="Bearer " + tok)).status, 200,
               "the copied token writes")
            eq(s.get_json("/collections/parcels/items/73")["properties"]["owner"], "王五",
               "write read back")


def test_copy_onto_data_refused():
    tmp = tempfile.mkdtemp(prefix="onemap-copy-")
    src = sqlite_db(tmp, "src")
    run("demo", src)
    pg = harness.fresh_db("copyfull")
    run("demo", pg)
    p = run("copy", src, pg, check=False)
    check(p.returncode != 0, "copy onto a database with data must fail")
    check("already holds a onemap database" in p.stderr, p.stderr)
    eq(len(json.loads(run("export", pg, "parcels").stdout)["features"]),
       len(json.loads(run("export", src, "parcels").stdout)["features"]), "nothing added")


def test_failed_copy_leaves_no_file():
    tmp = tempfile.mkdtemp(prefix="onemap-copy-")
    dst = sqlite_db(tmp, "dst")
    url = harness.fresh_db("copymissing").rsplit("/", 1)[0] + "/no_such_database"
    p = run("copy", url, dst, check=False)
    check(p.returncode != 0, "copy from a database that does not exist must fail")
    check("no_such_database" in p.stderr, p.stderr)
    check(not os.path.exists(dst) and not os.path.exists(dst + "-wal"),
          "no half-made destination left")


if __name__ == "__main__":
    main([test_round_trip, test_copy_onto_data_refused, test_failed_copy_leaves_no_file])
