"""Long work shows its progress. On a terminal, `onemap import` (and export,
demo, copy) redraws a progress line on standard error with a rising
percentage and erases it at the end; on a pipe it prints only its report.
The server lets an import's client follow it (GET /imports/{id}, the
progress_id it sent), logs long imports' progress in the access log's JSON
stream and counts imported features in /metrics; a client that leaves
cancels its import and nothing of it is written."""
import fcntl
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time

import harness
from harness import check, eq

TMP = tempfile.mkdtemp(prefix="onemap-progress-")
N = 100000
_FILES = {}


def parcels(seed):
    """N synthetic parcels (the benchmark's generator); seeds share most codes,
    with other geometries: a second seed's import changes what the first added."""
    if seed not in _FILES:
        path = os.path.join(TMP, f"parcels-{seed}.geojson")
        subprocess.run([harness.GEN, "synthetic", "--parcels", str(N), "--seed", str(seed),
                        "--out", path], check=True, capture_output=True)
        _FILES[seed] = path
    return _FILES[seed]


def on_terminal(*args, cols=120):
    """Runs onemap with standard error on a pseudo-terminal (cols wide) and
    standard output on a pipe; returns (exit status, stdout, what the
    terminal showed)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    shown = []

    def read():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer has gone
                break
            if not data:
                break
            shown.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    p = subprocess.Popen([harness.BIN, *args], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=600 * harness.SLOW)
    reader.join(timeout=60)
    os.close(master)
    text = b"".join(shown).decode("utf-8", "replace")
    harness.check_faults(text, f"onemap {' '.join(args)}")
    return p.returncode, out.decode("utf-8", "replace"), text


def progress_lines(text, label):
    """The lines drawn over each other: (percent, the line) in order."""
    lines = []
    for part in re.split(r"[\r\n]", text):
        part = part.replace("\x1b[K", "")
        m = re.match(re.escape(label) + r"\s+(\d+)%\s+(.*)", part)
        if m:
            lines.append((int(m.group(1)), m.group(2)))
    return lines


def new_db(name):
    db = harness.fresh_db(name, TMP)
    harness.run("init", db)
    return db


def test_import_on_a_terminal_shows_a_rising_percentage():
    db = new_db("tty")
    harness.run("import", db, "parcels", parcels(1))  # a second import matches and changes
    rc, out, shown = on_terminal("import", db, "parcels", parcels(2))
    eq(rc, 0, "exit status")
    lines = progress_lines(shown, "import parcels")
    check(len(lines) >= 3, f"progress lines while {N} parcels are compared and written: "
                           f"{shown!r}")
    pcts = [p for p, _ in lines]
    check(all(a <= b for a, b in zip(pcts, pcts[1:])), f"the percentage only rises: {pcts}")
    check(pcts[-1] > pcts[0], f"the percentage rises: {pcts}")
    check(any(re.search(r"\d[\d,]* of 100,000 features", w) for _, w in lines),
          f"features done of the total: {lines}")
    check(any("/s)" in w for _, w in lines), f"a rate: {lines}")
    check(any(re.search(r"\d+ s left|min \d+ s left", w) for _, w in lines),
          f"the time left: {lines}")
    check(all(len(p) <= 119 for p in re.split(r"[\r\n]", shown.replace("\x1b[K", ""))),
          "no line is wider than the terminal")
    # the last thing on the terminal is the erasure: the line is gone
    check(shown.endswith("\r\x1b[K"), f"the progress line is erased at the end: {shown[-200:]!r}")
    check(re.search(r"0 added, \d+ changed|\d+ added, \d+ changed", out), f"the report: {out!r}")
    eq(out.count("\n"), 1, "standard output: the report alone")
    check("%" not in out and "\r" not in out, "no progress on standard output")


def test_import_on_a_pipe_prints_only_the_report():
    db = new_db("pipe")
    p = harness.run("import", db, "parcels", parcels(1))
    eq(p.stderr, "", "standard error on a pipe")
    check(re.fullmatch(r"\S+: 100000 added, 0 changed, 0 unchanged, 0 removed in parcels "
                       r"\(area change [\d.]+ mu\), change \S+\n", p.stdout), p.stdout)
    # --progress forces the line on a pipe too (for a log that wants it)
    p = harness.run("import", parcels(2), "x", "y", check=False)  # wrong order: usage error
    check(p.returncode != 0, "arguments in the wrong order fail")
    p = harness.run("import", db, "parcels", parcels(2), "--progress")
    check("import parcels" in p.stderr and "%" in p.stderr,
          f"--progress: the line on a pipe: {p.stderr[:300]!r}")
    check(p.stderr.endswith("\x1b[K"), "and erased at the end")


def test_quiet_silences_the_line_on_a_terminal():
    db = new_db("quiet")
    rc, out, shown = on_terminal("import", db, "parcels", parcels(1), "--quiet")
    eq(rc, 0, "exit status")
    eq(shown, "", "nothing on the terminal with --quiet")
    check("100000 added" in out, out)


def test_export_and_copy_keep_standard_output_clean():
    """(--progress: the line from the start, however short the work.)"""
    db = new_db("export")
    harness.run("import", db, "parcels", parcels(1))
    rc, out, shown = on_terminal("export", db, "parcels", "--progress")
    eq(rc, 0, "exit status")
    fc = json.loads(out)
    eq(len(fc["features"]), N, "exported features")
    check("%" not in out[:100] and "\x1b" not in out, "no progress in the export")
    lines = progress_lines(shown, "export parcels")
    check(lines, f"the export's progress on the terminal: {shown!r}")
    check(shown.endswith("\r\x1b[K"), "erased at the end")
    if harness.BACKEND == "sqlite":
        dst = os.path.join(TMP, "copy.db")
        rc, out, shown = on_terminal("copy", db, dst, "--progress")
        eq(rc, 0, "copy exit status")
        check(re.fullmatch(rf"copied {N} features, {N} history rows, 0 tokens\n", out), out)


def import_request(srv, token, path_query, body):
    return srv.request("POST", "/collections/parcels/import" + path_query, body=body,
                       headers={"Content-Type": "application/geo+json",
                                "Authorization": "Bearer " + token})


def look(srv, pid, token):
    return srv.get(f"/imports/{pid}", headers={"Authorization": "Bearer " + token})


def parcel_count(srv):
    return srv.get_json("/collections/parcels/items?limit=1")["numberMatched"]


def last_change(srv):
    """The sequence number of the newest change, following /changes' pages."""
    since = 0
    while True:
        page = srv.get_json(f"/changes?since={since}&limit=10000")
        if not page["changes"]:
            return since
        since = page["next"]


