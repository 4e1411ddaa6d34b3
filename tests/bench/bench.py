#!/usr/bin/env python3
"""bench.py: the helpers of tests/bench/run (python3 stdlib only).

Owns the arithmetic and the bookkeeping of the benchmark: free ports, box
sizes in degrees, tile ranges, reading wrk's and pgbench's figures into one
results file, fetching tiles for nginx, the equal-results check and the final
table. It starts no server and installs nothing: the driver does that.

  bench.py port
  bench.py box METRES MINX MINY MAXX MAXY        -> "bw bh" in degrees
  bench.py tiles Z MINX MINY MAXX MAXY           -> "x0 x1 y0 y1"
  bench.py extent URL                            -> "minx miny maxx maxy" of onemap's parcels
  bench.py inset FRACTION MINX MINY MAXX MAXY    -> "x0,y0,x1,y1": the extent less FRACTION a side
  bench.py wrk RESULTS WORKLOAD SIDE CONNS OUTFILE CPU-SECONDS "RUN WAIT" "RUN WAIT" [KEY=VALUE...]
  bench.py heavy URL OUTFILE [COUNT]             (one request at a time, until killed)
  bench.py pgbench RESULTS WORKLOAD CONNS OUTFILE LOGPREFIX CPUFILE WARMUP DURATION
  bench.py sample-cpu POSTMASTER-PID OUTFILE
  bench.py relay PORT TARGET-PORT DELAY-MS       (a TCP relay holding what goes to TARGET)
  bench.py record RESULTS WORKLOAD SIDE TEXT [CONNS [only=1]]   (a figure that is not a rate)
  bench.py heavy-alone RESULTS WORKLOAD OUTFILE  (heavy's requests run alone: an onemap-only row)
  bench.py fetch-tiles URL MINX MINY MAXX MAXY COUNT WWWDIR LISTFILE
  bench.py check URL PSQLCMD... -- ENV...        (see check())
  bench.py table RESULTS
"""
import glob
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

# GRS80 (CGCS2000) ellipsoid: metres per degree at a latitude
A = 6378137.0
F = 1 / 298.257222101
E2 = F * (2 - F)


def metres_per_degree(lat):
    p = math.radians(lat)
    w = math.sqrt(1 - E2 * math.sin(p) ** 2)
    n = A / w                      # prime vertical radius
    m = A * (1 - E2) / w ** 3      # meridional radius
    return n * math.cos(p) * math.pi / 180, m * math.pi / 180


def box_degrees(metres, ext):
    """bw, bh: the degrees of a metres x metres square at the extent's centre."""
    mx, my = metres_per_degree((ext[1] + ext[3]) / 2)
    return metres / mx, metres / my


