"""Read replicas: `onemap serve --read-db` reads from PostgreSQL hot standbys
(tests/pg/cluster replica) and writes to the primary. A client that sends the
position of its last write (the Onemap-Position header or cookie) sees that
write through any server; a replica that lags more than --max-lag, or cannot
be reached, is skipped without an error, and read from again once it is back.
PostgreSQL only (the API suites' PostgreSQL run): skipped on SQLite."""
import atexit
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Server, check, eq, main, run  # noqa: E402

if harness.BACKEND != "postgresql":
    print("skipped: read replicas are PostgreSQL's (the API suites' PostgreSQL run)")
    sys.exit(77)

PATCH = {"Content-Type": "application/merge-patch+json"}
LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")
COOKIE_ATTRS = {"Path=/", "Max-Age=300", "SameSite=Lax", "HttpOnly"}
ROUNDS = 1000   # writes each read back through the other server with its position
CONTROL = 50    # and without it, which the replica's delay must show stale
TILES = [f"/collections/parcels/tiles/WebMercatorQuad/16/{27218 + dy}/{54324 + dx}"
         for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def cluster(*args):
    p = subprocess.run([harness.CLUSTER, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"tests/pg/cluster {' '.join(args)}: {p.stderr}")
    return p.stdout.strip()


def lsn(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


_REPLICAS = []


@atexit.register
def _stop_replicas():
    # a test that failed half-way leaves none running
    for r in _REPLICAS:
        r.stop()


class Replica:
    """A streaming hot standby of the cluster in primary_state, in a state
    folder of its own; settings are postgresql.conf lines. Stopped and
    removed on leaving the with block (or at exit)."""

    def __init__(self, primary_state, *settings):
        self.primary = primary_state
        self.state = tempfile.mkdtemp(prefix="onemap-replica-")
        _REPLICAS.append(self)
        args = []
        for s in settings:
            args += ["-c", s]
        cluster("replica", primary_state, self.state, *args)

    def url(self, primary_url):
        """The URL of the primary's database primary_url on this replica."""
        return cluster("dburl", self.state, primary_url.rsplit("/", 1)[1])

    def kill(self):
        cluster("kill", self.state)

    def restart(self):
        cluster("restart", self.state)

    def stop(self):
        if os.path.isdir(self.state):
            subprocess.run([harness.CLUSTER, "stop", self.state], capture_output=True)
            shutil.rmtree(self.state, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def demo_db(name):
    """A new database of the test cluster with the demo in it; its URL."""
    url = harness.fresh_db(name)
    run("demo", url)
    return url


def token(url):
    """An editor's token for the database at url (a write: made before a
    replica is copied, it is there already)."""
    return run("token", "add", url, "ed", "--role", "editor").stdout.strip().splitlines()[-1]


def first_parcel(srv):
    return srv.get_json("/collections/parcels/items?limit=1")["features"][0]["id"]


def write(srv, path, tok, etag, owner):
    """PATCHes the owner with If-Match etag; checks the position the write
    answers with (header and cookie) and returns (new ETag, position)."""
    r = srv.request("PATCH", path, json.dumps({"properties": {"owner": owner}}),
                    dict(PATCH, Authorization="Bearer " + tok, **{"If-Match": etag}))
    eq(r.status, 200, f"PATCH {path} ({r.body[:300]!r})")
    pos = r.header("Onemap-Position")
    check(pos and LSN.match(pos), f"Onemap-Position of a write: {pos!r}")
    cookie = [p.strip() for p in (r.header("Set-Cookie") or "").split(";")]
    eq(cookie[0], f"onemap_position={pos}", "the cookie holds the write's position")
    eq(set(cookie[1:]), COOKIE_ATTRS, f"the cookie's attributes ({r.header('Set-Cookie')})")
    return r.header("ETag"), pos


def read(srv, path, headers=None):
    """GETs a feature; returns (owner, ETag, where it was read from)."""
    r = srv.get(path, headers=headers)
    eq(r.status, 200, f"GET {path} {headers or ''} ({r.body[:300]!r})")
    src = r.header("Onemap-Read")
    check(src in ("replica", "primary"), f"Onemap-Read of GET {path}: {src!r}")
    return r.json()["properties"].get("owner"), r.header("ETag"), src


def test_read_your_writes():
    """Writes through one server, each read back through the other with the
    write's position: always the new version, whether a replica had
    replayed it or the primary answered. Reads without it do see the
    replica's old version now and then (it applies 30 ms late), which is what
    the position is for."""
    url = demo_db("ryw")
    tok = token(url)
    with Replica(harness.PG_STATE, "recovery_min_apply_delay = '30ms'") as rep:
        ro = ["--read-db", rep.url(url)]
        with Server(db=url, args=ro) as a, Server(db=url, args=ro) as b:
            path = f"/collections/parcels/items/{first_parcel(a)}"
            _, etag, _ = read(a, path)
            where = collections.Counter()
            last = 0
            t0 = time.monotonic()
            for i in range(ROUNDS):
                w, r = (a, b) if i % 2 == 0 else (b, a)
                owner = f"round {i}"
                etag, pos = write(w, path, tok, etag, owner)
                check(lsn(pos) >= last, f"round {i}: position {pos} went back")
                last = lsn(pos)
                # the header, or the cookie a browser would send back
                h = {"Cookie": f"onemap_position={pos}"} if i % 2 else {"Onemap-Position": pos}
                got, got_etag, src = read(r, path, h)
                eq((got, got_etag), (owner, etag),
                   f"round {i}: read through the other server with {h}")
                where[src] += 1
            took = time.monotonic() - t0
            print(f"  {ROUNDS} writes read back with their position in {took:.1f} s: "
                  f"{where['replica']} from the replica, {where['primary']} from the primary")
            # control: the same without the position; a read may then see
            # any earlier version (quick rounds: more than one behind)
            stale = 0
            plain = collections.Counter()
            seen = [(owner, etag)]
            for i in range(CONTROL):
                w, r = (a, b) if i % 2 == 0 else (b, a)
                owner = f"plain {i}"
                etag, _ = write(w, path, tok, etag, owner)
                got, got_etag, src = read(r, path)
                plain[src] += 1
                if (got, got_etag) in seen:
                    stale += 1
                    eq(src, "replica", f"control round {i}: an old version read from")
                else:
                    eq((got, got_etag), (owner, etag), f"control round {i}")
                seen.append((owner, etag))
            print(f"  {CONTROL} reads without the position: {stale} saw the old version; "
                  f"{plain['replica']} from the replica, {plain['primary']} from the primary")
            check(plain["replica"] > 0, "reads without a position go to the replica")
            check(stale > 0, "the replica lags 30 ms, yet no read without the position saw "
                  "the old version: the test above would pass without the feature")


def test_lagging_replica_skipped():
    """A replica 4 s behind, --max-lag 1: reads go to the primary while it
    lags, and back to it once it has caught up."""
    # A primary of its own: a replica's lag is the whole cluster's, and the
    # other suites writing to the shared test cluster would keep one that
    # applies 4 s late lagging all the time (autovacuum off for the same).
    state = tempfile.mkdtemp(prefix="onemap-replicas-primary-")
    cluster("start", state, "-c", "autovacuum = off")
    try:
        url = cluster("newdb", state, "lag")
        run("demo", url)
        tok = token(url)
        with Replica(state, "recovery_min_apply_delay = '4s'") as rep, \
                Server(db=url, args=["--read-db", rep.url(url), "--max-lag", "1"]) as srv:
            path = f"/collections/parcels/items/{first_parcel(srv)}"
            # no write yet: the replica is up to date
            owner0, etag, src = read(srv, path)
            eq(src, "replica", "a read before any write")
            t_sent = time.monotonic()
            etag, _ = write(srv, path, tok, etag, "lagging")
            t_done = time.monotonic()
            # replayed 4 s after the commit, which came after t_sent; from
            # 1 s after the answer on, the replica is more than 1 s behind,
            # which the server sees within its sampling of the primary's
            # position (0.2 s)
            skip_by = 1.0 + 0.3 * harness.SLOW
            early = collections.Counter()
            last_replica = None  # the last read from the replica while it fell behind
            late = []
            while time.monotonic() < t_sent + 3.3:
                t = time.monotonic()
                got, got_etag, src = read(srv, path)
                if src == "primary":
                    eq((got, got_etag), ("lagging", etag), "read from the primary after the write")
                if t >= t_done + skip_by:
                    late.append((round(t - t_sent, 2), src, got))
                else:
                    early[(src, got)] += 1
                    if src == "replica":
                        last_replica = t - t_done
                time.sleep(0.05)
            print(f"  reads in the first {skip_by} s after the write: {dict(early)}; the last "
                  f"from the replica {last_replica} s after it")
            check(late, f"no read between {skip_by} and 3.3 s after the write")
            eq([x for x in late if x[1:] != ("primary", "lagging")], [],
               f"reads {skip_by} to 3.3 s after the write, the replica lagging more than 1 s "
               "(time, source, owner)")
            # caught up: the replica again
            back = None
            while time.monotonic() < t_sent + 15:
                got, got_etag, src = read(srv, path)
                if src == "replica":
                    back = time.monotonic() - t_sent
                    eq((got, got_etag), ("lagging", etag), "read from the caught-up replica")
                    break
                time.sleep(0.1)
            check(back is not None, "reads did not return to the replica within 15 s of the write")
            print(f"  {len(late)} reads from the primary while it lagged; back to the replica "
                  f"{back:.1f} s after the write")
    finally:
        cluster("stop", state)
        shutil.rmtree(state, ignore_errors=True)


class Readers:
    """Two threads reading: feature pages and items, and tiles; every answer
    recorded as (time sent, path, status, Onemap-Read)."""

    def __init__(self, srv, fids):
        self.srv = srv
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = []
        items = [f"/collections/parcels/items/{f}" for f in fids]
        items += [f"/collections/parcels/items?limit=5&offset={k}" for k in range(0, 50, 5)]
        self.threads = [threading.Thread(target=self.loop, args=(items,)),
                        threading.Thread(target=self.loop, args=(TILES,))]

    def loop(self, paths):
        k = 0
        while not self.stop.is_set():
            p = paths[k % len(paths)]
            k += 1
            t = time.monotonic()
            r = self.srv.get(p)
            with self.lock:
                self.answers.append((t, p, r.status, r.header("Onemap-Read"),
                                     r.body[:300] if r.status >= 300 else b""))
            time.sleep(0.01)

    def items(self, since, until=float("inf")):
        with self.lock:
            return [a for a in self.answers
                    if since <= a[0] < until and "/tiles/" not in a[1]]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def test_replica_stopped():
    """The replica crashes under reads and comes back: no read fails, the
    primary answers meanwhile, the replica again once it is up."""
    url = demo_db("stopped")
    with Replica(harness.PG_STATE) as rep, \
            Server(db=url, threads=4, args=["--read-db", rep.url(url)]) as srv:
        fids = [f["id"] for f in
                srv.get_json("/collections/parcels/items?limit=20")["features"]]
        with Readers(srv, fids) as rd:
            time.sleep(1.5)
            t_kill = time.monotonic()
            rep.kill()
            t_killed = time.monotonic()  # from here on it cannot answer
            time.sleep(3)
            t_restart = time.monotonic()
            rep.restart()
            back = None
            while time.monotonic() < t_restart + 10 * harness.SLOW:
                time.sleep(0.1)
                up = [a for a in rd.items(t_restart) if a[3] == "replica"]
                if up:
                    back = up[0][0] - t_restart
                    break
        answers = rd.answers
        bad = [(round(a[0] - t_killed, 2), a[1], a[2], a[4]) for a in answers
               if a[2] != 200 and not ("/tiles/" in a[1] and a[2] == 204)]
        eq(bad, [], "reads that failed (seconds after the kill, path, status, body)")
        before = rd.items(0, t_kill)
        check(before and any(a[3] == "replica" for a in before),
              "item reads came from the replica before the kill")
        down = rd.items(t_killed, t_restart)
        check(down, "item reads while the replica was down")
        eq(sorted({a[3] for a in down}), ["primary"],
           "where item reads sent while the replica was down came from")
        check(back is not None, f"reads did not return to the replica within "
              f"{10 * harness.SLOW:.0f} s of its restart")
        tiles = sum(1 for a in answers if "/tiles/" in a[1])
        print(f"  {len(answers)} reads ({tiles} tiles), {len(down)} item reads from the "
              f"primary while the replica was down, back to it {back:.1f} s after its restart")


def test_bad_position():
    """A position that is no LSN is the client's error; one the replica will
    not reach soon is read from the primary after at most --read-wait."""
    url = demo_db("badpos")
    with Replica(harness.PG_STATE) as rep, \
            Server(db=url, args=["--read-db", rep.url(url), "--read-wait", "200"]) as srv:
        path = f"/collections/parcels/items/{first_parcel(srv)}"
        for bad in ("nonsense", "0/", "/0", "12", "1/2/3", "G/0", "-1/0", "0x1/0", "1/2 x"):
            r = srv.get(path, headers={"Onemap-Position": bad})
            eq(r.status, 400, f"GET with Onemap-Position: {bad} ({r.body[:200]!r})")
            ct = r.header("Content-Type") or ""
            check(ct.startswith("application/problem+json") or ct.startswith("application/json"),
                  f"400 as JSON: {ct}")
            check("Onemap-Position" in json.dumps(r.json(), ensure_ascii=False),
                  f"the error names the header: {r.body[:300]!r}")
        # far ahead of anything written: the replica never gets there
        for h in ({"Onemap-Position": "FFFFFFFF/0"}, {"Cookie": "onemap_position=FFFFFFFF/0"}):
            t = time.monotonic()
            _, _, src = read(srv, path, h)
            took = time.monotonic() - t
            eq(src, "primary", f"where a read with {h} came from")
            check(took < 0.2 + 1.5 * harness.SLOW, f"a read with {h} took {took:.2f} s "
                  "(--read-wait 200)")
        # long replayed: the replica answers
        _, _, src = read(srv, path, {"Onemap-Position": "0/0"})
        eq(src, "replica", "where a read with Onemap-Position: 0/0 came from")


def test_multihost_failover():
    """Without Patroni: a libpq URL naming the primary and its replica with
    target_session_attrs=read-write. The primary crashes and the replica is
    promoted: the server finds the new primary by itself, writes in the
    meantime get 503 with Retry-After (none hangs), and every acknowledged
    write is there afterwards."""
    state = tempfile.mkdtemp(prefix="onemap-replicas-primary-")
    cluster("start", state)
    try:
        url = cluster("newdb", state, "multihost")
        run("demo", url)
        tok = token(url)
        with Replica(state) as rep:
            name = url.rsplit("/", 1)[1]
            p1 = int(open(os.path.join(state, "port")).read())
            p2 = int(open(os.path.join(rep.state, "port")).read())
            both = (f"postgresql://onemap@127.0.0.1:{p1},127.0.0.1:{p2}/{name}"
                    "?target_session_attrs=read-write")
            with Server(db=both) as srv:
                path = f"/collections/parcels/items/{first_parcel(srv)}"
                etag = srv.get(path).header("ETag")
                acked = []
                for i in range(3):
                    etag, _ = write(srv, path, tok, etag, f"before {i}")
                    acked.append(f"before {i}")
                cluster("kill", state)
                t_kill = time.monotonic()
                # no server takes writes yet (one is gone, the other a standby)
                r = srv.request("PATCH", path, json.dumps({"properties": {"owner": "lost"}}),
                                dict(PATCH, Authorization="Bearer " + tok))
                eq(r.status, 503, f"a write with no primary: {r.body[:300]!r}")
                check(r.header("Retry-After"), "503 with Retry-After")
                cluster("psql", rep.state, "-d", "postgres", "-c", "SELECT pg_promote()")
                answers = collections.Counter()
                n = 0
                while time.monotonic() - t_kill < 30:
                    n += 1
                    owner = f"after {n}"
                    t0 = time.monotonic()
                    r = srv.request("PATCH", path, json.dumps({"properties": {"owner": owner}}),
                                    dict(PATCH, Authorization="Bearer " + tok))
                    check(time.monotonic() - t0 < 10 * harness.SLOW,
                          f"a write during the switch took {time.monotonic() - t0:.1f} s")
                    answers[r.status] += 1
                    if r.status == 200:
                        acked.append(owner)
                        break
                    eq(r.status, 503, f"a write during the switch: {r.body[:300]!r}")
                    check(r.header("Retry-After"), "503 with Retry-After")
                    check(r.json().get("status") == 503, f"503 as JSON: {r.body[:200]!r}")
                    time.sleep(0.05)
                took = time.monotonic() - t_kill
                print(f"  primary killed, replica promoted: writes back after {took:.2f} s "
                      f"({dict(answers)})")
                eq(answers[200], 1, "a write succeeded on the promoted replica within 30 s")
                got = srv.get_json(path)["properties"]["owner"]
                eq(got, acked[-1], "the last acknowledged write")
                hist = srv.get_json(path + "/history")["versions"]
                owners = [(h.get("feature") or {}).get("properties", {}).get("owner")
                          for h in hist]
                for o in acked:
                    check(o in owners, f"acknowledged write {o!r} in the history: {owners}")
    finally:
        subprocess.run([harness.CLUSTER, "stop", state], capture_output=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main([test_read_your_writes, test_lagging_replica_skipped, test_bad_position,
          test_multihost_failover,
          test_replica_stopped])
