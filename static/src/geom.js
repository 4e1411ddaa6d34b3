// geom: small planar predicates on GeoJSON polygons in lon/lat, enough to
// pick the features to highlight for an area (the figures themselves always
// come from the server's geodesic statistics). "Interiors meet" ignores
// neighbours that only share an edge or a corner with the area.

function polygonsOf(g) {
  if (!g) return [];
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  if (g.type === 'GeometryCollection') return g.geometries.flatMap(polygonsOf);
  return [];
}

export function bboxOf(g) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of polygonsOf(g)) for (const ring of poly) for (const [x, y] of ring) {
    if (x < b[0]) b[0] = x;
    if (y < b[1]) b[1] = y;
    if (x > b[2]) b[2] = x;
    if (y > b[3]) b[3] = y;
  }
  return b;
}

function boxesMeet(a, b) {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

const EPS = 1e-10; // degrees: about 0.01 mm

function onSegment(p, a, b) {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  if (Math.abs(cross) > EPS * Math.max(len, 1e-12)) return false;
  return p[0] >= Math.min(a[0], b[0]) - EPS && p[0] <= Math.max(a[0], b[0]) + EPS
    && p[1] >= Math.min(a[1], b[1]) - EPS && p[1] <= Math.max(a[1], b[1]) + EPS;
}

// 1 inside, 0 on the boundary, -1 outside the ring
function inRing(p, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (onSegment(p, a, b)) return 0;
    if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside ? 1 : -1;
}

// 'in', 'on' or 'out' of a (multi)polygon given as a list of polygons
function locate(p, polys) {
  let on = false;
  for (const poly of polys) {
    const outer = inRing(p, poly[0]);
    if (outer < 0) continue;
    if (outer === 0) {
      on = true;
      continue;
    }
    let state = 'in';
    for (const hole of poly.slice(1)) {
      const r = inRing(p, hole);
      if (r === 1) state = 'out';
      else if (r === 0) state = 'on';
    }
    if (state === 'in') return 'in';
    if (state === 'on') on = true;
  }
  return on ? 'on' : 'out';
}

// A point strictly inside the polygon list: the middle of the widest span
// of a horizontal line through it.
export function interiorPoint(polys) {
  const b = bboxOf({ type: 'MultiPolygon', coordinates: polys });
  if (!Number.isFinite(b[0])) return null;
  for (const f of [0.5, 0.37, 0.63, 0.21, 0.79]) {
    const y = b[1] + (b[3] - b[1]) * f;
    const xs = [];
    for (const poly of polys) for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const a = ring[i];
        const c = ring[j];
        if ((a[1] > y) !== (c[1] > y)) xs.push(a[0] + ((y - a[1]) * (c[0] - a[0])) / (c[1] - a[1]));
      }
    }
    xs.sort((p, q) => p - q);
    let best = null;
    for (let i = 0; i + 1 < xs.length; i += 2) {
      if (!best || xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
    }
    if (best && best[1] > best[0]) {
      const p = [(best[0] + best[1]) / 2, y];
      if (locate(p, polys) === 'in') return p;
    }
  }
  return null;
}

function orient(a, b, c) {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return Math.abs(v) < 1e-20 ? 0 : Math.sign(v);
}

function properCross(a, b, c, d) {
  return orient(a, b, c) * orient(a, b, d) < 0 && orient(c, d, a) * orient(c, d, b) < 0;
}

function edges(polys) {
  const out = [];
  for (const poly of polys) for (const ring of poly) {
    for (let i = 1; i < ring.length; i++) out.push([ring[i - 1], ring[i]]);
  }
  return out;
}

function anyPointIn(polysA, polysB) {
  for (const [a, b] of edges(polysA)) {
    if (locate(a, polysB) === 'in') return true;
    if (locate([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], polysB) === 'in') return true;
  }
  const p = interiorPoint(polysA);
  return !!p && locate(p, polysB) === 'in';
}

// Whether the interiors of two GeoJSON (multi)polygons meet.
export function interiorsMeet(ga, gb) {
  const A = polygonsOf(ga);
  const B = polygonsOf(gb);
  if (!A.length || !B.length || !boxesMeet(bboxOf(ga), bboxOf(gb))) return false;
  if (anyPointIn(A, B) || anyPointIn(B, A)) return true;
  const eb = edges(B);
  for (const [a, b] of edges(A)) {
    for (const [c, d] of eb) if (properCross(a, b, c, d)) return true;
  }
  return false;
}
