"""Malformed requests: each gets its exact 4xx status and a JSON body
{"code", "description"} whose description names the parameter or problem;
the server stays up and answers /health after all of them."""
import json
import socket
import sys

import fixtures as fx
import harness
from harness import check, eq

S = None
ITEMS = "/collections/parcels/items"

# (path, status, code, words the description must contain)
GET_CASES = [
    (ITEMS + "?limit=unlimited", 400, "InvalidParameterValue", ["limit", "unlimited"]),
    (ITEMS + "?limit=0", 400, "InvalidParameterValue", ["limit", "'0'"]),
    (ITEMS + "?limit=-1", 400, "InvalidParameterValue", ["limit", "-1"]),
    (ITEMS + "?limit=2.5", 400, "InvalidParameterValue", ["limit", "2.5"]),
    (ITEMS + "?limit=", 400, "InvalidParameterValue", ["limit"]),
    (ITEMS + "?limit=99999999999999999999999", 400, "InvalidParameterValue", ["limit"]),
    (ITEMS + "?offset=-5", 400, "InvalidParameterValue", ["offset", "-5"]),
    (ITEMS + "?offset=ten", 400, "InvalidParameterValue", ["offset", "ten"]),
    (ITEMS + "?bbox=1,2,3", 400, "InvalidParameterValue", ["bbox", "4 or 6"]),
    (ITEMS + "?bbox=a,b,c,d", 400, "InvalidParameterValue", ["bbox", "a,b,c,d"]),
    (ITEMS + "?bbox=1,2,3,4,5", 400, "InvalidParameterValue", ["bbox", "4 or 6"]),
    (ITEMS + "?bbox=1,2,3,4,5,6,7", 400, "InvalidParameterValue", ["bbox", "4 or 6"]),
    (ITEMS + "?bbox=1,2,3,4,", 400, "InvalidParameterValue", ["bbox"]),
    (ITEMS + "?bbox=", 400, "InvalidParameterValue", ["bbox"]),
    (ITEMS + "?bbox=nan,1,2,3", 400, "InvalidParameterValue", ["bbox"]),
    (ITEMS + "?bbox=0,91,1,92", 400, "InvalidParameterValue", ["bbox", "latitude"]),
    (ITEMS + "?bbox=-181,0,1,1", 400, "InvalidParameterValue", ["bbox", "longitude"]),
    (ITEMS + "?bbox=0,10,1,5", 400, "InvalidParameterValue", ["bbox", "north"]),
    (ITEMS + "?bbox=29,118,91,119&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4490", 400,
     "InvalidParameterValue", ["bbox", "latitude"]),
    (ITEMS + "?bbox=1,2,3,4&bbox-crs=EPSG:9999", 400, "InvalidParameterValue",
     ["bbox-crs", "EPSG:9999"]),
    (ITEMS + "?crs=foo", 400, "InvalidParameterValue", ["crs", "foo"]),
    (ITEMS + "?crs=", 400, "InvalidParameterValue", ["crs"]),
    (ITEMS + "/1?crs=http://www.opengis.net/def/crs/EPSG/0/1", 400, "InvalidParameterValue",
     ["crs", "EPSG/0/1"]),
    (ITEMS + "?colour=red", 400, "InvalidParameterValue", ["colour", "unknown"]),
    (ITEMS + "/1?limit=5", 400, "InvalidParameterValue", ["limit", "unknown"]),
    ("/collections?bbox=1,2,3,4", 400, "InvalidParameterValue", ["bbox", "unknown"]),
    (ITEMS + "?limit=5&limit=6", 400, "InvalidParameterValue", ["limit", "more than once"]),
    (ITEMS + "?properties=nope", 400, "InvalidParameterValue", ["properties", "nope"]),
    (ITEMS + "?properties=code,,dlbm", 400, "InvalidParameterValue", ["properties"]),
    (ITEMS + "?sortby=nope", 400, "InvalidParameterValue", ["sortby", "nope"]),
    (ITEMS + "?sortby=-", 400, "InvalidParameterValue", ["sortby"]),
    (ITEMS + "?sortby=" + ",".join(["code"] * 9), 400, "InvalidParameterValue",
     ["sortby", "more than 8"]),
    (ITEMS + "?f=xml", 400, "InvalidParameterValue", ["f", "xml"]),
    ("/collections/villages/items?households=many", 400, "InvalidParameterValue",
     ["households", "integer", "many"]),
    ("/collections/villages/items?population=1.5", 400, "InvalidParameterValue",
     ["population", "integer"]),
    ("/collections/communities/items?red_property=maybe", 400, "InvalidParameterValue",
     ["red_property", "maybe"]),
    ("/collections/demolition_sites/items?floor_area_m2=big", 400, "InvalidParameterValue",
     ["floor_area_m2", "number"]),
    ("/collections/nope/items", 404, "NotFound", ["nope"]),
    ("/collections/nope", 404, "NotFound", ["nope"]),
    ("/collections/nope/queryables", 404, "NotFound", ["nope"]),
    (ITEMS + "/999999", 404, "NotFound", ["999999"]),
    (ITEMS + "/abc", 404, "NotFound", ["abc"]),
    (ITEMS + "/0", 404, "NotFound", ["parcels/0"]),
    (ITEMS + "/-3", 404, "NotFound", ["-3"]),
    (ITEMS + "/1.0", 404, "NotFound", ["1.0"]),
    ("/nope", 404, "NotFound", ["/nope"]),
    ("/collections/parcels/items/1/extra", 404, "NotFound", ["/extra"]),
    ("/" + "/".join("d%d" % k for k in range(40)), 404, "NotFound", ["d0/d1"]),
    ("/static/../../../../etc/passwd", 404, "NotFound", []),
    ("/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd", 404, "NotFound", []),
    ("/static/..%2f..%2f..%2fetc%2fpasswd", 404, "NotFound", []),
    ("/static/%2e%2e%2fCMakeLists.txt", 404, "NotFound", []),
    ("/static/.hidden", 404, "NotFound", []),
    ("/static/nope.js", 404, "NotFound", ["nope.js"]),
    ("/collections/parcels%00/items", 400, "BadRequest", ["%00"]),
    (ITEMS + "?limit=5%00", 400, "BadRequest", ["%00"]),
    (ITEMS + "?properties=%ff%fe", 400, "InvalidParameterValue", ["properties", "\ufffd"]),
    ("/collections/%ff/items", 404, "NotFound", ["\ufffd"]),
    (ITEMS + "?" + "&".join(f"p{k}=1" for k in range(70)), 400, "InvalidParameterValue",
     ["query", "parameters"]),
]


