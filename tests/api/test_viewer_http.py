"""Black-box tests of how onemap serves the map viewer: "/" is the map for
browsers and the OGC landing page for JSON clients, /static/ serves nested
files under strict names only, and HTML pages carry a Content-Security-Policy
that allows nothing but the server itself and the configured basemap hosts."""
import gzip
import os
import re
import subprocess

import harness
from harness import Server

STATIC = os.path.join(harness.SRC, "static")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def csp_sources(header, directive):
    for part in header.split(";"):
        words = part.split()
        if words and words[0] == directive:
            return words[1:]
    return None


def test_root_is_the_map_for_browsers():
    with Server(demo=False) as s:
        r = s.get("/", headers=HTML)
        assert r.status == 200, r.status
        assert r.header("Content-Type").startswith("text/html")
        body = r.body.decode()
        assert '<div id="map"' in body and "/static/dist/app.js" in body
        assert '<meta name="onemap-basemaps" content="">' in body, "no basemap by default"
        r2 = s.get("/?lang=en&draw=items", headers=HTML)
        assert r2.status == 200 and r2.body == r.body, "the page's own parameters are its business"
        assert r.header("X-Content-Type-Options") == "nosniff"
        csp = r.header("Content-Security-Policy")
        assert csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        assert csp_sources(csp, "default-src") == ["'self'"], csp
        assert csp_sources(csp, "script-src") == ["'self'"], csp
        assert csp_sources(csp, "connect-src") == ["'self'"], csp
        assert csp_sources(csp, "object-src") == ["'none'"], csp
        # no inline script or style in the page itself (the policy would block them)
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), "inline script"
        assert "<style" not in body and " style=" not in body


def test_root_is_the_landing_page_for_json_clients():
    with Server(demo=False) as s:
        for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
            r = s.get("/", headers=headers)
            assert r.status == 200 and "json" in r.header("Content-Type"), headers
            links = r.json()["links"]
            assert any(l["rel"] == "service-desc" for l in links)
            assert any(l["rel"] == "conformance" for l in links)
        r = s.get("/?f=json", headers=HTML)
        assert "json" in r.header("Content-Type"), "f=json wins over Accept"
        r = s.get("/?f=html", headers=HTML)
        body = r.body.decode()
        assert r.header("Content-Type").startswith("text/html")
        assert "/conformance" in body and 'id="map"' not in body, "f=html is the generic page"
        assert '<link rel="stylesheet" href="/static/page.css">' in body and "<style" not in body
        assert r.header("Content-Security-Policy"), "generic HTML pages carry the policy too"
        assert s.get("/static/page.css").header("Content-Type").startswith("text/css")
        r = s.get("/collections?f=html")
        assert r.header("Content-Security-Policy") and "<style" not in r.body.decode()


def test_static_nested_paths():
    with Server(demo=False) as s:
        r = s.get("/static/index.html")
        assert r.status == 200 and r.header("Content-Type").startswith("text/html")
        assert r.header("Content-Security-Policy")
        with open(os.path.join(STATIC, "src", "main.js"), "rb") as f:
            main_js = f.read()
        r = s.get("/static/src/main.js")
        assert r.status == 200 and r.body == main_js, "a file two levels down, byte for byte"
        assert r.header("Content-Type").startswith("text/javascript")
        if os.path.exists(os.path.join(STATIC, "dist", "app.js")):
            r = s.get("/static/dist/app.js")
            assert r.status == 200 and r.header("Content-Type").startswith("text/javascript")
            assert s.get("/static/dist/app.css").header("Content-Type").startswith("text/css")
        assert s.get("/static/dist/nothing.js").status == 404
        assert s.get("/static/a/b/c/d.js").status == 404, "deeper than the routes"


def test_static_gzip_and_etag():
    with open(os.path.join(STATIC, "src", "main.js"), "rb") as f:
        main_js = f.read()
    assert len(main_js) > 1024
    with Server(demo=False) as s:
        plain = s.get("/static/src/main.js")
        assert plain.body == main_js and plain.header("Content-Encoding") is None
        etag = plain.header("ETag")
        assert etag and etag.startswith('"'), etag
        assert "Accept-Encoding" in plain.header("Vary")
        z = s.get("/static/src/main.js", headers={"Accept-Encoding": "gzip, deflate"})
        assert z.header("Content-Encoding") == "gzip"
        assert gzip.decompress(z.body) == main_js, "the gzip form is the same file"
        assert len(z.body) < len(main_js) / 2
        assert z.header("ETag") != etag, "the two forms have different tags"
        no = s.get("/static/src/main.js", headers={"Accept-Encoding": "gzip;q=0"})
        assert no.header("Content-Encoding") is None and no.body == main_js
        again = s.get("/static/src/main.js", headers={"If-None-Match": etag})
        assert again.status == 304 and again.body == b"", again.status
        again = s.get("/static/src/main.js", headers={"If-None-Match": '"other", W/' + etag})
        assert again.status == 304
        changed = s.get("/static/src/main.js", headers={"If-None-Match": '"0000"'})
        assert changed.status == 200 and changed.body == main_js
        small = s.get("/static/favicon.svg", headers={"Accept-Encoding": "gzip"})
        assert small.status == 200 and small.header("Content-Encoding") is None, "small files as they are"


def raw_status(s, path):
    reply = s.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return int(reply.split(b" ", 2)[1])


