"""Both onemap servers of the cluster restarted one after the other under a
mixed load through HAProxy.

test_rolling_restart: as deploy/cluster/rolling-restart does it (HAProxy
stops sending to one, its requests finish, SIGTERM, start again, /health,
back in service): not one request fails.

test_sigterm_alone: SIGTERM without telling HAProxy first. onemap serves on
for its --stop-grace while /health says it is stopping, HAProxy's checks
take it out, then it serves what its listen backlog holds and stops: not
one request fails either.

Needs patroni, etcd and haproxy (skipped otherwise)."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from cluster import DEPLOY, Cluster, Load, skip_unless_available  # noqa: E402
from harness import check, eq, main  # noqa: E402

skip_unless_available()

def restarted_in_service(c, i):
    """HAProxy's checks reached the new onemap{i} twice (rise 2) and it is
    UP (HAProxy may not even have seen it gone)."""
    return (c.log(f"onemap{i}.log").split("--- started again")[-1].count('"path":"/health"') >= 2
            and c.haproxy_status("onemap_http", f"onemap{i}") == "UP")


def start_onemap(c, i):
    """onemap server i started again the way deploy/cluster starts it."""
    with open(os.path.join(c.dir, f"onemap{i}.log"), "a") as f:
        f.write("--- started again\n")
    subprocess.run(["bash", "-c", f'source "{DEPLOY}/lib.sh" && start_onemap {i}'],
                   env=dict(os.environ, DIR=c.dir), check=True)


def check_restarted(c, before):
    for i in (1, 2):
        pid = c.pid(f"onemap{i}")
        check(pid and pid != before[i], f"onemap{i} runs as a new process")
        eq(c.haproxy_status("onemap_http", f"onemap{i}"), "UP", f"onemap{i} in HAProxy")
        log = c.log(f"onemap{i}.log")
        check("onemap: stopped" in log, f"onemap{i} stopped cleanly on SIGTERM")
        check('"method":"PATCH"' in re.split("--- (?:rolling-restart|started again)", log)[-1],
              f"the restarted onemap{i} took writes")
    c.check_onemap_logs()


def test_rolling_restart():
    with Cluster() as c:
        print(f"  cluster up in {c.up_seconds:.1f} s", flush=True)
        before = {i: c.pid(f"onemap{i}") for i in (1, 2)}
        with Load(c, readers=3, tile_readers=1, writers=2) as load:
            time.sleep(2)
            t0 = time.monotonic()
            c.run_script("rolling-restart")
            took = time.monotonic() - t0
            time.sleep(2)
            load.stop()
        failed = load.failed()
        print(f"  rolling restart of 2 servers in {took:.1f} s under load: "
              f"{len(load.answers)} requests ({load.rate():.0f}/s), {len(failed)} failed, "
              f"{len(load.acked)} writes acknowledged", flush=True)
        check(not failed, f"failed requests: {failed[:10]}")
        eq([a for a in load.answers if a.status == 412], [], "no write found its version moved")
        check_restarted(c, before)
        load.check_acknowledged_kept()


def test_sigterm_alone():
    with Cluster() as c:
        print(f"  cluster up in {c.up_seconds:.1f} s", flush=True)
        rounds = 3
        with Load(c, readers=3, tile_readers=1, writers=2) as load:
            time.sleep(2)
            t0 = time.monotonic()
            for _ in range(rounds):
                before = {i: c.pid(f"onemap{i}") for i in (1, 2)}
                for i in (1, 2):
                    c.kill(f"onemap{i}", signal.SIGTERM)
                    c.wait(f"onemap{i} stopped", lambda: not c.pid(f"onemap{i}"), 60)
                    start_onemap(c, i)
                    c.wait(f"HAProxy sending to onemap{i} again",
                           lambda: restarted_in_service(c, i), 30)
            took = time.monotonic() - t0
            time.sleep(2)
            load.stop()
        failed = load.failed()
        print(f"  SIGTERM alone, {rounds} times each server, in {took:.1f} s under load: "
              f"{len(load.answers)} requests ({load.rate():.0f}/s), {len(failed)} failed "
              f"({', '.join(f'{a.kind} {a.status}' for a in failed) or 'none'})", flush=True)
        check_restarted(c, before)
        load.check_acknowledged_kept()
        check(not failed, f"failed requests: {failed[:10]}")


if __name__ == "__main__":
    main([test_rolling_restart, test_sigterm_alone])
