"""The highly available cluster of deploy/cluster under test: brought up by
deploy/cluster/up into a temporary folder, looked at through Patroni's REST
API and HAProxy's admin socket, broken on purpose, and brought down by
deploy/cluster/down however the test ended. Load runs a mixed load through
HAProxy's HTTP entrance and records every answer. Standard library only."""
import http.client
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "api"))
from harness import check, check_faults  # noqa: E402

SRC = os.environ.get("ONEMAP_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOY = os.path.join(SRC, "deploy", "cluster")
BIN = os.environ.get("ONEMAP_BIN", os.path.join(SRC, "build", "onemap"))
PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def skip_unless_available():
    """Exits 77 (CTest's skipped) when Patroni, etcd or HAProxy is missing."""
    missing = [p for p in ("patroni", "etcd", "haproxy") if not shutil.which(p, path=PATH)]
    if missing:
        print("skipped: not installed: " + " ".join(missing) + " (bash .ci/install)")
        sys.exit(77)


class Answer:
    __slots__ = ("t0", "t1", "kind", "status", "body", "retry_after")

    def __init__(self, t0, t1, kind, status, body, retry_after=None):
        self.t0, self.t1, self.kind, self.status, self.body = t0, t1, kind, status, body
        self.retry_after = retry_after

    def ok(self):
        return self.status in (200, 412)

    def __repr__(self):
        return f"{self.kind} {self.status} at {self.t0:.2f}-{self.t1:.2f}: {self.body[:200]!r}"


def request(port, method, path, body=None, headers=None, timeout=30):
    """One request on a connection of its own. Returns (status, headers,
    body); status is "error: ..." when no HTTP answer came at all."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    except (OSError, http.client.HTTPException) as e:
        return f"error: {type(e).__name__}: {e}", {}, b""
    finally:
        c.close()


class Cluster:
    """deploy/cluster/up into a new folder under /tmp (which the `postgres`
    user can reach); down on leaving, the logs copied aside first when the
    test failed."""

    def __init__(self, nodes=3, servers=2):
        self.dir = tempfile.mkdtemp(prefix="onemap-cluster-test-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        env = dict(os.environ, ONEMAP_BIN=BIN, PATH=PATH)
        t = time.monotonic()
        p = subprocess.run([os.path.join(DEPLOY, "up"), "--dir", self.dir, "--nodes", str(nodes),
                            "--servers", str(servers)], capture_output=True, text=True, env=env)
        self.up_seconds = time.monotonic() - t
        if p.returncode != 0:
            self.keep_logs()
            self.down()
            raise AssertionError(f"deploy/cluster/up failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        self.facts = {}
        with open(os.path.join(self.dir, "cluster.env")) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.rstrip("\n").split("=", 1)
                    self.facts[k] = v
        self.nodes, self.servers = nodes, servers
        tokens = [l[len("token: "):] for l in p.stdout.splitlines() if l.startswith("token: ")]
        check(len(tokens) == 1, f"one token line in up's output: {p.stdout}")
        self.token = tokens[0]
        self.http_port = int(self.facts["HTTP_PORT"])

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        # ONEMAP_KEEP_CLUSTER_LOGS=1: kept after a success too
        if exc_type is not None or os.environ.get("ONEMAP_KEEP_CLUSTER_LOGS"):
            self.keep_logs()
        self.down()
        return False

    def down(self):
        p = subprocess.run([os.path.join(DEPLOY, "down"), "--dir", self.dir],
                           capture_output=True, text=True, env=dict(os.environ, PATH=PATH))
        if p.returncode != 0:
            sys.stderr.write(f"deploy/cluster/down failed: {p.stderr}\n")
        shutil.rmtree(self.dir, ignore_errors=True)

    def keep_logs(self):
        """Copies every log of the cluster to a folder kept after down."""
        if not os.path.isdir(self.dir):
            return
        kept = tempfile.mkdtemp(prefix="onemap-cluster-logs-", dir="/tmp")
        for root, _, files in os.walk(self.dir):
            for f in files:
                if f.endswith(".log") or f.endswith(".cfg"):
                    rel = os.path.relpath(os.path.join(root, f), self.dir)
                    os.makedirs(os.path.dirname(os.path.join(kept, rel)), exist_ok=True)
                    shutil.copy(os.path.join(root, f), os.path.join(kept, rel))
        sys.stderr.write(f"cluster logs kept in {kept}\n")

    # --- looking -------------------------------------------------------------

    def pid(self, name):
        """The pid up recorded for name (etcd, nodeN, haproxy, onemapN), if
        that process still runs."""
        with open(os.path.join(self.dir, "pids")) as f:
            for line in f:
                n, pid, start = line.split()
                if n == name:
                    try:
                        with open(f"/proc/{pid}/stat") as s:
                            fields = s.read().rsplit(")", 1)[1].split()
                    except OSError:
                        return None
                    # a zombie has ended: only its exit status is left
                    return int(pid) if fields[0] != "Z" and fields[19] == start else None
        return None

    def patroni(self, node, path):
        """GET path on a node's Patroni REST API: (status, parsed JSON)."""
        status, _, body = request(int(self.facts[f"NODE{node}_REST_PORT"]), "GET", path, timeout=5)
        if not isinstance(status, int):
            return status, None
        return status, json.loads(body) if body else None

    def members(self):
        """Patroni's GET /cluster, asked of the first node that answers."""
        for n in range(1, self.nodes + 1):
            status, doc = self.patroni(n, "/cluster")
            if status == 200:
                return doc["members"]
        raise AssertionError("no Patroni answers GET /cluster")

    def leader(self):
        """The leader's name (node1...), or None while there is none."""
        for m in self.members():
            if m["role"] == "leader" and m["state"] == "running":
                return m["name"]
        return None

    def postmaster_pid(self, name):
        """The pid of a node's PostgreSQL (its postmaster), from the
        postmaster.pid in its data directory."""
        with open(os.path.join(self.dir, name, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def replicas_streaming(self):
        """The leader's replicas that stream from it, as its Patroni sees
        them (pg_stat_replication): {application_name: sync_state}."""
        leader = self.leader()
        if not leader:
            return {}
        status, doc = self.patroni(int(leader[4:]), "/patroni")
        if status != 200:
            return {}
        return {r["application_name"]: r.get("sync_state") for r in doc.get("replication", [])
                if r.get("state") == "streaming"}

    def wait(self, what, cond, seconds):
        """Polls cond() until true; returns the seconds it took."""
        t = time.monotonic()
        while time.monotonic() - t < seconds:
            if cond():
                return time.monotonic() - t
            time.sleep(0.1)
        raise AssertionError(f"{what}: not within {seconds} s")

    def haproxy(self, command):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(os.path.join(self.dir, "haproxy.sock"))
        s.sendall(command.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        return out.decode()

    def haproxy_status(self, proxy, server):
        for line in self.haproxy("show stat").splitlines():
            f = line.split(",")
            if len(f) > 17 and f[0] == proxy and f[1] == server:
                return f[17]
        return None

    def log(self, name):
        with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
            return f.read()

    def check_onemap_logs(self):
        """No sanitizer or valgrind report in any onemap server's log."""
        for i in range(1, self.servers + 1):
            check_faults(self.log(f"onemap{i}.log"), f"onemap{i}")

    def kill(self, name, sig=signal.SIGKILL):
        pid = self.pid(name)
        check(pid, f"{name} runs")
        os.kill(pid, sig)
        return pid

    def run_script(self, script, *args):
        p = subprocess.run([os.path.join(DEPLOY, script), "--dir", self.dir, *args],
                           capture_output=True, text=True, env=dict(os.environ, PATH=PATH))
        if p.returncode != 0:
            raise AssertionError(f"deploy/cluster/{script} failed ({p.returncode}):\n"
                                 f"{p.stdout}{p.stderr}")
        return p.stdout + p.stderr


# Small boxes around the demo's parcels (about 500 m), and the z16 tiles
# over them: each read reaches the database unless its tile is cached, and a
# write to a parcel drops the tiles it touches from every server's cache.
BOXES = ["118.4106,29.1378,118.4161,29.1425", "118.4080,29.1350,118.4130,29.1400",
         "118.4130,29.1400,118.4180,29.1450", "118.4050,29.1380,118.4100,29.1430"]
TILES = [f"/collections/parcels/tiles/WebMercatorQuad/16/{x}/{y}"
         for x in (27217, 27218, 27219) for y in (54323, 54324, 54325)]
PARCELS = list(range(61, 85))  # the writers' parcels, split among them


class Load:
    """A mixed load through HAProxy: readers of items by bbox and of tiles,
    and writers, each with parcels of its own, that PATCH them with
    If-Match and record every acknowledged write (parcel, version, value).
    Every answer is kept (start, end, kind, status)."""

    def __init__(self, cluster, readers=2, tile_readers=1, writers=2):
        self.c = cluster
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.answers = []
        self.acked = []  # (fid, version, value, time)
        self.threads = [threading.Thread(target=self.reader, args=(i,), daemon=True)
                        for i in range(readers)]
        self.threads += [threading.Thread(target=self.tile_reader, args=(i,), daemon=True)
                         for i in range(tile_readers)]
        self.threads += [threading.Thread(target=self.writer, args=(i, PARCELS[i::writers]),
                                          daemon=True) for i in range(writers)]
        self.t_start = self.t_end = None
        self.position = (0, None)  # the furthest write position seen (number, text)
        self.sources = collections.Counter()  # successful reads by Onemap-Read

    def _do(self, kind, method, path, body=None, headers=None):
        t0 = time.monotonic()
        status, h, data = request(self.c.http_port, method, path, body, headers)
        t1 = time.monotonic()
        keep = data if not isinstance(status, int) or status >= 300 else b""
        with self.lock:
            if method == "GET" and status == 200:
                self.sources[h.get("onemap-read", "cache")] += 1
            self.answers.append(Answer(t0, t1, kind, status, keep, h.get("retry-after")))
        return status, h, data

    def reader(self, i):
        n = i
        while not self.stop_event.is_set():
            n += 1
            status, _, _ = self._do("items", "GET",
                                    f"/collections/parcels/items?bbox={BOXES[n % len(BOXES)]}&limit=50")
            if status != 200:
                time.sleep(0.05)

    def tile_reader(self, i):
        n = i
        while not self.stop_event.is_set():
            n += 1
            status, _, _ = self._do("tile", "GET", TILES[n % len(TILES)])
            if status != 200:
                time.sleep(0.05)

    def saw_position(self, h):
        """Keeps the furthest position a write's answer carried: reads sent
        with it see every acknowledged write, from whichever replica."""
        pos = h.get("onemap-position")
        if pos:
            hi, lo = (int(x, 16) for x in pos.split("/"))
            with self.lock:
                if (hi << 32 | lo) > self.position[0]:
                    self.position = (hi << 32 | lo, pos)

    def read_headers(self):
        with self.lock:
            return {"Onemap-Position": self.position[1]} if self.position[1] else {}

    def version_of(self, fid):
        """The parcel's version as read through HAProxy (retrying while the
        cluster cannot answer)."""
        while True:
            status, h, _ = request(self.c.http_port, "GET", f"/collections/parcels/items/{fid}",
                                   headers=self.read_headers())
            if status == 200:
                return int(h["etag"].strip('"'))
            if self.stop_event.is_set():
                return None
            time.sleep(0.1)

    def writer(self, i, fids):
        known = {fid: self.version_of(fid) for fid in fids}
        n = 0
        auth = {"Authorization": "Bearer " + self.c.token,
                "Content-Type": "application/merge-patch+json"}
        while not self.stop_event.is_set():
            fid = fids[n % len(fids)]
            n += 1
            value = f"w{i}-{n}"
            body = json.dumps({"properties": {"owner": value}})
            status, h, _ = self._do("write", "PATCH", f"/collections/parcels/items/{fid}", body,
                                    dict(auth, **{"If-Match": f'"{known[fid]}"'}))
            if status == 200:
                v = int(h["etag"].strip('"'))
                self.saw_position(h)
                with self.lock:
                    self.acked.append((fid, v, value, time.monotonic()))
                known[fid] = v
            elif status == 412:
                # an earlier write whose answer was lost did happen after all
                known[fid] = self.version_of(fid) or known[fid]
            else:
                # 503 (or the request died with a server): it may or may not
                # have been written; If-Match on the next try tells
                time.sleep(0.05)

    def __enter__(self):
        self.t_start = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        if self.t_end is None:
            self.stop_event.set()
            for t in self.threads:
                t.join(60)
            self.t_end = time.monotonic()

    # --- what happened ---------------------------------------------------

    def between(self, t0=None, t1=None, kinds=None):
        with self.lock:
            return [a for a in self.answers
                    if (t0 is None or a.t0 >= t0) and (t1 is None or a.t0 < t1)
                    and (kinds is None or a.kind in kinds)]

    def failed(self, t0=None, t1=None, kinds=None):
        return [a for a in self.between(t0, t1, kinds) if not a.ok()]

    def read_from(self):
        """Where the successful reads came from, as words."""
        with self.lock:
            return ", ".join(f"{n} from the {k}" for k, n in self.sources.most_common())

    def rate(self):
        return len(self.answers) / max(1e-9, (self.t_end or time.monotonic()) - self.t_start)

    def longest_gap(self, kinds, t0, t1):
        """The longest time within [t0, t1] without a successful answer of
        those kinds (the ends count as the start and end of a gap)."""
        ends = sorted(a.t1 for a in self.between(kinds=kinds) if a.status == 200 and t0 <= a.t1 <= t1)
        marks = [t0] + ends + [t1]
        return max(b - a for a, b in zip(marks, marks[1:]))

    def first_ok_after(self, kind, t):
        ends = [a.t1 for a in self.between(t0=t, kinds=(kind,)) if a.status == 200]
        return min(ends) - t if ends else None

    def check_acknowledged_kept(self):
        """Every acknowledged write is in its parcel's history with the
        version it was acknowledged with; no version was acknowledged twice;
        each parcel is now at its last acknowledged version or later."""
        by_fid = {}
        for fid, v, value, _ in self.acked:
            by_fid.setdefault(fid, []).append((v, value))
        lost = []
        for fid, writes in sorted(by_fid.items()):
            status, _, body = request(self.c.http_port, "GET",
                                      f"/collections/parcels/items/{fid}/history",
                                      headers=self.read_headers())
            check(status == 200, f"history of parcel {fid}: {status} {body[:200]!r}")
            hist = {h["version"]: (h.get("feature") or {}).get("properties", {}).get("owner")
                    for h in json.loads(body)["versions"]}
            versions = [v for v, _ in writes]
            check(len(set(versions)) == len(versions),
                  f"parcel {fid}: a version acknowledged twice: {sorted(versions)}")
            lost += [(fid, v, value, hist.get(v)) for v, value in writes if hist.get(v) != value]
            status, h, _ = request(self.c.http_port, "GET", f"/collections/parcels/items/{fid}",
                                   headers=self.read_headers())
            check(status == 200 and int(h["etag"].strip('"')) >= max(versions),
                  f"parcel {fid} now at {h.get('etag')}, acknowledged up to {max(versions)}")
        check(not lost, f"acknowledged writes lost (parcel, version, value, found): {lost[:20]}")
        return len(self.acked)