def tile_xy(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_range(z, ext):
    x0, y1 = tile_xy(ext[0], ext[1], z)
    x1, y0 = tile_xy(ext[2], ext[3], z)
    return x0, x1, y0, y1


def cmd_port(_):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_box(a):
    bw, bh = box_degrees(float(a[0]), [float(v) for v in a[1:5]])
    print(f"{bw:.9f} {bh:.9f}")


def cmd_tiles(a):
    print(*tile_range(int(a[0]), [float(v) for v in a[1:5]]))


def cmd_extent(a):
    """The parcels' extent as onemap reports it (when PostGIS is not loaded)."""
    status, body = http_get(a[0] + "/collections/parcels")
    if status != 200:
        sys.exit(f"GET /collections/parcels: {status}")
    print(*json.loads(body)["extent"]["spatial"]["bbox"][0][:4])


def cmd_inset(a):
    """A box over most of the extent, FRACTION of its width and height in from
    each edge: large, yet its edge cuts parcels (clipping does work)."""
    f, (x0, y0, x1, y1) = float(a[0]), [float(v) for v in a[1:5]]
    dx, dy = (x1 - x0) * f, (y1 - y0) * f
    print(f"{x0 + dx:.9f},{y0 + dy:.9f},{x1 - dx:.9f},{y1 - dy:.9f}")


def append(results, rec):
    with open(results, "a") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def cmd_wrk(a):
    """Records a wrk run. Optional KEY=VALUE: only=1 (a row of the onemap-only
    table); window=T0,T1 (when wrk ran) with heavy=FILE,... (the heavy loops
    beside it: those that ended in the window); cmp=WORKLOAD and cmplabel=TEXT
    (this row's rate and p99 over those of WORKLOAD's row at the same conns)."""
    results, workload, side, conns, outfile, cpu, sched0, sched1 = a[:8]
    extra = dict(v.split("=", 1) for v in a[8:])
    text = open(outfile).read()
    m = re.search(r"WRK requests=(\d+) duration_us=(\d+) bytes=(\d+) p50_us=(\d+) "
                  r"p99_us=(\d+) errors=(\d+) status_errors=(\d+)", text)
    rec = {"workload": workload, "conns": int(conns), "side": side}
    if not m:
        rec["error"] = "wrk printed no summary: " + text.strip()[-200:]
    else:
        n, dur, nbytes, p50, p99, errs, serrs = (int(v) for v in m.groups())
        rec.update(rate=n / (dur / 1e6), p50=p50 / 1000, p99=p99 / 1000,
                   errors=errs + serrs, bytes=nbytes / max(n, 1),
                   cpu_ms=float(cpu) * 1000 / max(n, 1),
                   waited=waited_share(*map(float, sched0.split() + sched1.split())))
        if "dbcpu" in extra:
            rec["db_cpu_ms"] = float(extra["dbcpu"]) * 1000 / max(n, 1)
        mx = re.search(r"max_us=(\d+)", text)
        if mx:
            rec["max"] = int(mx.group(1)) / 1000
    if extra.get("only") == "1":
        rec["only"] = True
    for k in ("cmp", "cmplabel"):
        if k in extra:
            rec[k] = extra[k]
    if "heavy" in extra:
        rec["heavy"] = heavy_in_window(extra["heavy"].split(","),
                                       *map(float, extra["window"].split(",")))
    append(results, rec)


def heavy_in_window(files, w0, w1):
    """The heavy requests (bench.py heavy's lines) that ended in [w0, w1]:
    their count, how many failed, their median time in seconds, and how many
    loops there were."""
    done = []
    for path in files:
        try:
            for line in open(path):
                p = line.split()
                if len(p) == 3 and w0 <= float(p[1]) <= w1:
                    done.append((float(p[1]) - float(p[0]), p[2]))
        except OSError:
            pass
    times = sorted(t for t, _ in done)
    return {"loops": len(files), "done": len(done),
            "failed": sum(1 for _, st in done if st != "200"),
            "median": percentile(times, 50) if times else float("nan")}


def cmd_heavy(a):
    """A sequential client: GET URL over one keep-alive connection, one
    request at a time, a line "start end status" (epoch seconds) per request
    to OUTFILE; COUNT requests, or until killed."""
    import http.client
    import time
    url, out = urllib.parse.urlsplit(a[0]), a[1]
    count = int(a[2]) if len(a) > 2 else -1
    target = url.path + ("?" + url.query if url.query else "")
    conn = None
    with open(out, "w", buffering=1) as f:
        while count != 0:
            t0 = time.time()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
                conn.request("GET", target)
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException):
                conn, status = None, "error"
                time.sleep(0.1)
            f.write(f"{t0:.6f} {time.time():.6f} {status}\n")
            count -= 1


