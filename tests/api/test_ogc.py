"""OGC API Features discovery: landing page, conformance, the OpenAPI 3.0
document, collections, queryables, HTML pages and content negotiation,
checked against the specification's requirements and against the layer
schema file (geodata/layers.json) and data set this test loads itself."""
import html.parser
import json
import os
import re
import sys
import urllib.parse

import fixtures as fx
import harness
from harness import check, eq

S = None
DATA = fx.small_layers()
MARKUP = "<script>alert(1)</script>小区1"
DATA["communities"]["features"][1]["properties"]["name"] = MARKUP
with open(os.path.join(harness.SRC, "geodata", "layers.json"), encoding="utf-8") as _f:
    SCHEMA = {l["id"]: l for l in json.load(_f)["layers"]}

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS_URIS = {CRS84} | {EPSG + str(c) for c in (4326, 4490, 3857, 4548, 4549, 4527, 4528)}
CONF = ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"]


def rels(doc):
    out = {}
    for l in doc["links"]:
        check(isinstance(l.get("href"), str) and l["href"], f"link without href: {l}")
        out.setdefault(l["rel"], []).append(l)
    return out


def local(href):
    check(href.startswith(S.base + "/"), f"{href} is not a link to this server")
    return href[len(S.base):]


def test_landing_page():
    doc = S.get_json("/")
    check(isinstance(doc.get("title"), str) and doc["title"], "landing page title")
    links = rels(doc)
    for rel in ("self", "service-desc", "conformance", "data"):
        check(rel in links, f"landing page has a {rel} link")
    eq(local(links["self"][0]["href"]), "/", "self link")
    desc = links["service-desc"][0]
    check(desc["type"].startswith("application/vnd.oai.openapi+json"),
          f"service-desc type {desc['type']}")
    r = S.get(local(desc["href"]))
    eq(r.status, 200, "service-desc link works")
    check(r.header("Content-Type").startswith("application/vnd.oai.openapi+json"),
          "service-desc Content-Type")
    eq(S.get(local(links["conformance"][0]["href"])).status, 200, "conformance link works")
    eq(local(links["data"][0]["href"]), "/collections", "data link")
    check(any(l["type"] == "text/html" for l in links.get("alternate", [])),
          "an HTML alternate of the landing page")


def test_conformance():
    doc = S.get_json("/conformance")
    for c in CONF:
        check(c in doc["conformsTo"], f"conformance class {c}")
    eq(len(set(doc["conformsTo"])), len(doc["conformsTo"]), "no duplicate classes")


def resolve(root, ref):
    check(ref.startswith("#/"), f"non-local $ref {ref}")
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        check(isinstance(node, dict) and part in node, f"$ref {ref} does not resolve")
        node = node[part]
    return node


def walk_refs(root, node, seen):
    if isinstance(node, dict):
        if "$ref" in node:
            seen.add(node["$ref"])
            resolve(root, node["$ref"])
        for v in node.values():
            walk_refs(root, v, seen)
    elif isinstance(node, list):
        for v in node:
            walk_refs(root, v, seen)


def deref(root, node):
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(root, node["$ref"])
    return node


METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def check_openapi(doc):
    """The structural rules of OpenAPI 3.0 that a client relies on."""
    check(re.fullmatch(r"3\.0\.\d+", doc.get("openapi", "")), f"openapi {doc.get('openapi')}")
    check(isinstance(doc["info"].get("title"), str), "info.title")
    check(isinstance(doc["info"].get("version"), str), "info.version")
    check(isinstance(doc["paths"], dict) and doc["paths"], "paths")
    ops = set()
    for path, item in doc["paths"].items():
        check(path.startswith("/"), f"path {path} starts with /")
        for method, op in item.items():
            check(method in METHODS or method in ("parameters", "summary", "description"),
                  f"{path}: unknown member {method}")
            if method not in METHODS:
                continue
            oid = op.get("operationId")
            check(oid not in ops, f"duplicate operationId {oid}")
            ops.add(oid)
            check(op.get("responses"), f"{method} {path}: responses")
            for code, resp in op["responses"].items():
                check(code == "default" or re.fullmatch(r"[1-5]\d\d|[1-5]XX", code),
                      f"{path}: response key {code}")
                check("description" in deref(doc, resp), f"{path} {code}: description")
            names = set()
            for p in op.get("parameters", []):
                p = deref(doc, p)
                check(p.get("in") in ("query", "header", "path", "cookie"),
                      f"{path}: parameter {p.get('name')} in {p.get('in')}")
                check(isinstance(p.get("name"), str), f"{path}: parameter name")
                check(("schema" in p) != ("content" in p), f"{path}: {p['name']} schema")
                check((p["name"], p["in"]) not in names, f"{path}: {p['name']} twice")
                names.add((p["name"], p["in"]))
                if p["in"] == "path":
                    check(p.get("required") is True, f"{path}: path parameter required")
            for var in re.findall(r"\{([^}]+)\}", path):
                check((var, "path") in names, f"{path}: path parameter {var} not declared")
            check(not [n for n, i in names if i == "path" and "{" + n + "}" not in path],
                  f"{path}: a path parameter that is not in the path")
    seen = set()
    walk_refs(doc, doc, seen)
    return seen


def params_of(doc, path):
    return {deref(doc, p)["name"]: deref(doc, p) for p in doc["paths"][path]["get"]["parameters"]}


def test_openapi():
    doc = S.get_json("/api")
    check_openapi(doc)
    for path in ("/", "/conformance", "/collections"):
        check(path in doc["paths"], f"{path} in the API document")
    for cid, layer in SCHEMA.items():
        path = f"/collections/{cid}/items"
        check(path in doc["paths"], f"{path} declared")
        ps = params_of(doc, path)
        for name in ("bbox", "limit", "offset", "crs", "bbox-crs", "properties", "sortby"):
            check(name in ps and ps[name]["in"] == "query", f"{path}: parameter {name}")
        lim = ps["limit"]["schema"]
        eq((lim.get("type"), lim.get("minimum"), lim.get("maximum"), lim.get("default")),
           ("integer", 1, 10000, 100), f"{path}: limit schema")
        eq(ps["bbox"]["schema"].get("type"), "array", f"{path}: bbox is an array")
        eq((ps["bbox"]["schema"].get("minItems"), ps["bbox"]["schema"].get("maxItems")), (4, 6),
           f"{path}: bbox has 4 or 6 numbers")
        eq(ps["offset"]["schema"].get("minimum"), 0, f"{path}: offset minimum")
        for crsp in ("crs", "bbox-crs"):
            eq(set(ps[crsp]["schema"].get("enum", [])), CRS_URIS, f"{path}: {crsp} values")
        types = {"string": "string", "date": "string", "integer": "integer",
                 "number": "number", "boolean": "boolean"}
        for f in layer["fields"]:
            check(f["name"] in ps, f"{path}: queryable {f['name']} declared")
            eq(ps[f["name"]]["schema"].get("type"), types[f["type"]],
               f"{path}: {f['name']} type")
            if "enum" in f:
                eq(ps[f["name"]]["schema"].get("enum"), f["enum"], f"{path}: {f['name']} enum")
        item = f"/collections/{cid}/items/{{featureId}}"
        check(item in doc["paths"], f"{item} declared")
    # the server URL is where the document was fetched from
    eq(doc["servers"][0]["url"].rstrip("/"), S.base, "servers[0].url")


