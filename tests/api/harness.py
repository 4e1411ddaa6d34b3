"""Black-box test harness: runs the real onemap binary on a free port
against a temporary database and talks HTTP to it. Standard library only."""
import atexit
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

# Every temporary folder a test program makes (tempfile's, here and in the
# tests) lies in one folder of its own, removed when the program ends: a
# run leaves nothing behind in /tmp. Readable by all, as a cluster's state
# folder in it belongs to the postgres user.
_SCRATCH = tempfile.mkdtemp(prefix="onemap-tests-")
os.chmod(_SCRATCH, 0o755)
tempfile.tempdir = _SCRATCH
atexit.register(shutil.rmtree, _SCRATCH, True)

BIN = os.environ.get("ONEMAP_BIN", "build/onemap")
# How much slower than a plain build the binary runs (sanitizers, valgrind):
# every timeout here is multiplied by it.
SLOW = float(os.environ.get("ONEMAP_TEST_SLOW", "1"))
# What a sanitizer or valgrind writes when it finds a fault.
FAULTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
          "Invalid read of size", "Invalid write of size", "definitely lost in",
          "Conditional jump or move depends on uninitialised", "Invalid free()",
          "Syscall param")


def check_faults(text, what):
    """Raises when a sanitizer's or valgrind's report is in text."""
    for f in FAULTS:
        at = text.find(f)
        if at >= 0:
            raise AssertionError(f"{what}: {f} ...\n{text[max(0, at - 2000):at + 6000]}")
GEN = os.environ.get("ONEMAP_GEN", "build/onemap-gen")
SRC = os.environ.get("ONEMAP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
# The database: a SQLite file, or with ONEMAP_TEST_PG (the state folder of a
# cluster that tests/pg/cluster started) a new PostgreSQL database per server.
PG_STATE = os.environ.get("ONEMAP_TEST_PG")
BACKEND = "postgresql" if PG_STATE else "sqlite"
CLUSTER = os.path.join(SRC, "tests", "pg", "cluster")
_DBS = []


def fresh_db(name, tmp=None):
    """A new, empty database: a file in tmp (a new folder when None), or on
    the PostgreSQL run a new database of the test cluster (its URL), dropped
    when the test program ends."""
    if not PG_STATE:
        return os.path.join(tmp or tempfile.mkdtemp(prefix="onemap-test-"), name + ".db")
    db = f"t_{name}_{os.getpid()}_{len(_DBS)}".lower()
    p = subprocess.run([CLUSTER, "newdb", PG_STATE, db], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"tests/pg/cluster newdb {db}: {p.stderr}")
    _DBS.append(db)
    return p.stdout.strip()


def _drop_dbs():
    for db in _DBS:
        subprocess.run([CLUSTER, "dropdb", PG_STATE, db], capture_output=True)


atexit.register(_drop_dbs)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(*args, check=True, input=None):
    """Runs the onemap command; returns CompletedProcess (text)."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, input=input,
                       errors="replace")
    check_faults(p.stderr, f"onemap {' '.join(args)}")
    if check and p.returncode != 0:
        raise AssertionError(f"onemap {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        return self.headers.get(name)


class Server:
    """A running onemap on a temp database. Use as a context manager."""

    def __init__(self, db=None, demo=True, threads=2, args=(), imports=()):
        """args: extra `onemap serve` arguments. imports: (collection,
        FeatureCollection dict or file path, *extra CLI arguments) tuples,
        imported with `onemap import` before serving."""
        self.tmp = tempfile.mkdtemp(prefix="onemap-test-")
        self.failures_at_start = FAILURES[0]
        self.db = db or fresh_db("test", self.tmp)
        if db is None:
            if demo:
                run("demo", self.db)
            else:
                run("init", self.db)
        for n, (coll, data, *extra) in enumerate(imports):
            if not isinstance(data, str):
                data = write_json(os.path.join(self.tmp, f"import{n}-{coll}.geojson"), data)
            run("import", self.db, coll, data, *extra)
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        for attempt in range(5):
            self.port = free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            self.proc = subprocess.Popen(
                [BIN, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}",
                 "--threads", str(threads), *args], stdout=self.log, stderr=self.log)
            if self._ready():
                return
            # another process took the port between free_port() and bind: next one
            if "cannot listen" not in self.logtext():
                raise AssertionError("server exited: " + self.logtext())
        raise AssertionError("no free port in 5 attempts: " + self.logtext())

    def _ready(self):
        """Waits until this server (not another process on the port) serves;
        False when it exited."""
        for _ in range(int(1200 * SLOW)):
            if self.proc.poll() is not None:
                return False
            if "onemap: serving" in self.logtext():
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                        return True
                except OSError:
                    pass
            time.sleep(0.025)
        self.proc.kill()
        raise AssertionError("server did not start in 30 s: " + self.logtext())

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(os.path.join(self.tmp, "server.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, raw_path=False):
        url = self.base + path
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60 * SLOW) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def get_json(self, path, status=200, headers=None):
        """GETs path, asserts the status, returns the parsed body."""
        r = self.get(path, headers=headers)
        if r.status != status:
            raise AssertionError(f"GET {path}: status {r.status}, expected {status}: "
                                 f"{r.body[:300]!r}")
        return r.json()

    def exact(self, method, path, headers=None, body=None):
        """Sends path byte for byte (no client-side normalisation) on a new
        connection; returns a Response."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                c.putheader(k, v)
            if body is not None:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            return Response(r.status, r.headers, r.read())
        finally:
            c.close()

    def client(self):
        """A keep-alive connection: client().get(path) -> Response."""
        return KeepAlive(self.port)

    def raw(self, data, timeout=10):
        """Sends raw bytes on a new connection; returns the raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            try:
                while True:
                    c = s.recv(65536)
                    if not c:
                        break
                    chunks.append(c)
            except socket.timeout:
                pass
        return b"".join(chunks)

    def token(self, name, role, *grids):
        """Creates a token with the CLI; returns its secret (the last line)."""
        args = ["token", "add", self.db, name, "--role", role]
        for g in grids:
            args += ["--grid", g]
        return run(*args).stdout.strip().splitlines()[-1]

    def alive(self):
        return self.proc.poll() is None and self.get("/health").status == 200

    def stop(self):
        """SIGTERM; the exit status of a server this stops is kept in
        self.exit_status (None when it had stopped already: killed by a test
        with SIGKILL, or exited by itself, which counts as a fault)."""
        if self.log.closed:
            return
        self.exit_status = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.exit_status = self.proc.wait(timeout=30 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_status = f"killed after {30 * SLOW:.0f} s"
        elif self.proc.returncode != -signal.SIGKILL:
            self.exit_status = self.proc.returncode
        self.log.close()

    def __enter__(self):
        return self

    def access_log(self):
        """The server's access log: one dict per request (time, method, path,
        status, bytes, ms, token), parsed from its JSON lines."""
        return [json.loads(l) for l in self.logtext().splitlines() if l.startswith('{"time"')]

    def sanitizer_reports(self):
        """Lines of the server log where ASan, LSan, UBSan or valgrind reported
        (in a sanitizer build they go there, also at exit for leaks)."""
        out = [l for l in self.logtext().splitlines() if any(m in l for m in FAULTS)]
        if getattr(self, "exit_status", None) not in (None, 0):
            out.append(f"the server did not shut down cleanly on SIGTERM: {self.exit_status}")
        return out

    def __exit__(self, *exc):
        self.stop()
        reports = self.sanitizer_reports()
        ok = exc[0] is None or (exc[0] is SystemExit and not exc[1].code)
        if ok and not reports and FAILURES[0] == self.failures_at_start:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            sys.stderr.write(f"server log kept in {self.tmp}\n")
        if reports and ok:
            raise AssertionError("sanitizer reports in the server log:\n" + "\n".join(reports))
        return False


class KeepAlive:
    """One persistent HTTP/1.1 connection (for timing and connection reuse)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path, headers=None):
        self.conn.request("GET", path, headers=headers or {})
        r = self.conn.getresponse()
        return Response(r.status, r.headers, r.read())

    def close(self):
        self.conn.close()


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False)
    return path


