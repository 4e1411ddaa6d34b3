"""The cluster of deploy/cluster broken under a mixed load through HAProxy:
the primary PostgreSQL killed (-9), then one onemap server killed (-9),
then a replica stopped. Checked: writes work again within 30 s of the
kill, reads never stop for more than 5 s, no acknowledged write is lost,
no 5xx but 503 during the switch, no onemap crash, the servers still see
each other's writes (tiles) on the new primary, the old primary comes back
as a replica. Measured and printed: how long until writes succeed again,
the longest time without a successful read, requests per second. Needs
patroni, etcd and haproxy (skipped otherwise)."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from cluster import Cluster, Load, request, skip_unless_available  # noqa: E402
from harness import check, eq, main  # noqa: E402
from mvt_decode import decode  # noqa: E402

skip_unless_available()

WRITES_BACK = 30  # seconds from the kill until a write succeeds again
READ_GAP = 5      # the longest time reads may get no answer
TILE = "/collections/parcels/tiles/WebMercatorQuad/16/27218/54324"  # holds parcel 71


def primary_killed(c):
    """kill -9 of the leader's postmaster, under load."""
    leader = c.leader()
    check(leader, "a leader before the kill")
    pid = c.postmaster_pid(leader)
    with Load(c) as load:
        time.sleep(3)
        check(not load.failed(), f"failures before the kill: {load.failed()[:5]}")
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        while time.monotonic() - t_kill < WRITES_BACK and load.first_ok_after("write", t_kill) is None:
            time.sleep(0.2)
        # a little longer, so that the switch is over and writes run again
        time.sleep(4)
        load.stop()
    new_leader = c.leader()
    t_write = load.first_ok_after("write", t_kill)
    gap_items = load.longest_gap(("items",), t_kill - 1, load.t_end)
    gap_tiles = load.longest_gap(("tile",), t_kill - 1, load.t_end)
    n503 = sum(1 for a in load.between(t_kill) if a.status == 503)
    # 503s a second after writes work again: a request that met a
    # connection of onemap's which the old primary had closed while it was
    # idle would (onemap makes it again before use)
    late503 = [a for a in load.between(t_kill + (t_write or 0) + 1) if a.status == 503]
    print(f"  primary {leader} killed: first successful write after "
          f"{t_write if t_write is None else round(t_write, 2)} s, new leader {new_leader}; "
          f"longest read gap: items by bbox {gap_items:.2f} s, tiles {gap_tiles:.2f} s; "
          f"{n503} answers 503, {len(late503)} of them a second after writes were back; "
          f"{load.rate():.0f} requests/s; reads: {load.read_from()}", flush=True)
    check(not late503, f"503s after writes were back: {late503[:10]}")
    # nothing but 200, 412 (a write whose version moved) and 503 (no
    # database for the moment) during the switch: no other 5xx, no
    # connection dropped by onemap or HAProxy
    others = [a for a in load.answers if a.status not in (200, 412, 503)]
    check(not others, f"answers other than 200, 412, 503: {others[:10]}")
    for a in load.answers:
        if a.status == 503:
            check(a.body.startswith(b"{") and b"503" in a.body, f"503 as JSON: {a}")
            check(a.retry_after, f"503 with Retry-After: {a}")
    check(t_write is not None and t_write <= WRITES_BACK,
          f"writes succeed again within {WRITES_BACK} s of the kill: {t_write}")
    check(new_leader and new_leader != leader, f"a new leader: {new_leader}")
    for i in range(1, c.servers + 1):
        check(c.pid(f"onemap{i}"), f"onemap{i} still runs after the failover")
    c.check_onemap_logs()
    n = load.check_acknowledged_kept()
    print(f"  {n} writes acknowledged, every one in its parcel's history", flush=True)
    check(max(gap_items, gap_tiles) <= READ_GAP,
          f"reads stopped for {max(gap_items, gap_tiles):.2f} s (at most {READ_GAP})")
    return leader, t_kill


