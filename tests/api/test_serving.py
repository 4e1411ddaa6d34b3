"""The serving model: a request waits for a free worker, never behind another
request; heavy requests cannot take every worker; every request has a deadline
(serve --request-timeout) past which its work stops and it answers 503 with
Retry-After, a write rolled back whole; a client that leaves cancels its work;
a full queue answers 503 at once; /metrics counts timeouts, cancellations and
the queue. On 100 000 synthetic parcels, where whole-area requests take long."""
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import SLOW, check, eq

TMP = tempfile.mkdtemp(prefix="onemap-serving-")
DB = os.path.join(TMP, "serving.db")
# the synthetic parcels' extent is about 118.30-118.52 E, 29.04-29.24 N
WHOLE = "POLYGON((118.31 29.05,118.50 29.05,118.50 29.23,118.40 29.24,118.31 29.23,118.31 29.05))"
OVERLAPS = "/collections/parcels/overlaps?with=parcels&limit=10"  # about 5 s here


def heavy_stats_path():  # about 1 s here
    from urllib.parse import quote
    return f"/collections/parcels/stats?group_by=dlbm&clip=true&geometry={quote(WHOLE)}"


HEAVY = heavy_stats_path()


def metrics(srv):
    out = {}
    for line in srv.get("/metrics").body.decode().splitlines():
        m = re.fullmatch(r'([a-z_]+)(\{(.*)\})? (\S+)', line)
        if m and not line.startswith("#"):
            out[(m.group(1), m.group(3) or "")] = float(m.group(4))
    return out


def busy(srv, lane):
    return metrics(srv)[("onemap_workers_busy", f'lane="{lane}"')]


def wait_until(cond, seconds, what):
    t0 = time.time()
    while time.time() - t0 < seconds * SLOW:
        if cond():
            return time.time() - t0
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {seconds * SLOW:.1f} s")


def timed(srv, path, **kw):
    t0 = time.time()
    res = srv.request("GET", path, **kw)
    return res, time.time() - t0


def parcel_count():
    con = sqlite3.connect(DB)
    try:
        return con.execute("SELECT count(*) FROM parcels").fetchone()[0], \
            con.execute("SELECT count(*) FROM onemap_history").fetchone()[0]
    finally:
        con.close()


def test_light_requests_do_not_wait_behind_heavy_ones():
    """Two loops of heavy requests on as many workers as heavy ones may hold;
    light requests on keep-alive connections opened from one thread are
    answered meanwhile in a fraction of one heavy request's time."""
    with harness.Server(db=DB, threads=4, args=["--heavy", "2", "--request-timeout", "0"]) as s:
        _, one = timed(s, HEAVY)
        stop = threading.Event()
        done = []

        def loop():
            while not stop.is_set():
                res = s.request("GET", HEAVY)
                done.append(res.status)

        loops = [threading.Thread(target=loop) for _ in range(2)]
        for t in loops:
            t.start()
        wait_until(lambda: busy(s, "heavy") == 2, 10, "both heavy requests running")
        conns = [s.client() for _ in range(8)]
        worst = 0
        for _ in range(5):
            for c in conns:
                t0 = time.time()
                r = c.get("/conformance")
                worst = max(worst, time.time() - t0)
                eq(r.status, 200, "/conformance beside heavy requests")
        stop.set()
        for t in loops:
            t.join()
        for c in conns:
            c.close()
        check(set(done) == {200}, f"heavy answers: {done}")
        check(worst < max(0.5, one / 3), f"a light request took {worst:.3f} s beside heavy ones "
              f"taking {one:.2f} s each")


def test_heavy_requests_cannot_take_every_worker():
    with harness.Server(db=DB, threads=2, args=["--heavy", "1", "--request-timeout", "0"]) as s:
        results = []
        hs = [threading.Thread(target=lambda: results.append(s.request("GET", HEAVY).status))
              for _ in range(3)]
        for t in hs:
            t.start()
        wait_until(lambda: busy(s, "heavy") == 1 and
                   metrics(s)[("onemap_queue_depth", 'lane="heavy"')] == 2, 10,
                   "one heavy request running, the other two waiting")
        r, secs = timed(s, "/collections/parcels/items?bbox=118.40,29.10,118.401,29.101&limit=5")
        eq(r.status, 200, "a light request beside them")
        check(secs < 1.0 * SLOW, f"it took {secs:.2f} s")
        eq(busy(s, "heavy"), 1, "still only one heavy request running")
        for t in hs:
            t.join()
        eq(results, [200, 200, 200], "the heavy ones are all answered in turn")


def test_deadline_stops_the_work():
    with harness.Server(db=DB, threads=2, args=["--request-timeout", "1"]) as s:
        for path in (OVERLAPS, heavy_stats_path()):
            r, secs = timed(s, path)
            if r.status == 200:  # a fast machine: the limit is for the slow one
                check(secs < 1.2 * SLOW, f"{path}: answered in {secs:.2f} s past a 1 s limit")
                continue
            eq(r.status, 503, f"{path} past its deadline: {r.body[:300]}")
            doc = r.json()
            eq(doc["code"], "RequestTimeout", "error code")
            check("request-timeout" in doc["description"] and "1 s" in doc["description"],
                  doc["description"])
            check(r.header("Retry-After"), "Retry-After")
            check(secs < 1 + 2.5 * SLOW, f"503 after {secs:.2f} s")
            # the work stopped with it: no worker busy right after
            wait_until(lambda: busy(s, "heavy") + busy(s, "light") <= 1, 0.5, "workers idle")
        m = metrics(s)
        check(m[("onemap_request_timeouts_total", "")] >= 1, "timeouts counted")
        eq(s.get("/conformance").status, 200, "the server serves on")
        log = [json.loads(l) for l in s.logtext().splitlines() if l.startswith('{"time"')]
        check(any(l["status"] == 503 and l["path"].endswith("/overlaps") for l in log),
              "the access log has the 503")