def demo_available():
    """True when geodata/demo/ holds the six layers `onemap demo` imports."""
    d = os.path.join(SRC, "geodata", "demo")
    return all(os.path.exists(os.path.join(d, c + ".geojson")) for c in COLLECTIONS)


COLLECTIONS = ["villages", "grids", "parcels", "farmland", "demolition_sites", "communities"]


def cs2cs(src, dst, points, decimals=10):
    """Transforms (a, b) pairs with PROJ's own cs2cs, in the axis order of each
    CRS's definition (e.g. EPSG:4490 lat, lon; EPSG:4548 northing, easting).
    dst may also be a PROJ string ("+proj=laea ...")."""
    text = "".join(f"{a!r} {b!r}\n" for a, b in points)
    # a PROJ string as target goes after "+to" (cs2cs misreads it otherwise)
    target = ["+to", *dst.split()] if dst.startswith("+") else [dst]
    p = subprocess.run(["cs2cs", "-f", f"%.{decimals}f", src, *target], input=text,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"cs2cs {src} {dst} failed: {p.stderr}")
    out = []
    for line in p.stdout.splitlines():
        parts = line.split()
        out.append((float(parts[0]), float(parts[1])))
    if len(out) != len(points):
        raise AssertionError(f"cs2cs gave {len(out)} points for {len(points)}: {p.stderr}")
    return out


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: got {actual!r}, expected {expected!r}")


def near(actual, expected, tol, what):
    if not abs(actual - expected) <= tol:
        raise AssertionError(f"{what}: got {actual!r}, expected {expected!r} within {tol}")


FAILURES = [0]  # tests failed so far in this process (a server keeps its log then)


def run_all(tests):
    """Runs test functions, prints one line each and a summary line CTest and
    CI can read; returns the number that failed."""
    passed = failed = 0
    for t in tests:
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    FAILURES[0] += failed
    return failed


def main(tests):
    """Runs test functions and exits non-zero when any failed."""
    sys.exit(1 if run_all(tests) else 0)