def test_openapi_validator_catches():
    """The checker above must reject broken documents (so test_openapi can fail)."""
    good = S.get_json("/api")
    broken = [
        lambda d: d.update(openapi="2.0"),
        lambda d: d["paths"]["/conformance"]["get"].update(responses={}),
        lambda d: d["paths"]["/collections/parcels/items"]["get"]["parameters"].append(
            {"$ref": "#/components/parameters/nope"}),
        lambda d: d["paths"]["/collections/parcels/items/{featureId}"]["get"].update(
            parameters=[]),
        lambda d: d["paths"]["/collections/villages/items"]["get"].update(
            operationId=d["paths"]["/collections/parcels/items"]["get"]["operationId"]),
    ]
    for k, breakit in enumerate(broken):
        d = json.loads(json.dumps(good))
        breakit(d)
        try:
            check_openapi(d)
        except AssertionError:
            continue
        raise AssertionError(f"broken document {k} passed the OpenAPI checks")


def extent_of(fc):
    xs = [p[0] for f in fc["features"] for p in f["geometry"]["coordinates"][0]]
    ys = [p[1] for f in fc["features"] for p in f["geometry"]["coordinates"][0]]
    return min(xs), min(ys), max(xs), max(ys)


def check_collection(c):
    cid = c["id"]
    check(isinstance(c.get("title"), str) and c["title"], f"{cid}: title")
    eq(c["title"], SCHEMA[cid]["title"]["zh"], f"{cid}: title from the schema")
    bbox = c["extent"]["spatial"]["bbox"]
    eq(len(bbox[0]), 4, f"{cid}: extent has 4 numbers")
    ex = extent_of(DATA[cid])
    # the extent contains the data and is not much larger (float R-tree bounds)
    for k, (got, want) in enumerate(zip(bbox[0], ex)):
        check(got <= want + 1e-9 if k < 2 else got >= want - 1e-9,
              f"{cid}: extent {bbox[0]} does not contain the data {ex}")
        check(abs(got - want) < 1e-4, f"{cid}: extent {bbox[0]} far from the data {ex}")
    eq(c["extent"]["spatial"].get("crs", CRS84), CRS84, f"{cid}: extent crs")
    eq(set(c["crs"]), CRS_URIS, f"{cid}: crs list")
    eq(c["crs"][0], CRS84, f"{cid}: CRS84 first (the default)")
    eq(c["storageCrs"], EPSG + "4490", f"{cid}: storageCrs")
    links = rels(c)
    types = {l.get("type") for l in links.get("items", [])}
    check("application/geo+json" in types, f"{cid}: items link as GeoJSON")
    check("text/html" in types, f"{cid}: items link as HTML")
    eq(local(links["self"][0]["href"]), f"/collections/{cid}", f"{cid}: self link")
    fc = S.get_json(local([l for l in links["items"]
                           if l["type"] == "application/geo+json"][0]["href"]))
    eq(fc["numberMatched"], len(DATA[cid]["features"]), f"{cid}: features behind the link")


def test_collections():
    doc = S.get_json("/collections")
    ids = [c["id"] for c in doc["collections"]]
    eq(sorted(ids), sorted(harness.COLLECTIONS), "the six collections")
    check("self" in rels(doc), "collections self link")
    for c in doc["collections"]:
        check_collection(c)
        eq(S.get_json(f"/collections/{c['id']}"), c, f"/collections/{c['id']} is the same")


def test_queryables():
    for cid, layer in SCHEMA.items():
        r = S.get(f"/collections/{cid}/queryables")
        eq(r.status, 200, f"{cid} queryables")
        check(r.header("Content-Type") in ("application/schema+json", "application/json"),
              f"{cid} queryables Content-Type {r.header('Content-Type')}")
        q = r.json()
        eq(q["type"], "object", f"{cid} queryables type")
        check(q["$id"].endswith(f"/collections/{cid}/queryables"), f"{cid} $id")
        for f in layer["fields"]:
            check(f["name"] in q["properties"], f"{cid}: queryable {f['name']}")
            p = q["properties"][f["name"]]
            eq(p.get("title"), f["title"]["zh"], f"{cid}.{f['name']} title")
            if "enum" in f:
                eq(p.get("enum"), f["enum"], f"{cid}.{f['name']} enum")
        names = set(q["properties"]) - {"geometry", "area_m2", "area_mu"}
        eq(names, {f["name"] for f in layer["fields"]}, f"{cid}: nothing but the schema")


