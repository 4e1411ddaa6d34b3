"""A small Mapbox Vector Tile 2.1 decoder written from the specification
(vector_tile.proto and its geometry encoding), independent of onemap's
encoder, for the tile tests. Standard library only."""
import struct


def _varint(b, i):
    shift = value = 0
    while True:
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return value, i


def fields(b):
    """Yields (field number, wire type, value) of one message; value is an
    int for varints and fixed types, bytes for length-delimited fields."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 1:
            v = b[i:i + 8]
            i += 8
        elif wire == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        elif wire == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError(f"wire type {wire} at byte {i}")
        yield num, wire, v


def packed(b):
    out, i = [], 0
    while i < len(b):
        v, i = _varint(b, i)
        out.append(v)
    return out


def unzigzag(n):
    return (n >> 1) ^ -(n & 1)


def value(b):
    for num, wire, v in fields(b):
        if num == 1:
            return v.decode("utf-8")
        if num == 2:
            return struct.unpack("<f", v)[0]
        if num == 3:
            return struct.unpack("<d", v)[0]
        if num == 4:
            return v - (1 << 64) if v >= 1 << 63 else v
        if num == 5:
            return v
        if num == 6:
            return unzigzag(v)
        if num == 7:
            return bool(v)
    raise ValueError("empty Value")


def rings(cmds):
    """Decodes a polygon command stream into rings of (x, y) points (not
    closed). Raises on anything a valid polygon stream cannot contain."""
    out, x, y, i, ring = [], 0, 0, 0, None
    while i < len(cmds):
        cid, count = cmds[i] & 7, cmds[i] >> 3
        i += 1
        if cid == 1:
            if count != 1:
                raise ValueError("MoveTo with count != 1 in a polygon")
            x += unzigzag(cmds[i])
            y += unzigzag(cmds[i + 1])
            i += 2
            ring = [(x, y)]
        elif cid == 2:
            if ring is None or count < 1:
                raise ValueError("LineTo without MoveTo")
            for _ in range(count):
                x += unzigzag(cmds[i])
                y += unzigzag(cmds[i + 1])
                i += 2
                ring.append((x, y))
        elif cid == 7:
            if ring is None or count != 1:
                raise ValueError("ClosePath without a ring")
            out.append(ring)
            ring = None
        else:
            raise ValueError(f"command {cid}")
    if ring is not None:
        raise ValueError("ring without ClosePath")
    return out


def area2(ring):
    """Twice the signed area by the surveyor's formula, in tile coordinates
    (y down): positive is clockwise on screen."""
    s = 0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        s += x0 * y1 - x1 * y0
    return s


def decode(data):
    """{layer name: {"version", "extent", "features": [{"id", "type",
    "tags": {key: value}, "rings": [...]}]}}"""
    layers = {}
    for num, wire, v in fields(data):
        if num != 3:
            raise ValueError(f"unexpected tile field {num}")
        layer = {"version": 1, "extent": 4096, "features": [], "keys": [], "values": []}
        raw = []
        for n, w, lv in fields(v):
            if n == 1:
                layer["name"] = lv.decode("utf-8")
            elif n == 2:
                raw.append(lv)
            elif n == 3:
                layer["keys"].append(lv.decode("utf-8"))
            elif n == 4:
                layer["values"].append(value(lv))
            elif n == 5:
                layer["extent"] = lv
            elif n == 15:
                layer["version"] = lv
        for fb in raw:
            f = {"id": None, "type": 0, "tags": {}, "rings": []}
            for n, w, fv in fields(fb):
                if n == 1:
                    f["id"] = fv
                elif n == 2:
                    t = packed(fv)
                    if len(t) % 2:
                        raise ValueError("odd tag count")
                    for k, val in zip(t[::2], t[1::2]):
                        f["tags"][layer["keys"][k]] = layer["values"][val]
                elif n == 3:
                    f["type"] = fv
                elif n == 4:
                    f["rings"] = rings(packed(fv))
            layer["features"].append(f)
        layers[layer["name"]] = layer
    return layers


def polygons(rings_):
    """Groups rings into polygons by the MVT 2.1 rule: a positive-area ring
    opens a polygon, negative-area rings that follow are its holes."""
    out = []
    for r in rings_:
        a = area2(r)
        if a > 0:
            out.append([r])
        elif a < 0:
            if not out:
                raise ValueError("hole before any exterior ring")
            out[-1].append(r)
        else:
            raise ValueError("zero-area ring")
    return out
