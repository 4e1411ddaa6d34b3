"""Black-box test harness: runs the real onemap binary on a free port
against a temporary database and talks HTTP to it. Standard library only."""
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

    def __init__(self, db=None, demo=True, threads=2, args=()):
        self.tmp = tempfile.mkdtemp(prefix="onemap-test-")
        self.db = db or os.path.join(self.tmp, "test.db")
        if db is None:
            if demo:
                run("demo", self.db)
            else:
                run("init", self.db)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.tmp, "server.log"), "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}",
             "--threads", str(threads), *args], stdout=self.log, stderr=self.log)
        for _ in range(int(200 * SLOW)):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError("server exited: " + self.logtext())
                time.sleep(0.05)

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(os.path.join(self.tmp, "server.log"), errors="replace") as f:
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
        """Stops the server with SIGTERM (a graceful shutdown) and checks that
        it exited cleanly: status 0 (a leak or a sanitizer report makes it
        non-zero) or killed by SIGKILL (only tests send that)."""
        if self.log.closed:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                raise AssertionError("server did not stop on SIGTERM: " + self.logtext()[-3000:])
        self.log.close()
        text = self.logtext()
        check_faults(text, "server")
        if self.proc.returncode not in (0, -signal.SIGKILL):
            raise AssertionError(f"server exited with {self.proc.returncode}: {text[-3000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        clean = exc[0] is None or (exc[0] is SystemExit and not exc[1].code)
        try:
            self.stop()
        except AssertionError:
            sys.stderr.write(f"server log kept in {self.tmp}\n")
            if clean:
                raise  # a fault found at shutdown fails the run
            return False
        if clean:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            sys.stderr.write(f"server log kept in {self.tmp}\n")
        return False


def main(tests):
    """Runs test functions; prints a summary line CTest and CI can read."""
    passed = failed = 0
    for t in tests:
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