def waited_share(run0, wait0, run1, wait1):
    """The share of its runnable time that a server spent waiting for a CPU."""
    run, wait = run1 - run0, wait1 - wait0
    return wait / (run + wait) if run + wait > 0 else float("nan")


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, math.ceil(p / 100 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def read_pgbench_log(prefix):
    """[(client, end time s, latency us)] from pgbench's per-transaction logs."""
    txs = []
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 6:
                    txs.append((int(p[0]), int(p[4]) + int(p[5]) / 1e6, int(p[2])))
    return txs


def steady_window(txs, warmup):
    """The measured window: from the moment every connection has finished its
    first transaction (a new backend's first query pays one-off set-up, e.g.
    PROJ's transformation look-up, 0.3 s of CPU for EPSG:4490 -> 3857, that a
    pooled web service pays once) and at least `warmup` seconds into the run,
    to the last transaction's end."""
    first = {}
    for c, t, _ in txs:
        first[c] = min(first.get(c, t), t)
    t0 = min(t - l / 1e6 for _, t, l in txs)
    return max(max(first.values()), t0 + warmup), max(t for _, t, _ in txs), t0


def value_at(samples, t, i):
    """Column i at time t, interpolated from samples (time first)."""
    for a, b in zip(samples, samples[1:]):
        if a[0] <= t <= b[0]:
            return a[i] + (b[i] - a[i]) * ((t - a[0]) / (b[0] - a[0]) if b[0] > a[0] else 0)
    return samples[0][i] if t < samples[0][0] else samples[-1][i]


def cmd_pgbench(a):
    """Records a pgbench run over its steady window; exits 3 and prints the
    -T needed when the window is shorter than 80 % of the wanted duration."""
    results, workload, conns, outfile, prefix, cpufile, warmup, duration = a
    warmup, duration = float(warmup), float(duration)
    text = open(outfile).read()
    rec = {"workload": workload, "conns": int(conns), "side": "PostGIS"}
    txs = read_pgbench_log(prefix)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    if "aborted" in text or not txs:
        rec["error"] = "pgbench: " + " ".join(
            l for l in text.splitlines() if "error" in l.lower())[-300:]
        append(results, rec)
        return
    w0, w1, t0 = steady_window(txs, warmup)
    if w1 - w0 < 0.8 * duration:
        # connections still busy with their first query count as not warm
        warm = (w0 - t0) * int(conns) / len({c for c, _, _ in txs})
        print(math.ceil(max(warm, warmup) * 1.5 + duration + 1))
        sys.exit(3)
    lat = sorted(l for _, t, l in txs if t > w0)
    try:
        samples = [tuple(map(float, l.split())) for l in open(cpufile) if l.strip()]
    except OSError:
        samples = []
    cpu = waited = float("nan")
    if len(samples) > 1 and samples[0][0] <= w0:
        cpu = value_at(samples, w1, 1) - value_at(samples, w0, 1)
        # the backends live through the window: their schedstat is summed
        waited = waited_share(value_at(samples, w0, 2), value_at(samples, w0, 3),
                              value_at(samples, w1, 2), value_at(samples, w1, 3))
    rec.update(rate=len(lat) / (w1 - w0), p50=percentile(lat, 50) / 1000,
               p99=percentile(lat, 99) / 1000,
               errors=int(failed.group(1)) if failed else 0,
               cpu_ms=cpu * 1000 / len(lat), waited=waited, window=round(w1 - w0, 1),
               skipped=round(w0 - t0, 1))
    append(results, rec)


def cmd_sample_cpu(a):
    """Writes "time cpu-seconds run wait" every 0.2 s for a PostgreSQL
    postmaster: the CPU of itself, its exited children and its running
    children (the backends); and the running children's time on a CPU and
    waiting for one (schedstat), until killed."""
    pid, out = int(a[0]), a[1]
    hz = os.sysconf("SC_CLK_TCK")

    def ticks(p, children):
        with open(f"/proc/{p}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        # fields after the name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
        return int(v[11]) + int(v[12]) + (int(v[13]) + int(v[14]) if children else 0)

    import time
    with open(out, "w", buffering=1) as f:
        while True:
            t = time.time()
            total = ticks(pid, True)
            try:
                kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
            except OSError:
                kids = []
            run = wait = 0
            for k in kids:
                try:
                    total += ticks(int(k), False)
                    with open(f"/proc/{k}/schedstat") as ss:
                        r, w = ss.read().split()[:2]
                    run, wait = run + int(r), wait + int(w)
                except (OSError, IndexError, ValueError):
                    pass
            f.write(f"{t:.3f} {total / hz:.3f} {run / 1e9:.3f} {wait / 1e9:.3f}\n")
            time.sleep(0.2)


def cmd_relay(a):
    """A TCP relay from 127.0.0.1:PORT to TARGET-PORT on loopback that holds
    everything sent towards the target for DELAY-MS milliseconds (the answers
    come back at once): one round trip through it costs DELAY-MS more, as a
    database that far away would. Writes "ready" to stdout once listening; runs
    until killed. (The benchmark's stand-in for tc netem where the kernel has
    no netem: timed with a monotonic clock and nanosleep, not the event loop.)"""
    import collections
    import threading
    import time
    port, target, delay = int(a[0]), int(a[1]), float(a[2]) / 1000

    def copy(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def delayed(src, dst):
        q, cv = collections.deque(), threading.Condition()

        def send():
            while True:
                with cv:
                    while not q:
                        cv.wait()
                    due, data = q.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if data is None:
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        threading.Thread(target=send, daemon=True).start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with cv:
                q.append((time.monotonic() + delay, data or None))
                cv.notify()
            if not data:
                break

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(256)
    print("ready", flush=True)
    while True:
        c, _ = srv.accept()
        up = socket.create_connection(("127.0.0.1", target))
        for s in (c, up):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=delayed, args=(c, up), daemon=True).start()
        threading.Thread(target=copy, args=(up, c), daemon=True).start()


def cmd_record(a):
    results, workload, side, text = a[:4]
    rec = {"workload": workload, "side": side, "text": text}
    if len(a) > 4 and a[4]:
        rec["conns"] = int(a[4])
    if "only=1" in a[5:]:
        rec["only"] = True
    append(results, rec)


def cmd_heavy_alone(a):
    results, workload, path = a
    h = heavy_in_window([path], 0, float("inf"))
    times = sorted(float(l.split()[1]) - float(l.split()[0]) for l in open(path) if l.strip())
    text = (f"{h['done']} requests one at a time: median {h['median']:.3f} s, "
            f"max {times[-1]:.3f} s" if times else "no request completed")
    if h["failed"]:
        text += f", {h['failed']} failed"
    append(results, {"workload": workload, "side": "onemap", "text": text, "only": True})


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def cmd_fetch_tiles(a):
    """Fetches COUNT random z14/z15 tiles (seeded) from onemap, writes the
    non-empty ones under WWWDIR/z/y/x.mvt and their paths to LISTFILE."""
    url, ext, count, www, listfile = a[0], [float(v) for v in a[1:5]], int(a[5]), a[6], a[7]
    rng = random.Random(15)
    tiles = set()
    for z in (14, 15):
        x0, x1, y0, y1 = tile_range(z, ext)
        cells = [(z, y, x) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]
        rng.shuffle(cells)
        tiles.update(cells[:count // 2])
    kept = []
    for z, y, x in sorted(tiles):
        status, body = http_get(f"{url}/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}")
        if status != 200 or not body:
            continue
        os.makedirs(f"{www}/{z}/{y}", exist_ok=True)
        with open(f"{www}/{z}/{y}/{x}.mvt", "wb") as f:
            f.write(body)
        kept.append(f"{z}/{y}/{x}")
    with open(listfile, "w") as f:
        f.write("\n".join(kept) + "\n")
    print(len(kept))


# ---- the equal-results check ---------------------------------------------

def sql_of(script, values):
    """The SQL of a pgbench script with its \\set lines dropped and its
    variables replaced by the given values (for psql)."""
    out = []
    for line in open(os.path.join(HERE, script)):
        if line.startswith("\\"):
            continue
        out.append(line)
    sql = "".join(out)
    for k in sorted(values, key=len, reverse=True):
        sql = sql.replace(":" + k, repr(values[k]) if isinstance(values[k], float)
                          else str(values[k]))
    return sql


def psql_json(psql, sql):
    r = subprocess.run(psql + ["-At", "-c", sql], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def close(a, b, rel=1e-4):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-9)


def check_items(url, psql, env, rng, lines, box_m, script, filt):
    bw, bh = box_degrees(box_m, env["ext"])
    ok = True
    for _ in range(5):
        x0 = rng.uniform(env["ext"][0], env["ext"][2] - bw)
        y0 = rng.uniform(env["ext"][1], env["ext"][3] - bh)
        x1, y1 = x0 + bw, y0 + bh
        if filt:
            f = (f"{env['attr']} AND S_INTERSECTS(geometry, POLYGON(({x0!r} {y0!r},{x1!r} {y0!r},"
                 f"{x1!r} {y1!r},{x0!r} {y1!r},{x0!r} {y0!r})))")
            q = "limit=100&filter-lang=cql2-text&filter=" + urllib.parse.quote(f)
        else:
            q = f"bbox={x0!r},{y0!r},{x1!r},{y1!r}&limit=100"
        status, body = http_get(f"{url}/collections/parcels/items?{q}")
        pg = psql_json(psql, sql_of(script, {"x0": x0, "y0": y0, "x1": x1, "y1": y1}))
        if status != 200:
            lines.append(f"  FAIL {script}: onemap status {status}: {body[:200]!r}")
            ok = False
            continue
        om = json.loads(body)
        codes_pg = {f["properties"]["code"] for f in pg["features"]}
        codes_om = {f["properties"]["code"] for f in om["features"]}
        good = (om["numberMatched"] == pg["numberMatched"]
                and om["numberReturned"] == pg["numberReturned"]
                and (pg["numberMatched"] > 100 or codes_om == codes_pg))
        ok &= good
        lines.append(f"  {'ok  ' if good else 'FAIL'} {'filter' if filt else 'items'} "
                     f"box {x0:.5f},{y0:.5f}: matched {om['numberMatched']} / "
                     f"{pg['numberMatched']}, returned {om['numberReturned']} / "
                     f"{pg['numberReturned']}")
    return ok


def check_stats(url, psql, env, rng, lines):
    bw, bh = box_degrees(1000, env["ext"])
    ok = True
    for _ in range(5):
        x0 = rng.uniform(env["ext"][0], env["ext"][2] - bw)
        y0 = rng.uniform(env["ext"][1], env["ext"][3] - bh)
        x1, y1 = x0 + bw, y0 + bh
        status, body = http_get(f"{url}/collections/parcels/stats?bbox={x0!r},{y0!r},{x1!r},"
                                f"{y1!r}&group_by=dlbm&clip=true")
        pg = psql_json(psql, sql_of("pg_stats.sql", {"x0": x0, "y0": y0, "x1": x1, "y1": y1}))
        if status != 200:
            lines.append(f"  FAIL stats: onemap status {status}: {body[:200]!r}")
            ok = False
            continue
        om = json.loads(body)
        groups_om = {g["key"]: g for g in om["groups"]}
        groups_pg = {g["key"]: g for g in pg["groups"] or []}
        good = (om["total"]["count"] == pg["total"]["count"]
                and close(om["total"]["area_m2"], pg["total"]["area_m2"])
                and groups_om.keys() == groups_pg.keys()
                and all(groups_om[k]["count"] == groups_pg[k]["count"]
                        and close(groups_om[k]["area_m2"], groups_pg[k]["area_m2"])
                        for k in groups_om))
        ok &= good
        rel = (om["total"]["area_m2"] - pg["total"]["area_m2"]) / pg["total"]["area_m2"]
        lines.append(f"  {'ok  ' if good else 'FAIL'} stats box {x0:.5f},{y0:.5f}: count "
                     f"{om['total']['count']} / {pg['total']['count']}, area "
                     f"{om['total']['area_m2']:.1f} / {pg['total']['area_m2']:.1f} m2 "
                     f"({rel * 100:+.5f} %), {len(groups_om)} / {len(groups_pg)} groups")
    return ok


def check_locate(url, psql, env, rng, lines):
    ok = True
    for _ in range(5):
        x = rng.uniform(env["ext"][0], env["ext"][2])
        y = rng.uniform(env["ext"][1], env["ext"][3])
        status, body = http_get(f"{url}/locate?lon={x!r}&lat={y!r}")
        pg = psql_json(psql, sql_of("pg_locate.sql", {"x": x, "y": y}))
        if status != 200:
            lines.append(f"  FAIL locate: onemap status {status}: {body[:200]!r}")
            ok = False
            continue
        ids_om = sorted(json.loads(body)["hits"]["parcels"])
        ids_pg = sorted(pg["hits"]["parcels"])
        codes_om = sorted(json.loads(http_get(f"{url}/collections/parcels/items/{i}")[1])
                          ["properties"]["code"] for i in ids_om)
        codes_pg = sorted(psql_json(psql, "SELECT coalesce(json_agg(code), '[]') FROM parcels "
                                    f"WHERE fid IN ({','.join(map(str, ids_pg)) or 'NULL'})"))
        good = codes_om == codes_pg
        ok &= good
        lines.append(f"  {'ok  ' if good else 'FAIL'} locate {x:.5f},{y:.5f}: parcels "
                     f"{codes_om} / {codes_pg}")
    return ok


def cmd_check(a):
    """bench.py check URL EXTENT(4 numbers) ATTR FILTER(0|1) PSQL..."""
    url, ext, attr, filt, psql = a[0], [float(v) for v in a[1:5]], a[5], a[6] == "1", a[7:]
    env = {"ext": ext, "attr": attr}
    rng = random.Random(2024)
    lines = []
    ok = check_items(url, psql, env, rng, lines, 300, "pg_items.sql", False)
    if filt:
        ok &= check_items(url, psql, env, rng, lines, 1000, "pg_filter.sql", True)
    ok &= check_stats(url, psql, env, rng, lines)
    ok &= check_locate(url, psql, env, rng, lines)
    print("Equal results (onemap / PostGIS, fixed seeded queries): "
          + ("all equal" if ok else "DIFFERENCES FOUND"))
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


# ---- the table -------------------------------------------------------------

def cell(r):
    if r is None:
        return "n/a"
    if "text" in r:
        return r["text"]
    if "error" in r:
        return "error"
    s = (f"{r['rate']:6.0f}/s p50 {r['p50']:6.1f} p99 {r['p99']:6.1f} ms, "
         f"CPU {r['cpu_ms']:6.2f} ms")
    if math.isnan(r["cpu_ms"]):
        s = s.replace("CPU    nan ms", "CPU     n/a")
    if not math.isnan(r.get("waited", float("nan"))):
        s += f", waited {r['waited'] * 100:3.0f} %"
    if r.get("errors"):
        s += f" ({r['errors']} errors)"
    return s


def ratios(om, other):
    """(rate ratio, CPU ratio) as text; above 1: onemap faster / cheaper."""
    if not om or not other:
        return "", ""
    if "rate" in om and "rate" in other and other["rate"] > 0:
        cpu = ""
        if om.get("cpu_ms", 0) > 0 and other.get("cpu_ms", 0) > 0 and \
                not math.isnan(om["cpu_ms"] + other["cpu_ms"]):
            cpu = f"{other['cpu_ms'] / om['cpu_ms']:.2f}x"
        return f"{om['rate'] / other['rate']:.2f}x", cpu
    if "seconds" in om and "seconds" in other and om["seconds"] > 0:
        return f"{other['seconds'] / om['seconds']:.2f}x", ""
    return "", ""


def print_rows(out):
    widths = [max(len(row[i]) for row in out) for i in range(len(out[0]))]
    for i, row in enumerate(out):
        print(" | ".join(v.ljust(widths[j]) for j, v in enumerate(row)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def only_table(recs):
    """The onemap-only rows (scheduling and metadata): one row per run."""
    by_key = {(r["workload"], r.get("conns")): r for r in recs}
    out = [("workload (onemap only)", "requests/s", "p50 ms", "p99 ms", "max ms", "CPU ms",
            "waited", "notes")]
    notes = []
    for r in recs:
        name = r["workload"] + (f", c={r['conns']}" if r.get("conns") else "")
        if "rate" not in r:
            out.append((name, "", "", "", "", "", "", r.get("text", "error")))
            if "error" in r:
                notes.append(f"{name}: {r['error']}")
            continue
        remarks = []
        base = by_key.get((r.get("cmp"), r.get("conns")))
        if base and "rate" in base and base["rate"] > 0 and base["p99"] > 0:
            remarks.append(f"{r.get('cmplabel', 'vs ' + r['cmp'])}: rate "
                           f"{r['rate'] / base['rate']:.2f}x, p50 {r['p50'] - base['p50']:+.2f} "
                           f"ms, p99 {r['p99'] / base['p99']:.2f}x")
        h = r.get("heavy")
        if h:
            remarks.append(f"heavy ({h['loops']} loops): {h['done']} done in the window"
                           + (f", median {h['median']:.3f} s" if h["done"] else "")
                           + (f", {h['failed']} failed" if h["failed"] else ""))
        if r.get("errors"):
            remarks.append(f"{r['errors']} errors")
        # beside heavy requests the server's CPU is mostly theirs
        cpu = "" if h or math.isnan(r["cpu_ms"]) else f"{r['cpu_ms']:.3f}"
        waited = "" if math.isnan(r.get("waited", float("nan"))) else f"{r['waited'] * 100:.0f} %"
        out.append((name, f"{r['rate']:.0f}", f"{r['p50']:.2f}", f"{r['p99']:.2f}",
                    f"{r['max']:.1f}" if "max" in r else "", cpu, waited, "; ".join(remarks)))
    print_rows(out)
    print("p50/p99/max: per request (wrk's histogram); CPU: onemap's CPU time per request "
          "(not shown beside\nheavy requests: it is mostly theirs); waited: the share of "
          "onemap's runnable time spent waiting for a CPU.")
    for n in notes:
        print("note:", n)


def cmd_table(a):
    allrecs = [json.loads(l) for l in open(a[0]) if l.strip()]
    recs = [r for r in allrecs if not r.get("only")]
    only = [r for r in allrecs if r.get("only")]
    rows, seen = [], {}
    for r in recs:
        key = (r["workload"], r.get("conns"))
        if key not in seen:
            seen[key] = {}
            rows.append(key)
        seen[key][r["side"]] = r
    out = [("workload", "onemap", "PostGIS (or nginx)", "rate ratio", "CPU ratio")]
    notes = []
    for key in rows:
        sides = seen[key]
        om = sides.get("onemap")
        other = sides.get("PostGIS") or sides.get("nginx")
        name = key[0] + (f", c={key[1]}" if key[1] else "")
        if "nginx" in sides:
            name += ", vs nginx"
        out.append((name, cell(om), cell(other)) + ratios(om, other))
        for r in (om, other):
            if r and "error" in r:
                notes.append(f"{name} {r['side']}: {r['error']}")
    if len(out) > 1:
        print_table(out, notes)
    pg_table(rows, seen)
    if only:
        if len(out) > 1:
            print()
        only_table(only)


def pg_table(rows, seen):
    """onemap on PostgreSQL beside PostGIS answering the same queries itself,
    with the database's CPU per request: how many onemap servers (cores) one
    database core feeds."""
    out = [("workload", "onemap on PostgreSQL", "DB CPU ms", "PostGIS", "rate ratio",
            "onemap cores per DB core")]
    notes = []
    for key in rows:
        sides = seen[key]
        om, other = sides.get("onemap-pg"), sides.get("PostGIS")
        if not om:
            continue
        name = key[0] + (f", c={key[1]}" if key[1] else "")
        db = feeds = ""
        if "db_cpu_ms" in om:
            db = f"{om['db_cpu_ms']:.3f}"
            if om["db_cpu_ms"] > 0 and om.get("cpu_ms", 0) > 0 and not math.isnan(om["cpu_ms"]):
                feeds = f"{om['cpu_ms'] / om['db_cpu_ms']:.1f}"
        out.append((name, cell(om), db, cell(other), ratios(om, other)[0], feeds))
        if "error" in om:
            notes.append(f"{name} onemap on PostgreSQL: {om['error']}")
    if len(out) == 1:
        return
    print()
    print_rows(out)
    print("onemap on PostgreSQL: the same onemap serving from a database on the same cluster as\n"
          "PostGIS's; CPU: its own process; DB CPU: the cluster's processes per request; rate "
          "ratio: its\nrequests/s over PostGIS's; onemap cores per DB core: its CPU per request "
          "over the database's.")
    for n in notes:
        print("note:", n)


def print_table(out, notes):
    print_rows(out)
    print("rate ratio: onemap's requests/s over the other's (for the import: the other's time "
          "over onemap's);\nCPU: server CPU time per request (onemap's process; PostgreSQL's "
          "backends; nginx's workers);\nwaited: the share of the server's runnable time "
          "spent waiting for a CPU (other work on the machine, or the client);\nCPU ratio: the other's CPU per request over onemap's. "
          "Above 1: onemap faster / cheaper.")
    for n in notes:
        print("note:", n)


def cmd_seconds(a):
    results, workload, side, seconds, text = a
    append(results, {"workload": workload, "side": side, "seconds": float(seconds),
                     "text": text})


def cmd_changes(a):
    """changes IN OUT_PREFIX EVERY ROUNDS: every EVERY-th parcel of IN with an
    owner of its own for each round, as imports of changes (the same keys):
    OUT_PREFIX1.geojson ... OUT_PREFIX<ROUNDS>.geojson."""
    src, prefix, every, rounds = a[0], a[1], int(a[2]), int(a[3])
    with open(src) as f:
        feats = json.load(f)["features"][::every]
    owners = [ft["properties"].get("owner", "") for ft in feats]
    for rnd in range(1, rounds + 1):
        for ft, owner in zip(feats, owners):
            ft["properties"]["owner"] = f"{owner} {rnd}"
        with open(f"{prefix}{rnd}.geojson", "w") as f:
            json.dump({"type": "FeatureCollection", "features": feats}, f, ensure_ascii=False)
    print(len(feats))


COMMANDS = {"port": cmd_port, "changes": cmd_changes, "box": cmd_box, "tiles": cmd_tiles, "wrk": cmd_wrk,
            "pgbench": cmd_pgbench, "record": cmd_record, "seconds": cmd_seconds,
            "sample-cpu": cmd_sample_cpu, "extent": cmd_extent, "inset": cmd_inset,
            "heavy": cmd_heavy, "relay": cmd_relay,
            "heavy-alone": cmd_heavy_alone, "fetch-tiles": cmd_fetch_tiles, "check": cmd_check, "table": cmd_table}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