def tiles_follow_writes(c):
    """After the failover each server still hears of the other's writes
    (LISTEN on the new primary): a tile each has cached is not served stale
    after a write through the other, which is read with the write's position
    (so that a replica which has not replayed it yet is not read from)."""
    ports = [int(c.facts[f"ONEMAP{i}_PORT"]) for i in (1, 2)]
    seen = {}  # the last write's position, for the reads that follow it
    for n, (via, other) in enumerate((ports, ports[::-1])):
        for p in ports:
            eq(request(p, "GET", TILE)[0], 200, "tile cached")
        status, h, _ = request(via, "GET", "/collections/parcels/items/71", headers=seen)
        value = f"after the failover {n}"
        status, h, body = request(via, "PATCH", "/collections/parcels/items/71",
                                  json.dumps({"properties": {"owner": value}}),
                                  {"Authorization": "Bearer " + c.token,
                                   "Content-Type": "application/merge-patch+json",
                                   "If-Match": h["etag"]})
        eq(status, 200, f"PATCH: {body[:200]!r}")
        check(h.get("onemap-position"), "the write's answer carries its position")
        seen = {"Onemap-Position": h["onemap-position"]}
        status, _, body = request(other, "GET", TILE, headers=seen)
        owners = [f["tags"].get("owner") for lay in decode(body).values()
                  for f in lay["features"] if str(f["tags"].get("code", "")).endswith("00071")]
        eq(owners, [value], "parcel 71 in the other server's tile after the write")


def old_primary_rejoins(c, old, t_kill):
    """The killed node comes back as a replica of the new leader (pg_rewind)
    and the cluster is whole again."""
    c.wait(f"{old} streaming again", lambda: old in c.replicas_streaming(), 90)
    print(f"  {old} streams from the new leader {time.monotonic() - t_kill:.1f} s after the kill",
          flush=True)
    c.wait("a synchronous standby", lambda: "sync" in c.replicas_streaming().values(), 30)


def onemap_killed(c):
    """kill -9 of one onemap server: HAProxy sends everything to the other;
    only what was in flight on the killed one may fail."""
    with Load(c) as load:
        time.sleep(2)
        t_kill = time.monotonic()
        c.kill("onemap1")
        time.sleep(5)
        load.stop()
    failed = load.failed(t_kill - 0.5)
    threads = len(load.threads)
    print(f"  onemap1 killed: {len(failed)} failed requests "
          f"({', '.join(f'{a.kind} {a.status}' for a in failed) or 'none'}); "
          f"{load.rate():.0f} requests/s", flush=True)
    check(not load.failed(None, t_kill - 0.5), "no failure before the kill")
    # at most one request in flight per client thread on the killed server
    check(len(failed) <= threads, f"failed requests beyond those in flight: {failed}")
    check(all(a.t0 < t_kill + 0.05 for a in failed),
          f"requests sent after the kill failed: {[a for a in failed if a.t0 >= t_kill + 0.05]}")
    check(c.pid("onemap2"), "onemap2 still runs")
    after = load.between(t_kill + 0.5)
    check(after and all(a.ok() for a in after), "all answered after the kill")
    load.check_acknowledged_kept()


def replica_stopped(c):
    """A replica's Patroni stopped (it stops its PostgreSQL): the
    synchronous one, the harder case, since commits wait for it until the
    leader's Patroni names another. Reads continue with no error."""
    sync = [n for n, s in c.replicas_streaming().items() if s == "sync"]
    check(sync, "a synchronous standby")
    with Load(c) as load:
        time.sleep(2)
        t_stop = time.monotonic()
        c.kill(sync[0], signal.SIGTERM)
        c.wait(f"{sync[0]}'s Patroni gone", lambda: not c.pid(sync[0]), 60)
        time.sleep(3)
        load.stop()
    gap_w = load.longest_gap(("write",), t_stop, load.t_end)
    gap_r = load.longest_gap(("items", "tile"), t_stop, load.t_end)
    print(f"  synchronous standby {sync[0]} stopped: reads failed {len(load.failed(kinds=('items', 'tile')))}, "
          f"longest read gap {gap_r:.2f} s, writes failed {len(load.failed(kinds=('write',)))}, "
          f"longest write gap {gap_w:.2f} s; {load.rate():.0f} requests/s; "
          f"reads: {load.read_from()}", flush=True)
    check(not load.failed(kinds=("items", "tile")),
          f"failed reads: {load.failed(kinds=('items', 'tile'))[:10]}")
    check(not load.failed(kinds=("write",)), f"failed writes: {load.failed(kinds=('write',))[:10]}")
    load.check_acknowledged_kept()


def test_failover():
    with Cluster() as c:
        print(f"  cluster up in {c.up_seconds:.1f} s", flush=True)
        old, t_kill = primary_killed(c)
        tiles_follow_writes(c)
        old_primary_rejoins(c, old, t_kill)
        onemap_killed(c)
        replica_stopped(c)
        c.check_onemap_logs()


if __name__ == "__main__":
    main([test_failover])
