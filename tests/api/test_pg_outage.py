"""PostgreSQL goes away under load and comes back: onemap answers 503 with a
JSON error meanwhile (never a crash, never another 5xx), reconnects by
itself when the database is back, and every write it acknowledged is there.
A cluster of its own (tests/pg/cluster), killed as a crash would kill it.
PostgreSQL only (the API suites' PostgreSQL run): skipped on SQLite."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Server, check, eq, main, run  # noqa: E402

if harness.BACKEND != "postgresql":
    print("skipped: needs the PostgreSQL run (ONEMAP_TEST_PG)")
    sys.exit(77)

PATCH = {"Content-Type": "application/merge-patch+json"}
FIDS = (71, 72, 73, 74)  # one writer each


def cluster(*args):
    p = subprocess.run([harness.CLUSTER, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"tests/pg/cluster {' '.join(args)}: {p.stderr}")
    return p.stdout.strip()


class Load:
    """Writers (one feature each, a rising mark, no If-Match) and readers
    (a bbox page, a tile), recording every answer."""

    def __init__(self, srv, token):
        self.srv, self.token = srv, token
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {fid: [] for fid in FIDS}
        self.answers = []  # (time, kind, status, content type, body of a 5xx)
        self.threads = [threading.Thread(target=self.writer, args=(fid,)) for fid in FIDS]
        self.threads += [threading.Thread(target=self.reader, args=(p,)) for p in (
            "/collections/parcels/items?bbox=118.4106,29.1378,118.4161,29.1425&limit=20",
            "/collections/parcels/tiles/WebMercatorQuad/16/27218/54324")]

    def note(self, kind, r):
        with self.lock:
            self.answers.append((time.monotonic(), kind, r.status,
                                 r.header("Content-Type") or "",
                                 r.body if r.status >= 500 else b""))

    def writer(self, fid):
        mark = 0
        while not self.stop.is_set():
            mark += 1
            h = dict(PATCH, Authorization="Bearer " + self.token)
            r = self.srv.request("PATCH", f"/collections/parcels/items/{fid}",
                                 json.dumps({"properties": {"owner": f"mark {mark}"}}), h)
            self.note("write", r)
            if r.status == 200:
                with self.lock:
                    self.acked[fid].append(mark)
            elif r.status == 503:
                time.sleep(0.05)

    def reader(self, path):
        while not self.stop.is_set():
            r = self.srv.get(path)
            self.note("read", r)
            if r.status == 503:
                time.sleep(0.05)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def since(self, t0, kind=None):
        with self.lock:
            return [a for a in self.answers if a[0] >= t0 and (kind is None or a[1] == kind)]


def test_database_killed_mid_load():
    state = tempfile.mkdtemp(prefix="onemap-pg-outage-")
    cluster("start", state)
    try:
        url = cluster("newdb", state, "outage")
        run("demo", url)
        with Server(db=url, threads=4) as srv:
            token = srv.token("ed", "editor")
            with Load(srv, token) as load:
                time.sleep(1.5)
                t_kill = time.monotonic()
                cluster("kill", state)
                time.sleep(2)
                t_back = time.monotonic()
                cluster("restart", state)
                time.sleep(3)
                t_end = time.monotonic()
            check(srv.proc.poll() is None, "the server is still running: " + srv.logtext()[-2000:])
            before = load.since(0)
            check(before and all(a[2] == 200 for a in before if a[0] < t_kill),
                  "all answered before the kill")
            # meanwhile: only 200 (answered before the kill took effect) or
            # 503 with a JSON error, for reads and writes alike
            during = [a for a in load.since(t_kill) if a[0] < t_back]
            statuses = sorted({a[2] for a in during})
            check(set(statuses) <= {200, 503}, f"answers while down: {statuses}")
            down = [a for a in during if a[2] == 503]
            check(any(a[1] == "write" for a in down) and any(a[1] == "read" for a in down),
                  "reads and writes saw 503 while the database was down")
            for a in down:
                check(a[3].startswith("application/problem+json") or
                      a[3].startswith("application/json"), f"503 as JSON: {a[3]}")
                body = json.loads(a[4])
                check(body.get("status") == 503 and body.get("description"), body)
            # service resumed: the last second answered 200 only, both kinds
            last = load.since(t_end - 1)
            check(last and all(a[2] == 200 for a in last),
                  f"after the restart: {sorted({a[2] for a in last})}")
            check({a[1] for a in last} == {"read", "write"}, "reads and writes resumed")
            # every acknowledged write is there: its version in the history
            for fid in FIDS:
                versions = srv.get_json(f"/collections/parcels/items/{fid}/history")["versions"]
                owners = {v["feature"]["properties"].get("owner") for v in versions
                          if v.get("feature")}
                lost = [m for m in load.acked[fid] if f"mark {m}" not in owners]
                eq(lost, [], f"acknowledged writes of feature {fid} missing from its history")
                cur = srv.get_json(f"/collections/parcels/items/{fid}")["properties"]["owner"]
                check(cur.startswith("mark ") and int(cur[5:]) >= load.acked[fid][-1],
                      f"feature {fid}: {cur}, last acknowledged mark {load.acked[fid][-1]}")
            n = sum(len(v) for v in load.acked.values())
            print(f"  {n} writes acknowledged, {len(down)} answers 503 while down")
    finally:
        cluster("stop", state)


if __name__ == "__main__":
    main([test_database_killed_mid_load])