def problem(r, status, code, words, what):
    eq(r.status, status, f"{what}: status")
    ctype = (r.header("Content-Type") or "").split(";")[0]
    check(ctype in ("application/problem+json", "application/json"),
          f"{what}: Content-Type {ctype}")
    try:
        body = json.loads(r.body.decode("utf-8"))
    except ValueError as ex:
        raise AssertionError(f"{what}: body is not UTF-8 JSON ({ex}): {r.body[:200]!r}")
    check(isinstance(body.get("code"), str) and isinstance(body.get("description"), str),
          f"{what}: body {body}")
    eq(body["code"], code, f"{what}: code")
    for w in words:
        check(w in body["description"], f"{what}: description {body['description']!r} "
                                        f"does not name {w!r}")
    check(b"root:" not in r.body, f"{what}: leaks a file")
    return body


def test_get_cases():
    check(len(GET_CASES) >= 25, "at least 25 kinds of malformed GET")
    failures = []
    for path, status, code, words in GET_CASES:
        try:
            problem(S.exact("GET", path), status, code, words, f"GET {path[:80]}")
        except AssertionError as ex:
            failures.append(str(ex))
    check(not failures, "\n".join(failures))


def test_methods():
    for method, path in [("POST", "/collections"), ("DELETE", "/collections"), ("PUT", "/api"),
                         ("PATCH", "/"), ("POST", "/conformance"), ("DELETE", "/health"),
                         ("TRACE", "/collections/parcels/queryables")]:
        r = S.exact(method, path, body=b"{}" if method in ("POST", "PUT", "PATCH") else None,
                    headers={"Content-Type": "application/json"})
        problem(r, 405, "MethodNotAllowed", [method], f"{method} {path}")
        allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
        check("GET" in allow and "HEAD" in allow and method not in allow,
              f"{method} {path}: Allow {r.header('Allow')}")
    r = S.exact("BREW", "/nope")
    problem(r, 404, "NotFound", ["/nope"], "BREW /nope")


