// shapefile: reads a zipped Shapefile in the browser, only to draw an
// upload's new boundaries before it is sent (the server reads the file for
// real). Zip entries stored or deflated (fflate, so it works without the
// browser's DecompressionStream: Chromium before 103, node 18), .shp
// polygons (rings grouped into polygons by orientation), the key field of
// the .dbf (text in the .cpg's encoding, else GBK), and a .prj in lon/lat or
// CGCS2000 Gauss-Kruger (transverse Mercator, inverted here). Returns null
// for what it cannot draw.
import { unzipSync } from 'fflate';

const KEY_NAMES = ['CODE', 'TBBH', 'CJDM', 'XZQDM'];

// What the preview inflates at most, all entries together, and how many
// entries it looks at: a zip bomb must not eat the tab's memory (the server,
// with its own limits, still reads the file).
export const MAX_UNZIPPED = 256 * 1024 * 1024;
const MAX_ENTRIES = 4096;

// {name (lower case, without folders): Uint8Array} of the stored or deflated
// files in a zip whose names pass want (entries compressed otherwise are
// skipped), or null when buf is not a zip. The sizes the central directory
// declares are checked against max before anything is inflated, and each
// entry inflates into a buffer of its declared size, which cannot grow: an
// entry that lies about its size is cut there. Throws an Error for entries
// declaring more than max bytes together, or for corrupt data.
export async function unzip(buf, { want = () => true, max = MAX_UNZIPPED } = {}) {
  const bytes = new Uint8Array(buf);
  let total = 0;
  let entries = 0;
  const base = (name) => name.split(/[\\/]/).pop().toLowerCase();
  const filter = (f) => {
    if (++entries > MAX_ENTRIES) throw new Error(`zip: more than ${MAX_ENTRIES} entries`);
    if ((f.compression !== 0 && f.compression !== 8) || !want(base(f.name))) return false;
    total += f.originalSize;
    if (!(total <= max)) throw new Error(`zip: the Shapefile inflates to more than the preview's limit of ${max} bytes`);
    return true;
  };
  let got;
  try {
    got = unzipSync(bytes, { filter });
  } catch (e) {
    if (e && e.code === 13) return null; // fflate: no end of central directory
    throw e;
  }
  const files = {};
  for (const [name, data] of Object.entries(got)) files[base(name)] = data;
  return files;
}

function byExt(files, ext) {
  const k = Object.keys(files).find((n) => n.endsWith(ext));
  return k ? files[k] : null;
}

function signedArea(ring) {
  let s = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) s += (ring[i][0] - ring[j][0]) * (ring[i][1] + ring[j][1]);
  return s / 2; // > 0 clockwise (shapefile outer rings)
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

// Rings -> GeoJSON polygon coordinates: clockwise rings are shells, the
// others holes of the shell that holds them.
function polygons(rings) {
  const shells = [];
  const holes = [];
  for (const r of rings) (signedArea(r) >= 0 ? shells : holes).push(r);
  const polys = shells.map((s) => [s.slice().reverse()]); // RFC 7946: shells counter-clockwise
  for (const hole of holes) {
    const owner = polys.find((p) => inRing(hole[0], p[0])) || polys[polys.length - 1];
    if (owner) owner.push(hole.slice().reverse());
  }
  return polys;
}

// Geometries of a .shp (null for records that are not polygons).
export function readShp(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  let p = 100;
  while (p + 8 <= bytes.length) {
    const len = dv.getInt32(p + 4, false) * 2;
    const c = p + 8;
    p = c + len;
    if (len < 4 || p > bytes.length) break;
    const type = dv.getInt32(c, true);
    if (type !== 5 && type !== 15 && type !== 25) {
      out.push(null);
      continue;
    }
    const nParts = dv.getInt32(c + 36, true);
    const nPoints = dv.getInt32(c + 40, true);
    const parts = [];
    for (let i = 0; i < nParts; i++) parts.push(dv.getInt32(c + 44 + 4 * i, true));
    const pts = c + 44 + 4 * nParts;
    const rings = parts.map((start, i) => {
      const end = i + 1 < nParts ? parts[i + 1] : nPoints;
      const ring = [];
      for (let k = start; k < end; k++) ring.push([dv.getFloat64(pts + 16 * k, true), dv.getFloat64(pts + 16 * k + 8, true)]);
      return ring;
    });
    const polys = polygons(rings);
    out.push(polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys });
  }
  return out;
}

function encodingOf(cpg) {
  const s = cpg ? new TextDecoder().decode(cpg).trim().toLowerCase() : '';
  if (!s) return 'gbk';
  if (/^(utf-?8|65001)$/.test(s)) return 'utf-8';
  if (/^(936|cp936|gb2312|gbk|gb18030)$/.test(s)) return 'gbk';
  return s;
}