def test_static_refuses_traversal():
    secret = os.path.join(harness.SRC, "CMakeLists.txt")
    assert os.path.exists(secret)
    with Server(demo=False) as s:
        for path in ["/static/../CMakeLists.txt", "/static/%2e%2e/CMakeLists.txt",
                     "/static/%2E%2E/%2E%2E/CMakeLists.txt", "/static/dist/..%2f..%2fCMakeLists.txt",
                     "/static/dist/%2e%2e%2f%2e%2e%2fCMakeLists.txt", "/static/..%5cCMakeLists.txt",
                     "/static/.%2e/CMakeLists.txt", "/static/%2e%2e%2fCMakeLists.txt",
                     "/static/src/../../CMakeLists.txt", "/static/.gitignore", "/static/dist/.x",
                     "/static/src/ma%20in.js", "/static/src/main.js~",
                     "/static/%252e%252e/CMakeLists.txt", "/static//CMakeLists.txt"]:
            status = raw_status(s, path)
            assert status in (400, 404), f"{path}: {status}"
        # a NUL ends the name where the server decodes it: at most the file by
        # its own name and type, never something else dressed as HTML
        reply = s.raw(b"GET /static/src/main.js%00.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = reply.split(b"\r\n\r\n", 1)[0].lower()
        first = head.split(b"\r\n")[0]
        assert b" 404 " in first or b" 400 " in first or b"content-type: text/javascript" in head, head
        assert s.alive()


def test_basemap_host_in_policy_and_page():
    url = ("https://t{0-7}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec"
           "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY")
    labels = "http://tiles.example.org:8081/labels/{z}/{x}/{y}.png"
    with Server(demo=False, args=("--basemap", url, "--basemap", labels)) as s:
        r = s.get("/", headers=HTML)
        csp = r.header("Content-Security-Policy")
        img = csp_sources(csp, "img-src")
        assert "https://*.tianditu.gov.cn" in img and "http://tiles.example.org:8081" in img, csp
        assert csp_sources(csp, "script-src") == ["'self'"], "basemaps never run scripts"
        body = r.body.decode()
        meta = re.search(r'<meta name="onemap-basemaps" content="([^"]*)">', body).group(1)
        assert meta == (url + " " + labels).replace("&", "&amp;"), meta


def test_basemap_refused_when_unsafe():
    db = os.path.join(harness.tempfile.mkdtemp(), "x.db")
    harness.run("init", db)
    for bad in ["javascript:alert(1)", "ftp://example.org/{z}", "https://exa mple.org/{z}",
                "https://tiles.{a-c}.example.org/{z}", "https:///{z}/{x}", "https://ex'ample.org/",
                "https://example.org;script-src */{z}"]:
        # a bad URL stops serve before it listens; the timeout guards the test
        p = subprocess.run([harness.BIN, "serve", "--db", db, "--listen", "127.0.0.1:0",
                            "--basemap", bad], capture_output=True, text=True, timeout=20)
        assert p.returncode == 2 and "--basemap" in p.stderr, (bad, p.returncode, p.stderr)
    # a quote in the path is escaped in the page, not an attribute break-out
    with Server(demo=False, args=("--basemap", 'https://example.org/"><script>x</script>/{z}')) as s:
        body = s.get("/", headers=HTML).body.decode()
        assert "<script>x" not in body and "&quot;&gt;&lt;script&gt;" in body


def test_viewer_not_built():
    """A checkout whose viewer was never bundled: "/" is a short page saying
    so and how to build it (no script or stylesheet that would answer 404),
    the server says it once at start-up, and the API is served as usual."""
    import shutil
    import tempfile
    bare = tempfile.mkdtemp(prefix="onemap-static-")
    for name in os.listdir(STATIC):
        if name not in ("dist", "src") and os.path.isfile(os.path.join(STATIC, name)):
            shutil.copy(os.path.join(STATIC, name), bare)
    saved = os.environ.get("ONEMAP_STATIC_DIR")
    os.environ["ONEMAP_STATIC_DIR"] = bare
    try:
        with Server(demo=False) as s:
            r = s.get("/", headers=HTML)
            assert r.status == 200, r.status
            assert r.header("Content-Type").startswith("text/html")
            body = r.body.decode()
            assert "not built" in body and "npm ci &amp;&amp; npm run build" in body, body
            assert "/static/dist/" not in body and "<script" not in body and "<link" not in body
            assert "unsafe-inline" not in r.header("Content-Security-Policy")
            assert s.get("/collections").status == 200, "the API works"
            assert s.get("/", headers={"Accept": "application/json"}).status == 200
            log = s.logtext()
            assert log.count("map viewer is not built") == 1, log
            assert "npm ci && npm run build" in log, log
        # once built, the map is back
        os.makedirs(os.path.join(bare, "dist"))
        for name in ("app.js", "app.css"):
            with open(os.path.join(bare, "dist", name), "w") as f:
                f.write("/* built */\n")
        with Server(demo=False) as s:
            r = s.get("/", headers=HTML)
            assert r.status == 200 and '<div id="map"' in r.body.decode(), r.status
            assert "not built" not in s.logtext()
    finally:
        if saved is None:
            del os.environ["ONEMAP_STATIC_DIR"]
        else:
            os.environ["ONEMAP_STATIC_DIR"] = saved
        shutil.rmtree(bare, ignore_errors=True)


if __name__ == "__main__":
    harness.main([test_root_is_the_map_for_browsers, test_root_is_the_landing_page_for_json_clients,
                  test_static_nested_paths, test_static_gzip_and_etag, test_static_refuses_traversal,
                  test_basemap_host_in_policy_and_page, test_basemap_refused_when_unsafe,
                  test_viewer_not_built])