def test_not_acceptable():
    for accept in ("image/png", "application/xml", "text/csv;q=1, image/*"):
        r = S.get("/collections/parcels", headers={"Accept": accept})
        problem(r, 406, "NotAcceptable", ["Accept"], f"Accept: {accept}")


def test_uri_too_long():
    r = S.exact("GET", ITEMS + "?bbox=" + "1" * 20000)
    problem(r, 414, "URITooLong", ["URL", "max_url"], "20 kB URL")
    r = S.exact("GET", "/collections/" + "x" * 17000)
    problem(r, 414, "URITooLong", ["URL"], "17 kB path")
    # past the connection's memory the HTTP library itself refuses: 414 still
    reply = S.raw(b"GET /?x=" + b"a" * 400000 + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
    check(reply.startswith(b"HTTP/1.1 414"), f"400 kB URL: {reply[:60]!r}")


def test_body_too_large():
    reply = S.raw(b"POST /collections HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000000\r\nConnection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 413"), f"100 MB Content-Length: {head[:60]!r}")
    b = json.loads(body)
    eq(b["code"], "PayloadTooLarge", "413 code")
    check("body" in b["description"] and "max_body" in b["description"], f"413: {b}")


def test_garbage_on_the_wire():
    # (bytes, acceptable first status digits; b"" = the connection is closed)
    for data, ok in [(b"GARBAGE\r\n\r\n", (b"", b"4")), (b"GET\r\n\r\n", (b"", b"4")),
                     (b"\x00\x01\x02\r\n\r\n", (b"", b"4")),
                     (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", (b"505",)),
                     (b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", (b"4",)),
                     (b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"zz\r\n", (b"4",))]:
        reply = S.raw(data, timeout=3)
        status = reply[9:12] if reply.startswith(b"HTTP/1.1 ") else b""
        check(any(status.startswith(o) if o else status == b"" for o in ok),
              f"{data[:30]!r}: {reply[:60]!r}")
        check(S.alive(), f"server died after {data[:30]!r}")


def test_log_lines_cannot_be_forged():
    r = S.exact("GET", "/x%0a2020-01-01T00:00:00Z%20GET%20/FORGED%20200%200%200.1ms")
    problem(r, 404, "NotFound", ["x\n2020-01-01T00:00:00Z GET /FORGED"], "encoded newline")
    forged = [l for l in S.logtext().splitlines() if l.startswith("2020-01-01")]
    eq(forged, [], "log lines forged through %0a")


def test_half_requests():
    # a client that sends half a request and goes away
    for k in range(5):
        s = socket.create_connection(("127.0.0.1", S.port), timeout=2)
        s.sendall(b"GET /collections/parcels/items?bbox=1,2")
        s.close()
        s = socket.create_connection(("127.0.0.1", S.port), timeout=2)
        s.sendall(b"POST /collections HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\"")
        s.close()
    check(S.alive(), "server alive after abandoned requests")


def test_head_errors_have_no_body():
    r = S.request("HEAD", "/collections/nope")
    eq(r.status, 404, "HEAD of an unknown collection")
    eq(r.body, b"", "HEAD error body")


def test_still_alive():
    eq(S.get_json("/health"), {"status": "ok"}, "/health after all malformed requests")
    fc = S.get_json(ITEMS + "?limit=1")
    eq(fc["numberReturned"], 1, "a normal query after all malformed requests")
    check(S.proc.poll() is None, "server process running")
    log = S.logtext()
    fives = [d for d in S.access_log() if d["status"] >= 500]
    check(not fives and log, "no 500 in the server log:\n" + "\n".join(map(str, fives)))


TESTS = [test_get_cases, test_methods, test_not_acceptable, test_uri_too_long,
         test_body_too_large, test_garbage_on_the_wire, test_log_lines_cannot_be_forged,
         test_half_requests,
         test_head_errors_have_no_body, test_still_alive]

if __name__ == "__main__":
    with harness.Server(demo=False, imports=list(fx.small_layers().items())) as S:
        failed = harness.run_all(TESTS)
    sys.exit(1 if failed else 0)