// The key of each .dbf record (its code field or a 三调 alias), deleted ones as null.
export function readDbfKeys(bytes, cpg) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(4, true);
  const headerLen = dv.getUint16(8, true);
  const recordLen = dv.getUint16(10, true);
  let decoder;
  try {
    decoder = new TextDecoder(encodingOf(cpg));
  } catch (e) {
    decoder = new TextDecoder('gbk');
  }
  let offset = 1;
  let key = null;
  for (let p = 32; p + 32 <= headerLen && bytes[p] !== 0x0d; p += 32) {
    const name = new TextDecoder('latin1').decode(bytes.subarray(p, p + 11)).replace(/\0.*$/, '').toUpperCase();
    const len = bytes[p + 16];
    if (!key && KEY_NAMES.includes(name)) key = { offset, len };
    offset += len;
  }
  const keys = [];
  for (let i = 0; i < n; i++) {
    const r = headerLen + i * recordLen;
    if (r + recordLen > bytes.length) break;
    if (bytes[r] === 0x2a) keys.push(null);
    else keys.push(key ? decoder.decode(bytes.subarray(r + key.offset, r + key.offset + key.len)).trim() : undefined);
  }
  return keys;
}

// Inverse transverse Mercator on GRS80 (Snyder, Map Projections, 1987, p. 63).
function tmInverse(x, y, lon0, k0, fe, fn) {
  const a = 6378137;
  const f = 1 / 298.257222101;
  const e2 = f * (2 - f);
  const ep2 = e2 / (1 - e2);
  const m = (y - fn) / k0;
  const mu = m / (a * (1 - e2 / 4 - (3 * e2 * e2) / 64 - (5 * e2 ** 3) / 256));
  const e1 = (1 - Math.sqrt(1 - e2)) / (1 + Math.sqrt(1 - e2));
  const phi1 = mu + ((3 * e1) / 2 - (27 * e1 ** 3) / 32) * Math.sin(2 * mu)
    + ((21 * e1 * e1) / 16 - (55 * e1 ** 4) / 32) * Math.sin(4 * mu)
    + ((151 * e1 ** 3) / 96) * Math.sin(6 * mu) + ((1097 * e1 ** 4) / 512) * Math.sin(8 * mu);
  const s = Math.sin(phi1);
  const c = Math.cos(phi1);
  const t1 = Math.tan(phi1) ** 2;
  const c1 = ep2 * c * c;
  const n1 = a / Math.sqrt(1 - e2 * s * s);
  const r1 = (a * (1 - e2)) / (1 - e2 * s * s) ** 1.5;
  const d = (x - fe) / (n1 * k0);
  const lat = phi1 - ((n1 * Math.tan(phi1)) / r1) * ((d * d) / 2
    - ((5 + 3 * t1 + 10 * c1 - 4 * c1 * c1 - 9 * ep2) * d ** 4) / 24
    + ((61 + 90 * t1 + 298 * c1 + 45 * t1 * t1 - 252 * ep2 - 3 * c1 * c1) * d ** 6) / 720);
  const lon = (d - ((1 + 2 * t1 + c1) * d ** 3) / 6
    + ((5 - 2 * c1 + 28 * t1 - 3 * c1 * c1 + 8 * ep2 + 24 * t1 * t1) * d ** 5) / 120) / c;
  return [lon0 + (lon * 180) / Math.PI, (lat * 180) / Math.PI];
}

function param(wkt, name) {
  const m = new RegExp(`PARAMETER\\["${name}",\\s*(-?[0-9.eE+-]+)`, 'i').exec(wkt);
  return m ? Number(m[1]) : null;
}

// A function (x, y) -> [lon, lat] for the .prj (none: lon/lat), or null.
export function toLonLat(prj) {
  const wkt = prj ? new TextDecoder().decode(prj) : '';
  if (!/PROJCS/i.test(wkt)) return (x, y) => [x, y];
  if (!/Transverse_Mercator|Gauss/i.test(wkt)) return null;
  const lon0 = param(wkt, 'central_meridian');
  const k0 = param(wkt, 'scale_factor') ?? 1;
  const fe = param(wkt, 'false_easting') ?? 0;
  const fn = param(wkt, 'false_northing') ?? 0;
  if (lon0 === null || (param(wkt, 'latitude_of_origin') || 0) !== 0) return null;
  return (x, y) => tmInverse(x, y, lon0, k0, fe, fn);
}

function mapCoords(g, f) {
  const ring = (r) => r.map(([x, y]) => f(x, y));
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: g.coordinates.map(ring) };
  return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(ring)) };
}

// A GeoJSON FeatureCollection (CRS84, properties {code}) of a zipped
// Shapefile, or null when it cannot be drawn; throws as unzip does (only its
// .shp, .dbf, .prj and .cpg are inflated and counted against the limit).
export async function shapefileToGeoJSON(buf) {
  const files = await unzip(buf, { want: (n) => /\.(shp|dbf|prj|cpg)$/.test(n) });
  const shp = files && byExt(files, '.shp');
  if (!shp) return null;
  const project = toLonLat(byExt(files, '.prj'));
  if (!project) return null;
  const geoms = readShp(shp);
  const dbf = byExt(files, '.dbf');
  const keys = dbf ? readDbfKeys(dbf, byExt(files, '.cpg')) : [];
  const features = [];
  geoms.forEach((g, i) => {
    if (!g || keys[i] === null) return;
    features.push({ type: 'Feature', properties: { code: keys[i] }, geometry: mapCoords(g, project) });
  });
  return { type: 'FeatureCollection', features };
}
