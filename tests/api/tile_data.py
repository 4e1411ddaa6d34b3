"""Synthetic governance data for the tile tests and the tile benchmark: a
jittered lattice of parcels whose neighbours share their (wiggly, densified)
edges exactly, some with holes filled by island parcels, some MultiPolygons,
and villages and grids whose outlines run along the same parcel edges.
Deterministic for a given seed. Standard library only."""
import json
import random

LON0, LAT0 = 118.38, 29.10
CELL = 0.0008  # degrees: about 78 m x 89 m at 29 N


class Lattice:
    def __init__(self, nx, ny, seed=7, wiggle_points=4):
        self.nx, self.ny, self.k = nx, ny, wiggle_points
        rnd = random.Random(seed)
        self.rnd = rnd
        self.p = [[(LON0 + i * CELL + rnd.uniform(-0.2, 0.2) * CELL,
                    LAT0 + j * CELL + rnd.uniform(-0.2, 0.2) * CELL)
                   for j in range(ny + 1)] for i in range(nx + 1)]
        self.edges = {}

    def edge(self, a, b):
        """Points from lattice node a to node b, excluding b; the same
        points (reversed) for b to a."""
        key = (a, b) if a < b else (b, a)
        if key not in self.edges:
            (x0, y0), (x1, y1) = self.p[key[0][0]][key[0][1]], self.p[key[1][0]][key[1][1]]
            pts = [(x0, y0)]
            for s in range(1, self.k + 1):
                t = s / (self.k + 1)
                w = self.rnd.uniform(-0.06, 0.06)
                pts.append((x0 + (x1 - x0) * t - (y1 - y0) * w, y0 + (y1 - y0) * t + (x1 - x0) * w))
            pts.append((x1, y1))
            self.edges[key] = pts
        pts = self.edges[key]
        return pts[:-1] if key[0] == a else list(reversed(pts))[:-1]

    def outline(self, nodes):
        """The closed ring through the lattice nodes (a loop), counter-clockwise."""
        ring = []
        for a, b in zip(nodes, nodes[1:] + nodes[:1]):
            ring.extend(self.edge(a, b))
        ring.append(ring[0])
        return [[round(x, 9), round(y, 9)] for x, y in ring]

    def block(self, i0, j0, i1, j1):
        """The outline of cells i0..i1-1 x j0..j1-1 along lattice edges."""
        nodes = [(i, j0) for i in range(i0, i1)] + [(i1, j) for j in range(j0, j1)]
        nodes += [(i, j1) for i in range(i1, i0, -1)] + [(i0, j) for j in range(j1, j0, -1)]
        return self.outline(nodes)


def hole_square(lat, i, j, frac=0.12):
    """A small square in the middle of cell i, j (clockwise: a hole)."""
    (x0, y0), (x1, y1) = lat.p[i][j], lat.p[i + 1][j + 1]
    cx, cy, h = (x0 + x1) / 2, (y0 + y1) / 2, CELL * frac
    ring = [(cx - h, cy - h), (cx - h, cy + h), (cx + h, cy + h), (cx + h, cy - h), (cx - h, cy - h)]
    return [[round(x, 9), round(y, 9)] for x, y in ring]


def feature(props, geom):
    return {"type": "Feature", "properties": props, "geometry": geom}


def parcels(lat):
    """One parcel per cell; every 7th cell has a hole holding an island
    parcel; every 11th pair of cells two apart is one MultiPolygon."""
    out, used = [], set()
    classes = [("0101", "水田"), ("0103", "旱地"), ("0201", "果园"), ("0301", "乔木林地"),
               ("0702", "农村宅基地"), ("1003", "公路用地")]
    n = 0
    for i in range(lat.nx):
        for j in range(lat.ny):
            if (i, j) in used:
                continue
            n += 1
            dlbm, dlmc = classes[(i * 7 + j * 3) % len(classes)]
            props = {"code": f"P{n:06d}", "dlbm": dlbm, "dlmc": dlmc,
                     "qsxz": "集体" if (i + j) % 3 else "国有",
                     "village_code": f"3308241{(i // 30) * 10 + j // 30:05d}",
                     "owner": f"第{(i + j) % 9 + 1}村民小组"}
            shell = lat.outline([(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)])
            if n % 7 == 0:
                hole = hole_square(lat, i, j)
                out.append(feature(props, {"type": "Polygon", "coordinates": [shell, hole]}))
                n += 1
                island = {**props, "code": f"P{n:06d}", "dlbm": "1101", "dlmc": "河流水面"}
                out.append(feature(island, {"type": "Polygon",
                                            "coordinates": [list(reversed(hole))]}))
            elif n % 11 == 0 and i + 2 < lat.nx and (i + 2, j) not in used:
                used.add((i + 2, j))
                other = lat.outline([(i + 2, j), (i + 3, j), (i + 3, j + 1), (i + 2, j + 1)])
                out.append(feature(props, {"type": "MultiPolygon",
                                           "coordinates": [[shell], [other]]}))
            else:
                out.append(feature(props, {"type": "Polygon", "coordinates": [shell]}))
    return out


def blocks(lat, size, make):
    out = []
    for i0 in range(0, lat.nx, size):
        for j0 in range(0, lat.ny, size):
            i1, j1 = min(i0 + size, lat.nx), min(j0 + size, lat.ny)
            out.append(feature(make(len(out) + 1, i0, j0),
                               {"type": "Polygon", "coordinates": [lat.block(i0, j0, i1, j1)]}))
    return out


def villages(lat, size=30):
    return blocks(lat, size, lambda n, i, j: {
        "code": f"3308241{(i // size) * 10 + j // size:05d}", "name": f"测试村{n}",
        "kind": "村", "households": 100 + n, "population": 300 + 3 * n})


def grids(lat, size=10):
    return blocks(lat, size, lambda n, i, j: {
        "code": f"G{n:04d}", "name": f"第{n}网格", "level": "网格",
        "village_code": f"3308241{(i // 30) * 10 + j // 30:05d}", "manager": f"网格员{n}",
        "phone": f"1380000{n:04d}"})


def write(path, features):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": features}, f, ensure_ascii=False)


def make_all(directory, nx, ny, seed=7):
    """Writes parcels/villages/grids .geojson into directory; returns paths."""
    lat = Lattice(nx, ny, seed)
    paths = {}
    for name, feats in (("parcels", parcels(lat)), ("villages", villages(lat)),
                        ("grids", grids(lat))):
        paths[name] = f"{directory}/{name}.geojson"
        write(paths[name], feats)
    return paths


if __name__ == "__main__":
    import sys
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    print(make_all(out, n, n))
