// Independent reference geometry for the browser tests: geodesic areas on
// the CGCS2000/GRS80 ellipsoid through the Lambert cylindrical equal-area
// projection (as tests/api/geo.py), point in polygon, and an interior point.
const A = 6378137.0;
const F = 1 / 298.257222101;
const E2 = F * (2 - F);
const E = Math.sqrt(E2);
export const MU = 10000 / 15;

function q(phi) {
  const s = Math.sin(phi);
  return (1 - E2) * (s / (1 - E2 * s * s) - (1 / (2 * E)) * Math.log((1 - E * s) / (1 + E * s)));
}

function ringArea(ring) {
  const pts = ring.map(([lon, lat]) => [A * (lon * Math.PI) / 180, (A * q((lat * Math.PI) / 180)) / 2]);
  let s = 0;
  for (let i = 0; i < pts.length; i++) {
    const [x0, y0] = pts[i];
    const [x1, y1] = pts[(i + 1) % pts.length];
    s += x0 * y1 - x1 * y0;
  }
  return Math.abs(s) / 2;
}

export function polygonsOf(g) {
  return g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
}

export function areaM2(g) {
  return polygonsOf(g).reduce((s, rings) => s + ringArea(rings[0]) - rings.slice(1).reduce((t, r) => t + ringArea(r), 0), 0);
}

function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function contains(g, p) {
  return polygonsOf(g).some((rings) => inRing(p, rings[0]) && !rings.slice(1).some((r) => inRing(p, r)));
}

export function bbox(g) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const rings of polygonsOf(g)) for (const r of rings) for (const [x, y] of r) {
    b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
  }
  return b;
}

// The middle of the widest span of the horizontal line through the middle.
export function interiorPoint(g) {
  const b = bbox(g);
  const y = (b[1] + b[3]) / 2;
  const xs = [];
  for (const rings of polygonsOf(g)) for (const r of rings) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const [xi, yi] = r[i];
      const [xj, yj] = r[j];
      if ((yi > y) !== (yj > y)) xs.push(xi + ((y - yi) * (xj - xi)) / (yj - yi));
    }
  }
  xs.sort((a, c) => a - c);
  let best = [xs[0], xs[1]];
  for (let i = 0; i + 1 < xs.length; i += 2) if (xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
  return [(best[0] + best[1]) / 2, y];
}

// Web Mercator metres of a lon/lat point (the map's projection).
export function mercator([lon, lat]) {
  const R = 6378137;
  return [(R * lon * Math.PI) / 180, R * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))];
}
