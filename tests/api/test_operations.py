"""Operations: /health, /metrics in the Prometheus text format counted
against the requests this test makes, the JSON access log, security headers,
and a graceful shutdown on SIGTERM that finishes the write in flight."""
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import geo  # noqa: E402
import harness  # noqa: E402
from test_area_queries import X0, Y0, D  # noqa: E402

SRV = None


def metrics():
    """Parses the Prometheus text format: {(name, frozenset(labels)): value}."""
    res = SRV.get("/metrics")
    assert res.status == 200, res.body[:300]
    assert res.header("Content-Type").startswith("text/plain"), res.header("Content-Type")
    out = {}
    types = {}
    for line in res.body.decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+)(\{(.*)\})? (\S+)', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    for (name, _) in out:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or base in types, ("no TYPE line for", name)
    return out


def requests_of(m, route, status, method="GET"):
    return m.get(("onemap_requests_total", frozenset({("method", method), ("route", route),
                                                       ("status", str(status))})), 0)


def test_health():
    res = SRV.get("/health")
    assert res.status == 200 and res.json() == {"status": "ok"}


def test_metrics_count_requests_by_route_and_status():
    before = metrics()
    for _ in range(7):
        assert SRV.get("/collections").status == 200
    for i in range(3):
        assert SRV.get(f"/collections/nope{i}/items").status == 404
    assert SRV.get("/no/such/path").status == 404
    after = metrics()
    assert requests_of(after, "/collections", 200) - requests_of(before, "/collections", 200) == 7
    assert (requests_of(after, "/collections/{}/items", 404) -
            requests_of(before, "/collections/{}/items", 404)) == 3
    assert (after.get(("onemap_requests_total", frozenset({("method", ""), ("route", "unmatched"),
                                                           ("status", "404")})), 0) -
            before.get(("onemap_requests_total", frozenset({("method", ""), ("route", "unmatched"),
                                                            ("status", "404")})), 0)) == 1


