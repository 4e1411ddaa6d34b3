"""Two onemap servers on one PostgreSQL database behave as one: a write
through either is seen by both at once, If-Match conflicts are detected
across them (no lost update), a revoked token stops working on both, a tile
cached by one is not served stale after a write through the other.
PostgreSQL only (the API suites' PostgreSQL run): skipped on SQLite."""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Server, check, eq, main, run  # noqa: E402
from mvt_decode import decode  # noqa: E402

if getattr(harness, "BACKEND", "sqlite") != "postgresql":
    print("skipped: needs the PostgreSQL run (ONEMAP_TEST_PG)")
    sys.exit(77)

PATCH = {"Content-Type": "application/merge-patch+json"}
TILE = "/collections/parcels/tiles/WebMercatorQuad/16/27218/54324"  # holds parcel 71


def two_servers(tmp_name):
    """A fresh database with the demo, and two servers on it."""
    url = harness.fresh_db(tmp_name)
    run("demo", url)
    return url, Server(db=url), Server(db=url)


def patch(s, fid, props, token, version=None):
    h = dict(PATCH, Authorization="Bearer " + token)
    if version is not None:
        h["If-Match"] = f'"{version}"'
    return s.request("PATCH", f"/collections/parcels/items/{fid}",
                     json.dumps({"properties": props}).encode(), h)


def test_if_match_across_servers():
    url, a, b = two_servers("ifmatch")
    with a, b:
        tok = a.token("ed", "editor")
        eq(a.get("/collections/parcels/items/71").header("ETag"), '"1"', "version read via A")
        eq(patch(b, 71, {"owner": "张三"}, tok, 1).status, 200, "PATCH via B")
        r = patch(a, 71, {"owner": "李四"}, tok, 1)
        eq(r.status, 412, "stale If-Match via A")
        check("version 2" in r.json()["description"], r.json()["description"])
        # both read the new version at once
        for s in (a, b):
            f = s.get_json("/collections/parcels/items/71")
            eq(f["properties"]["owner"], "张三", "owner read back")


def test_no_lost_update():
    """Clients on both servers add a mark to one feature, each with the
    version it read (retrying on 412): every acknowledged write is in the
    history, and the versions count them all."""
    url, a, b = two_servers("lostupdate")
    with a, b:
        tok = a.token("ed", "editor")
        acked = []
        lock = threading.Lock()

        def client(s, name):
            for i in range(8):
                while True:
                    cur = s.get("/collections/parcels/items/72")
                    v = int(cur.header("ETag").strip('"'))
                    r = patch(s, 72, {"owner": f"{name}-{i}"}, tok, v)
                    if r.status == 200:
                        with lock:
                            acked.append((name, i, int(r.header("ETag").strip('"'))))
                        break
                    eq(r.status, 412, f"{name}: PATCH status ({r.body[:200]!r})")

        ts = [threading.Thread(target=client, args=(s, n))
              for s, n in ((a, "a1"), (a, "a2"), (b, "b1"), (b, "b2"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        eq(len(acked), 32, "acknowledged writes")
        versions = sorted(v for _, _, v in acked)
        eq(versions, list(range(2, 34)), "each write made its own version")
        hist = b.get_json("/collections/parcels/items/72/history")["versions"]
        eq(len(hist), 33, "history rows (the import and 32 updates)")
        owners = {h["feature"]["properties"]["owner"] for h in hist[:-1]}
        eq(owners, {f"{n}-{i}" for n, i, _ in acked}, "every write kept in the history")


def test_tile_after_write_through_other():
    url, a, b = two_servers("tiles")
    with a, b:
        tok = a.token("ed", "editor")
        first = b.get(TILE)
        eq(first.status, 200, "tile from B")
        again = b.get(TILE)  # now cached in B
        eq(again.body, first.body, "cached tile")
        eq(patch(a, 71, {"owner": "王五"}, tok).status, 200, "PATCH via A")
        after = b.get(TILE)
        eq(after.status, 200, "tile from B after the write")
        owners = [f["tags"].get("owner") for lay in decode(after.body).values()
                  for f in lay["features"] if str(f["tags"].get("code", "")).endswith("00071")]
        eq(owners, ["王五"], "parcel 71 in B's tile after A's write")


def test_token_revoked_on_both():
    url, a, b = two_servers("tokens")
    with a, b:
        tok = a.token("ed", "editor")
        for s in (a, b):
            eq(patch(s, 73, {"owner": "x"}, tok).status, 200, "write before the revocation")
        run("token", "revoke", url, "ed")
        for s in (a, b):
            eq(patch(s, 73, {"owner": "y"}, tok).status, 401, "write after the revocation")


if __name__ == "__main__":
    main([test_if_match_across_servers, test_no_lost_update, test_tile_after_write_through_other,
          test_token_revoked_on_both])