def test_write_cut_off_leaves_nothing():
    n0, h0 = parcel_count()
    with open(os.path.join(TMP, "more.geojson"), "rb") as f:
        body = f.read()
    with harness.Server(db=DB, threads=2, args=["--request-timeout", "0.3"]) as s:
        tok = s.token("serving", "admin")
        res = s.request("POST", "/collections/parcels/import?mode=upsert", body=body,
                        headers={"Authorization": f"Bearer {tok}",
                                 "Content-Type": "application/geo+json"})
        eq(res.status, 503, f"an import past its deadline: {res.body[:300]}")
        check("request-timeout" in res.json()["description"], res.body[:300])
        eq(s.get("/collections/parcels/items?code=MORE00000").json()["numberReturned"], 0,
           "none of its features")
    eq(parcel_count(), (n0, h0), "parcels and history as before")
    con = sqlite3.connect(DB)
    try:
        eq(con.execute("PRAGMA integrity_check").fetchone()[0], "ok", "integrity")
    finally:
        con.close()


def test_client_that_leaves_cancels_its_work():
    with harness.Server(db=DB, threads=2, args=["--request-timeout", "0"]) as s:
        _, one = timed(s, HEAVY)
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", s.port))
            sock.sendall(f"GET {HEAVY} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            wait_until(lambda: busy(s, "heavy") == 1, 10, "the request running")
            t0 = time.time()
            sock.close()
            secs = wait_until(lambda: busy(s, "heavy") == 0, max(1.0, one / 2), "work stopped")
            check(secs < one, f"stopped {secs:.2f} s after the client left (a request takes "
                  f"{one:.2f} s)")
        wait_until(lambda: metrics(s)[("onemap_requests_cancelled_total", "")] == 2, 5,
                   "two cancellations counted")
        log = [json.loads(l) for l in s.logtext().splitlines() if l.startswith('{"time"')]
        eq(sum(1 for l in log if l["status"] == 499), 2, "logged as 499")
        eq(s.get("/health").status, 200, "the server serves on")


def test_full_queue_answers_503_at_once():
    with harness.Server(db=DB, threads=1, args=["--heavy", "1", "--queue", "1",
                                                "--request-timeout", "0"]) as s:
        results = []
        first = threading.Thread(target=lambda: results.append(s.request("GET", HEAVY).status))
        first.start()
        wait_until(lambda: busy(s, "heavy") == 1, 10, "one running")
        second = threading.Thread(target=lambda: results.append(s.request("GET", HEAVY).status))
        second.start()
        wait_until(lambda: metrics(s)[("onemap_queue_depth", 'lane="heavy"')] == 1, 10,
                   "one waiting")
        r, secs = timed(s, "/conformance")
        eq(r.status, 503, f"a third request with the queue full: {r.body[:200]}")
        check("queue" in r.json()["description"] and r.header("Retry-After"), r.body[:300])
        check(secs < 0.5 * SLOW, f"refused in {secs:.2f} s, not after waiting")
        check(metrics(s)[("onemap_queue_rejected_total", "")] >= 1, "rejections counted")
        first.join()
        second.join()
        eq(sorted(results), [200, 200], "the running and the queued one are answered")


def test_bad_options():
    for args in (["--request-timeout", "-1"], ["--request-timeout", "abc"], ["--heavy", "0"],
                 ["--threads", "2", "--heavy", "3"]):
        p = subprocess.run([harness.BIN, "serve", "--db", DB, "--listen", "127.0.0.1:0", *args],
                           capture_output=True, text=True, timeout=20)
        eq(p.returncode, 2, f"serve {' '.join(args)}: {p.stderr}")


TESTS = [test_light_requests_do_not_wait_behind_heavy_ones, test_heavy_requests_cannot_take_every_worker,
         test_deadline_stops_the_work, test_write_cut_off_leaves_nothing,
         test_client_that_leaves_cancels_its_work, test_full_queue_answers_503_at_once,
         test_bad_options]

if __name__ == "__main__":
    src = os.path.join(TMP, "parcels.geojson")
    subprocess.run([harness.GEN, "synthetic", "--parcels", "100000", "--out", src], check=True,
                   capture_output=True)
    harness.run("init", DB)
    harness.run("import", DB, "parcels", src)
    # 30 000 more, under other codes, for the import that is cut off
    with open(src, encoding="utf-8") as f:
        fc = json.load(f)
    fc["features"] = fc["features"][:30000]
    for i, feat in enumerate(fc["features"]):
        feat["properties"]["code"] = f"MORE{i:05d}"
    harness.write_json(os.path.join(TMP, "more.geojson"), fc)
    os.unlink(src)
    failed = harness.run_all(TESTS)
    if not failed:
        import shutil
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if failed else 0)