def test_metrics_latency_histogram():
    m = metrics()
    buckets = sorted(((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"])), v)
                     for k, v in m.items() if k[0] == "onemap_request_duration_seconds_bucket")
    assert len(buckets) >= 10 and buckets[-1][0] == float("inf")
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets are cumulative"
    total = m[("onemap_request_duration_seconds_count", frozenset())]
    assert counts[-1] == total
    answered = sum(v for k, v in m.items() if k[0] == "onemap_requests_total")
    assert answered == total, (answered, total)
    assert m[("onemap_request_duration_seconds_sum", frozenset())] > 0


def test_metrics_db_size():
    m = metrics()
    if harness.BACKEND == "postgresql":  # no file: the database's own statistics tell its size
        assert not any(k[0] == "onemap_db_size_bytes" for k in m)
        return
    want_db = os.path.getsize(SRV.db)
    want_wal = os.path.getsize(SRV.db + "-wal") if os.path.exists(SRV.db + "-wal") else 0
    assert m[("onemap_db_size_bytes", frozenset({("file", "db")}))] == want_db
    assert abs(m[("onemap_db_size_bytes", frozenset({("file", "wal")}))] - want_wal) <= 1 << 20
    assert m[("onemap_requests_in_flight", frozenset())] >= 1  # this very request


def test_metrics_tile_cache():
    tile = "/collections/parcels/tiles/WebMercatorQuad/14/6826/13580"
    before = metrics()
    first = SRV.get(tile)
    second = SRV.get(tile)
    assert first.status in (200, 204) and second.status == first.status
    after = metrics()

    def n(m, result):
        return m.get(("onemap_tile_cache_requests_total", frozenset({("result", result)})), 0)
    assert n(after, "hit") - n(before, "hit") >= 1 and n(after, "miss") - n(before, "miss") >= 1
    assert after[("onemap_tile_cache_entries", frozenset())] >= 1


def test_access_log_one_json_line_per_request():
    marker = f"/collections/marker{time.time_ns()}"
    SRV.get(marker)
    SRV.get(marker + "?f=json")
    lines = [json.loads(ln) for ln in SRV.logtext().splitlines() if ln.startswith("{")]
    mine = [d for d in lines if d["path"] == marker]
    assert len(mine) == 2, mine
    for d in mine:
        assert d["method"] == "GET" and d["status"] == 404 and d["token"] is None
        assert d["bytes"] > 0 and d["ms"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["time"]), d["time"]


def test_security_headers():
    page = SRV.get("/collections", headers={"Accept": "text/html"})
    assert page.status == 200 and page.header("Content-Type").startswith("text/html")
    csp = page.header("Content-Security-Policy")
    assert csp and "default-src 'self'" in csp and "frame-ancestors 'self'" in csp, csp
    assert "object-src 'none'" in csp and "'unsafe-inline'" not in csp and "*" not in csp
    assert page.header("X-Content-Type-Options") == "nosniff"
    assert page.header("X-Frame-Options") == "SAMEORIGIN"
    assert page.header("Content-Security-Policy").count("default-src") == 1, "one policy"
    data = SRV.get("/collections")
    assert data.header("X-Content-Type-Options") == "nosniff"
    assert data.header("Content-Security-Policy") is None
    err = SRV.get("/collections/nope?f=html")
    assert err.header("X-Content-Type-Options") == "nosniff"


def parcels(n, prefix):
    side = int(n ** 0.5) + 1
    return [geo.feature({"code": f"{prefix}{i:05d}", "dlbm": "0101"},
                        (X0 + (i % side) * D / 4, Y0 + (i // side) * D / 4,
                         X0 + (i % side + 1) * D / 4, Y0 + (i // side + 1) * D / 4)) for i in range(n)]


def db_count(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_sigterm_finishes_the_write_in_flight():
    tmp = tempfile.mkdtemp(prefix="onemap-term-")
    db = os.path.join(tmp, "term.db")
    harness.run("init", db)
    n = 8000
    body = json.dumps({"type": "FeatureCollection", "features": parcels(n, "T")}).encode()
    with harness.Server(db=db) as s:  # how long one import takes here
        tok = s.token("timer", "admin")
        t0 = time.time()
        assert s.request("POST", "/collections/parcels/import?dry_run=true", body=body,
                         headers={"Content-Type": "application/geo+json",
                                  "Authorization": "Bearer " + tok}).status == 200
        full = time.time() - t0
    s = harness.Server(db=db)
    tok = s.token("term", "admin")
    out = {}

    def post():
        out["res"] = s.request("POST", "/collections/parcels/import", body=body,
                               headers={"Content-Type": "application/geo+json", "Authorization": "Bearer " + tok})

    t = threading.Thread(target=post)
    t.start()
    time.sleep(max(0.3, full * 0.4))
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    refused = False
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
    except OSError:
        refused = True
    t.join(timeout=120 * harness.SLOW)
    rc = s.proc.wait(timeout=60 * harness.SLOW)
    log = s.logtext()
    s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()
    assert "res" in out, "the import in flight got no reply: " + log[-2000:]
    assert out["res"].status == 200, out["res"].body[:300]
    assert out["res"].json()["added"] == n
    assert rc == 0, log[-2000:]
    assert refused, "new connections were still taken after SIGTERM"
    assert "SIGTERM" in log and "stopped" in log
    # the acknowledged import is all there after a restart, with its history
    assert db_count(db, "SELECT count(*) FROM parcels") == n
    assert db_count(db, "SELECT count(*) FROM onemap_history h JOIN parcels p ON p.fid = h.fid "
                        "AND p.version = h.version AND h.collection = 'parcels'") == n
    with harness.Server(db=db) as s2:
        assert s2.get("/collections/parcels/items?limit=1").json()["numberMatched"] == n


def test_sigterm_waits_for_a_body_still_arriving():
    """A request whose body is still on its way when SIGTERM comes is in
    flight too: it is read to its end, answered and kept."""
    db = harness.fresh_db("body")
    harness.run("init", db)
    s = harness.Server(db=db)
    tok = s.token("late", "admin")
    body = json.dumps({"type": "FeatureCollection", "features": parcels(50, "L")}).encode()
    head = (f"POST /collections/parcels/import HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/geo+json\r\nAuthorization: Bearer {tok}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", s.port), timeout=30) as c:
        c.sendall(head + body[:len(body) // 2])
        time.sleep(0.3)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        check = s.proc.poll()
        c.sendall(body[len(body) // 2:])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = c.recv(65536)
            if not chunk:
                break
            reply += chunk
    rc = s.proc.wait(timeout=60 * harness.SLOW)
    log = s.logtext()
    s.stop()
    assert check is None, "the server stopped with a request half received: " + log[-2000:]
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["added"] == 50, reply[-300:]
    assert rc == 0, log[-2000:]
    assert "finishing 1 requests" in log, log[-2000:]


def test_sigterm_single_writes():
    """Writes acknowledged before and while SIGTERM arrives are kept."""
    tmp = tempfile.mkdtemp(prefix="onemap-term1-")
    db = os.path.join(tmp, "t1.db")
    harness.run("init", db)
    s = harness.Server(db=db, threads=4)
    tok = s.token("w", "editor")
    acked, lock = [], threading.Lock()
    stop = threading.Event()

    def writer(k):
        i = 0
        while not stop.is_set():
            f = parcels(1, f"W{k}-{i}-")[0]
            x = X0 + 0.01 * k + 0.0001 * (i % 50)
            y = Y0 + 0.0001 * (i // 50)
            f["geometry"]["coordinates"] = [geo.rect_ring(x, y, x + 0.00005, y + 0.00005)]
            try:
                res = s.request("POST", "/collections/parcels/items", body=f,
                                headers={"Content-Type": "application/geo+json", "Authorization": "Bearer " + tok})
            except OSError:
                return
            if res.status == 201:
                with lock:
                    acked.append(f["properties"]["code"])
            i += 1

    ts = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    time.sleep(2 * harness.SLOW)
    s.proc.send_signal(signal.SIGTERM)
    rc = s.proc.wait(timeout=60 * harness.SLOW)
    stop.set()
    for t in ts:
        t.join(timeout=60)
    s.stop()
    assert not s.sanitizer_reports(), s.sanitizer_reports()
    assert rc == 0
    assert len(acked) > 0
    con = sqlite3.connect(db)
    stored = {r[0] for r in con.execute("SELECT code FROM parcels")}
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    missing = [c for c in acked if c not in stored]
    assert not missing, missing[:5]


if __name__ == "__main__":
    tmp = tempfile.mkdtemp(prefix="onemap-ops-")
    with harness.Server(demo=False, threads=2) as SRV:
        harness.main([test_health, test_metrics_count_requests_by_route_and_status,
                      test_metrics_latency_histogram, test_metrics_db_size, test_metrics_tile_cache,
                      test_access_log_one_json_line_per_request, test_security_headers,
                      test_sigterm_finishes_the_write_in_flight,
                      test_sigterm_waits_for_a_body_still_arriving, test_sigterm_single_writes])
