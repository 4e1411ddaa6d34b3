"""After a write, no tile shows the old geometry: the tiles that the old and
new geometries touch are dropped from the cache at every zoom, the others
stay cached. Tiles are decoded with the independent decoder in mvt_decode."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import mvt_decode  # noqa: E402
from test_tiles import lonlat_to_tile  # noqa: E402

SRV = None
TOK = None
ZOOMS = range(12, 19)


def ring_of(feature):
    g = feature["geometry"]
    return g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]


def tile_path(lon, lat, z, combined=False):
    fx, fy = lonlat_to_tile(lon, lat, z)
    if combined:
        return f"/tiles/WebMercatorQuad/{z}/{int(fy)}/{int(fx)}?collections=parcels,villages"
    return f"/collections/parcels/tiles/WebMercatorQuad/{z}/{int(fy)}/{int(fx)}"


def feature_in(path, fid):
    res = SRV.get(path)
    assert res.status in (200, 204), (path, res.status)
    layers = mvt_decode.decode(res.body) if res.status == 200 else {}
    for f in layers.get("parcels", {}).get("features", []):
        if f["id"] == fid:
            return f, res.header("ETag")
    return None, res.header("ETag")


def test_patch_shows_at_once_at_every_zoom():
    feat = SRV.get("/collections/parcels/items?limit=1&offset=100").json()["features"][0]
    fid = feat["id"]
    ring = ring_of(feat)[:-1]
    cx = sum(p[0] for p in ring) / len(ring)
    cy = sum(p[1] for p in ring) / len(ring)
    before = {}
    for z in ZOOMS:
        for combined in (False, True):
            p = tile_path(cx, cy, z, combined)
            f, etag = feature_in(p, fid)
            assert f is not None, (p, "the parcel is in its tile before the write")
            before[p] = (f, etag)
    ext = SRV.get("/collections/parcels").json()["extent"]["spatial"]["bbox"][0]
    far = tile_path(ext[0] + 0.002 if abs(cx - ext[0]) > 0.02 else ext[2] - 0.002,
                    ext[1] + 0.002 if abs(cy - ext[1]) > 0.02 else ext[3] - 0.002, 14)
    far_etag = SRV.get(far).header("ETag")
    small = [[cx + 0.5 * (x - cx), cy + 0.5 * (y - cy)] for x, y in ring]
    small.append(small[0])
    res = SRV.request("PATCH", f"/collections/parcels/items/{fid}",
                      body={"geometry": {"type": "Polygon", "coordinates": [small]},
                            "properties": {"dlbm": "1202"}},
                      headers={"Authorization": "Bearer " + TOK,
                               "Content-Type": "application/merge-patch+json"})
    assert res.status == 200, res.body
    for p, (old, old_etag) in before.items():
        f, etag = feature_in(p, fid)
        assert f is not None, p
        assert etag != old_etag, (p, "a stale tile was served")
        assert f["tags"].get("dlbm") == "1202", (p, f["tags"])
        assert f["rings"] != old["rings"], (p, "the old geometry is still drawn")
    assert SRV.get(far).header("ETag") == far_etag, "a tile the write did not touch stays cached"
    res = SRV.request("DELETE", f"/collections/parcels/items/{fid}", headers={"Authorization": "Bearer " + TOK})
    assert res.status == 204
    for p in before:
        f, _ = feature_in(p, fid)
        assert f is None, (p, "a deleted parcel is still drawn")


if __name__ == "__main__":
    with harness.Server(demo=True) as SRV:
        TOK = SRV.token("tiles", "admin")
        harness.main([test_patch_shows_at_once_at_every_zoom])