class Balance(html.parser.HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr",
            "source"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def html_page(path, must_show):
    r = S.get(path)
    eq(r.status, 200, f"{path} status")
    eq(r.header("Content-Type").split(";")[0], "text/html", f"{path} Content-Type")
    text = r.body.decode("utf-8")
    check(text.lstrip().lower().startswith("<!doctype html>"), f"{path}: an HTML document")
    b = Balance()
    b.feed(text)
    b.close()
    check(not b.errors and not b.stack, f"{path}: unbalanced tags {b.errors} {b.stack}")
    shown = "".join(b.text)
    for s in must_show:
        check(s in shown, f"{path}: page does not show {s!r}")
    return text


def test_html_pages():
    html_page("/?f=html", ["collections"])
    html_page("/collections?f=html", harness.COLLECTIONS)
    html_page("/collections/farmland?f=html", ["farmland", "农田"])
    codes = [f["properties"]["code"] for f in DATA["grids"]["features"]]
    html_page("/collections/grids/items?f=html", codes + ["网格员3"])
    fc = S.get_json("/collections/grids/items?code=W004")
    fid = fc["features"][0]["id"]
    html_page(f"/collections/grids/items/{fid}?f=html", ["W004", "网格员4"])
    html_page("/conformance?f=html", [CONF[0]])


def test_html_escapes():
    # a value with markup in it is shown as text, never as markup
    fc = S.get_json("/collections/communities/items?code=C00001")
    fid = fc["features"][0]["id"]
    text = html_page(f"/collections/communities/items/{fid}?f=html", [MARKUP])
    check("<script" not in text.lower(), "no script in the page")
    r = S.get("/collections/communities/items?name=%3Cb%3Ex%3C%2Fb%3E&f=html")
    eq(r.status, 200, "HTML with a markup-looking filter")
    check(b"<b>x</b>" not in r.body, "query text is escaped in links")


def test_accept_negotiation():
    cases = [
        ("/", "text/html", "text/html"),
        ("/", "application/json", "application/json"),
        ("/", "*/*", "application/json"),
        ("/", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("/collections", "application/json, text/html;q=0.5", "application/json"),
        ("/collections/parcels/items?limit=1", "application/geo+json", "application/geo+json"),
        ("/collections/parcels/items?limit=1", "text/html", "text/html"),
        ("/collections/parcels/items?limit=1&f=json", "text/html", "application/geo+json"),
        ("/collections?f=html", "application/json", "text/html"),
    ]
    for path, accept, want in cases:
        r = S.get(path, headers={"Accept": accept})
        eq(r.status, 200, f"{path} with Accept {accept}")
        eq(r.header("Content-Type").split(";")[0], want, f"{path} with Accept {accept}")
    for accept in ("image/png", "application/xml", "text/csv"):
        r = S.get("/collections", headers={"Accept": accept})
        eq(r.status, 406, f"Accept: {accept}")
        body = r.json()
        check("Accept" in body["description"], f"406 names the Accept header: {body}")


def test_head_and_health():
    r = S.request("HEAD", "/collections")
    eq(r.status, 200, "HEAD /collections")
    eq(r.body, b"", "HEAD has no body")
    eq(S.get_json("/health"), {"status": "ok"}, "/health")


TESTS = [test_landing_page, test_conformance, test_openapi, test_openapi_validator_catches,
         test_collections, test_queryables, test_html_pages, test_html_escapes,
         test_accept_negotiation, test_head_and_health]

if __name__ == "__main__":
    with harness.Server(demo=False, imports=list(DATA.items())) as S:
        failed = harness.run_all(TESTS)
    sys.exit(1 if failed else 0)