def loaded(srv, tok, what):
    """Imports the first parcels through srv; returns both files' bytes (the
    second changes what the first added)."""
    with open(parcels(1), "rb") as f:
        first = f.read()
    with open(parcels(2), "rb") as f:
        second = f.read()
    eq(import_request(srv, tok, "", first).status, 200, what)
    return first, second


def test_server_import_can_be_followed():
    # (changing 100 000 parcels in a sanitizer build on PostgreSQL may take
    # longer than the default 30 s a request may take)
    with harness.Server(demo=False, threads=4, args=("--request-timeout", "0")) as srv:
        tok = srv.token("ed", "editor")
        other = srv.token("ed2", "editor")
        first, second = loaded(srv, tok, "a first import, unfollowed")
        answer = {}

        def post():
            answer["r"] = import_request(srv, tok, "?progress_id=run-2", second)

        t = threading.Thread(target=post)
        t.start()
        seen, conflict = [], None
        while t.is_alive():
            r = look(srv, "run-2", tok)
            if r.status == 200:
                seen.append(r.json())
                if conflict is None and seen[-1]["state"] == "running":
                    conflict = import_request(srv, tok, "?progress_id=run-2", b"{}")
            else:
                eq(r.status, 404, "before the server starts on it")
            time.sleep(0.1)
        t.join()
        eq(answer["r"].status, 200, f"the import: {answer['r'].body[:300]!r}")
        running = [s for s in seen if s["state"] == "running"]
        check(len(running) >= 3, f"looks while it ran: {seen}")
        pcts = [s["percent"] for s in running]
        check(all(a <= b for a, b in zip(pcts, pcts[1:])) and pcts[-1] > pcts[0],
              f"the percentage rises: {pcts}")
        phases = {s["phase"] for s in running}
        check(phases & {"parsing", "matching", "writing"}, f"phases: {phases}")
        for s in running:
            if s["unit"] == "features" and s["phase"] == "parsing":
                eq(s["total"], N, "parsing counts towards every feature of the upload")
                check(0 <= s["done"] <= N, s)
        check(conflict is not None, "a look while it ran")
        eq(conflict.status, 409, "a second import with the id of a running one")
        check("progress_id" in conflict.json()["description"], conflict.json())
        end = look(srv, "run-2", tok)
        eq(end.status, 200, "a look after it ended")
        end = end.json()
        eq((end["state"], end["status"], end["percent"]), ("done", 200, 100.0), "how it ended")
        eq(end["collection"], "parcels", "collection")
        check(end["dry_run"] is False, end)
        eq(end["eta_s"], None, "no time left once done")
        eq(look(srv, "run-2", other).status, 404, "another token cannot follow it")
        eq(srv.get("/imports/run-2").status, 401, "without a token")
        eq(look(srv, "nobody", tok).status, 404, "an id no import has")
        bad = import_request(srv, tok, "?progress_id=a%20b", first)
        eq(bad.status, 400, "a malformed progress_id")
        check("progress_id" in bad.json()["description"], bad.json())
        # the access log's JSON stream: the long import's progress
        lines = [json.loads(l) for l in srv.logtext().splitlines()
                 if l.startswith('{"time"') and '"import progress"' in l]
        followed = [l for l in lines if l["id"] == "run-2"]
        check(followed, f"the import (several seconds) logged its progress: {lines}")
        for l in lines:  # (a slow build logs the first, unfollowed import too)
            check(l["id"] in ("run-2", None), l)
            eq((l["collection"], l["token"]), ("parcels", "ed"), "log line")
            check(l["elapsed_s"] >= 3 and 0 <= l["percent"] <= 100, l)
            check(l["phase"] in ("reading", "parsing", "matching", "writing", "indexing",
                                 "committing"), l)
        # /metrics: the features the two committed imports wrote
        rep = answer["r"].json()
        metrics = srv.get("/metrics").body.decode()
        m = re.search(r"^onemap_features_imported_total (\d+)$", metrics, re.M)
        check(m, "onemap_features_imported_total in /metrics")
        eq(int(m.group(1)), N + rep["added"] + rep["changed"] + rep["removed"],
           "features imported")
        dry = import_request(srv, tok, "?dry_run=true&progress_id=run-2", first)
        eq(dry.status, 200, "a dry run")
        again = look(srv, "run-2", tok).json()
        eq((again["dry_run"], again["state"]), (True, "done"),
           "an id used again: the newer import is the one followed")
        m2 = re.search(r"^onemap_features_imported_total (\d+)$",
                       srv.get("/metrics").body.decode(), re.M)
        eq(m2.group(1), m.group(1), "a dry run imports nothing")


