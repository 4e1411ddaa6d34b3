"""Benchmark (prints figures, passes or fails nothing): the time of a
100-feature bbox query on parcels, measured from the client over one
keep-alive connection, requests one after another.

    python3 tests/api/bench_bbox.py --demo             the demo database
    python3 tests/api/bench_bbox.py --synthetic 100000 N square parcels built here
    python3 tests/api/bench_bbox.py --db FILE          an existing database

Each request asks limit=100 with a bbox around a random (seeded) parcel,
grown until it matches at least 100 parcels: every answer holds 100."""
import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import harness  # noqa: E402


def synthetic(n):
    side = int(n ** 0.5 + 0.999)
    d = 0.0003
    feats = []
    for k in range(n):
        x = round(118.35 + (k % side) * d, 9)
        y = round(29.10 + (k // side) * d, 9)
        feats.append(fx.feature(fx.square(x, y, d * 0.98), {
            "code": f"S{k:07d}", "dlbm": fx.DLBM[k % 4][0], "qsxz": "集体"}))
    return fx.collection(feats)


def matched(c, b):
    q = "/collections/parcels/items?limit=1&bbox=" + ",".join(f"{v:.9f}" for v in b)
    r = c.get(q)
    assert r.status == 200, r.body[:200]
    return r.json()["numberMatched"]


def size_box(c, ext, want=120):
    """Half-width (degrees) of a square box at the extent's centre matching ~want."""
    cx, cy = (ext[0] + ext[2]) / 2, (ext[1] + ext[3]) / 2
    lo, hi = 1e-5, max(ext[2] - ext[0], ext[3] - ext[1])
    for _ in range(30):
        mid = (lo + hi) / 2
        if matched(c, (cx - mid, cy - mid, cx + mid, cy + mid)) < want:
            lo = mid
        else:
            hi = mid
    return hi


def boxes_of_100(c, n, ext, seed):
    """n boxes, each around a random parcel and grown until it matches at
    least 100 parcels (so that limit=100 returns 100)."""
    total = c.get("/collections/parcels/items?limit=1").json()["numberMatched"]
    h0 = size_box(c, ext)
    rnd = random.Random(seed)
    boxes = []
    while len(boxes) < n:
        f = c.get(f"/collections/parcels/items?limit=1&properties=code&offset="
                  f"{rnd.randrange(total)}").json()["features"][0]
        x, y = f["geometry"]["coordinates"][0][0]
        h = h0 / 2
        while matched(c, (x - h, y - h, x + h, y + h)) < 100:
            h *= 1.25
        boxes.append((x - h, y - h, x + h, y + h))
    return boxes


def bench(server, n_requests, seed):
    c = server.client()
    ext = server.get_json("/collections/parcels")["extent"]["spatial"]["bbox"][0]
    boxes = boxes_of_100(c, n_requests, ext, seed)
    for b in boxes[:10]:  # warm-up: page cache, worker connections
        c.get("/collections/parcels/items?limit=100&bbox=" + ",".join(f"{v:.9f}" for v in b))
    load = open("/proc/loadavg").read().split()[0]
    times, returned, size = [], [], []
    for b in boxes:
        path = "/collections/parcels/items?limit=100&bbox=" + ",".join(f"{v:.9f}" for v in b)
        t0 = time.perf_counter()
        r = c.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200, r.body[:200]
        returned.append(r.json()["numberReturned"])
        size.append(len(r.body))
    c.close()
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"  machine load average {load}; features returned: mean "
          f"{statistics.mean(returned):.1f} (min {min(returned)}), "
          f"body {statistics.mean(size) / 1024:.0f} KiB")
    print(f"  {n_requests} sequential keep-alive requests, client side: mean "
          f"{statistics.mean(times):.2f} ms, p50 {p(0.50):.2f} ms, p90 {p(0.90):.2f} ms, "
          f"p99 {p(0.99):.2f} ms, max {times[-1]:.2f} ms")
    # the server's own time per request (its log: parse to queued response)
    logged = [float(l.rsplit(" ", 1)[1][:-2]) for l in server.logtext().splitlines()
              if " GET /collections/parcels/items " in l and l.endswith("ms")][-n_requests:]
    logged.sort()
    q = lambda f: logged[min(len(logged) - 1, int(f * len(logged)))]
    print(f"  the same, server side (request log): mean {statistics.mean(logged):.2f} ms, "
          f"p50 {q(0.50):.2f} ms, p99 {q(0.99):.2f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--demo", action="store_true")
    g.add_argument("--synthetic", type=int, metavar="N")
    g.add_argument("--db")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.demo:
        label, server = "demo", lambda: harness.Server(demo=True, threads=a.threads)
    elif a.synthetic:
        t0 = time.time()
        data = synthetic(a.synthetic)
        label = f"{a.synthetic} synthetic parcels"
        server = lambda: harness.Server(demo=False, threads=a.threads, imports=[("parcels", data)])
    else:
        label, server = a.db, lambda: harness.Server(db=a.db, threads=a.threads)
    t0 = time.time()
    with server() as s:
        n = s.get_json("/collections/parcels/items?limit=1")["numberMatched"]
        print(f"{label}: {n} parcels (set-up {time.time() - t0:.1f} s), server threads {a.threads}")
        bench(s, a.requests, a.seed)


if __name__ == "__main__":
    main()