def test_a_client_that_leaves_cancels_its_import():
    with harness.Server(demo=False, threads=4) as srv:
        tok = srv.token("ed", "editor")
        _, second = loaded(srv, tok, "a first import")
        count = parcel_count(srv)
        changes = last_change(srv)
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(("POST /collections/parcels/import?progress_id=gone HTTP/1.1\r\n"
                   "Host: x\r\nContent-Type: application/geo+json\r\n"
                   f"Authorization: Bearer {tok}\r\nContent-Length: {len(second)}\r\n\r\n")
                  .encode() + second)
        deadline = time.time() + 60 * harness.SLOW
        while time.time() < deadline:
            r = look(srv, "gone", tok)
            if r.status == 200 and r.json()["state"] == "running" and r.json()["percent"] > 10:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the import did not get going")
        s.close()
        while time.time() < deadline:
            st = look(srv, "gone", tok).json()
            if st["state"] != "running":
                break
            time.sleep(0.05)
        eq(st["state"], "cancelled", f"the import once its client left: {st}")
        eq(parcel_count(srv), count, "parcels: nothing of the cancelled import")
        eq(last_change(srv), changes, "no change was recorded")


if __name__ == "__main__":
    harness.main([test_import_on_a_terminal_shows_a_rising_percentage,
                  test_import_on_a_pipe_prints_only_the_report,
                  test_quiet_silences_the_line_on_a_terminal,
                  test_export_and_copy_keep_standard_output_clean,
                  test_server_import_can_be_followed,
                  test_a_client_that_leaves_cancels_its_import])
