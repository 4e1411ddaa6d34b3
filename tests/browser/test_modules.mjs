// The viewer's pure modules under node, without a browser: the planar
// predicates that pick the features to highlight (geom.js) and the in-browser
// Shapefile reader of the upload preview (shapefile.js), the latter against
// files that GDAL writes (zone-prefixed Gauss-Kruger, GBK text, holes,
// multipolygons) and coordinates that PROJ's cs2cs computes, without the
// DecompressionStream that node 18 and Chromium before 103 lack, and against
// zips that declare or inflate to more than the preview reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { SRC, assert, near, run } from './harness.mjs';

const geom = await import(path.join(SRC, 'static', 'src', 'geom.js'));
const shp = await import(path.join(SRC, 'static', 'src', 'shapefile.js'));

const square = (x0, y0, x1, y1) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });

async function testInteriorsMeet() {
  const a = square(0, 0, 1, 1);
  assert(geom.interiorsMeet(a, square(0.5, 0.5, 2, 2)), 'overlapping squares');
  assert(geom.interiorsMeet(a, square(0.2, 0.2, 0.4, 0.4)), 'one inside the other');
  assert(geom.interiorsMeet(square(0.2, 0.2, 0.4, 0.4), a), 'the other inside the one');
  assert(geom.interiorsMeet(a, square(0, 0, 1, 1)), 'the same square');
  assert(!geom.interiorsMeet(a, square(1, 0, 2, 1)), 'neighbours sharing an edge');
  assert(!geom.interiorsMeet(a, square(1, 0.3, 2, 0.6)), 'neighbours sharing part of an edge');
  assert(!geom.interiorsMeet(a, square(1, 1, 2, 2)), 'touching at a corner');
  assert(!geom.interiorsMeet(a, square(3, 3, 4, 4)), 'apart');
  // a cross: no vertex of either inside the other, only crossing edges
  assert(geom.interiorsMeet(square(0, 0.4, 1, 0.6), square(0.4, 0, 0.6, 1)), 'a cross');
  // a strip spanning the square with every vertex on its boundary
  assert(geom.interiorsMeet(a, { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }), 'a triangle on the corners');
  // a hole: the small square sits in the hole of a, so they do not meet
  const holed = { type: 'Polygon', coordinates: [a.coordinates[0], [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]] };
  assert(!geom.interiorsMeet(holed, square(0.3, 0.3, 0.7, 0.7)), 'inside the hole');
  assert(geom.interiorsMeet(holed, square(0.1, 0.3, 0.7, 0.7)), 'across the hole edge');
  const multi = { type: 'MultiPolygon', coordinates: [square(5, 5, 6, 6).coordinates, a.coordinates] };
  assert(geom.interiorsMeet(multi, square(0.5, 0.5, 0.6, 0.6)), 'the second part of a multipolygon');
  const p = geom.interiorPoint([[[[0, 0], [4, 0], [4, 1], [1, 1], [1, 4], [0, 4], [0, 0]]]]);
  const inL = p && ((p[0] > 0 && p[0] < 1 && p[1] > 0 && p[1] < 4) || (p[1] > 0 && p[1] < 1 && p[0] > 0 && p[0] < 4));
  assert(inL, `an L shape's interior point ${p}`);
}

function sh(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  assert(r.status === 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// GDAL writes the Shapefile, python3 zips it (deflated) into dir/s.zip.
function gdalZip(dir) {
  const hole = [[118.5, 29.1], [118.5, 29.102], [118.502, 29.102], [118.502, 29.1], [118.5, 29.1]];
  const fc = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { TBBH: '图斑-001' }, geometry: { type: 'Polygon', coordinates: [[[118.49, 29.09], [118.51, 29.09], [118.51, 29.11], [118.49, 29.11], [118.49, 29.09]], hole] } },
      { type: 'Feature', properties: { TBBH: '图斑-002' }, geometry: { type: 'MultiPolygon', coordinates: [[[[118.52, 29.09], [118.53, 29.09], [118.53, 29.1], [118.52, 29.09]]], [[[118.54, 29.09], [118.55, 29.09], [118.55, 29.1], [118.54, 29.09]]]] } },
    ],
  };
  writeFileSync(path.join(dir, 'in.geojson'), JSON.stringify(fc));
  // EPSG:4528: CGCS2000 3-degree Gauss-Kruger zone 40, eastings prefixed with 40
  sh('ogr2ogr', ['-f', 'ESRI Shapefile', '-t_srs', 'EPSG:4528', '-lco', 'ENCODING=CP936', path.join(dir, 's.shp'), path.join(dir, 'in.geojson')]);
  sh('python3', ['-c', `import zipfile,os,sys
d=sys.argv[1]
with zipfile.ZipFile(os.path.join(d,'s.zip'),'w',zipfile.ZIP_DEFLATED) as z:
    for e in ('shp','shx','dbf','prj','cpg'):
        if os.path.exists(os.path.join(d,'s.'+e)): z.write(os.path.join(d,'s.'+e),'dir/S.'+e.upper())`, dir]);
  const buf = readFileSync(path.join(dir, 's.zip'));
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

// The GDAL zip read; cs2cs says where the projected vertices lie in lon/lat.
async function testShapefileReader() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onemap-shpjs-'));
  try {
    const out = await shp.shapefileToGeoJSON(gdalZip(dir));
    assert(out && out.features.length === 2, 'two features read');
    assert(out.features[0].properties.code === '图斑-001', `GBK key: ${out.features[0].properties.code}`);
    const g0 = out.features[0].geometry;
    assert(g0.type === 'Polygon' && g0.coordinates.length === 2, 'a polygon with its hole');
    const g1 = out.features[1].geometry;
    assert(g1.type === 'MultiPolygon' && g1.coordinates.length === 2, 'a multipolygon of two parts');
    // every vertex, against PROJ: the file's projected coordinates back to lon/lat
    const projected = JSON.parse(sh('ogr2ogr', ['-f', 'GeoJSON', '/vsistdout/', path.join(dir, 's.shp')]));
    const xy = projected.features.flatMap((f) => (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat(2));
    const ll = sh('cs2cs', ['-f', '%.10f', 'EPSG:4528', 'EPSG:4490'], xy.map(([x, y]) => `${y} ${x}`).join('\n'))
      .trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).map(Number)).map(([lat, lon]) => [lon, lat]);
    const mine = out.features.flatMap((f) => (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat(2));
    assert(mine.length === ll.length, `${mine.length} vertices = ${ll.length}`);
    for (const [x, y] of mine) {
      const d = Math.min(...ll.map(([a, b]) => Math.hypot(a - x, b - y)));
      assert(d < 1e-8, `vertex ${x},${y} is ${d} degrees from PROJ's`);
    }
    // RFC 7946 winding: shells counter-clockwise, holes clockwise
    const area2 = (r) => r.reduce((s, p, i) => s + (i ? (r[i - 1][0] * p[1] - p[0] * r[i - 1][1]) : 0), 0);
    assert(area2(g0.coordinates[0]) > 0 && area2(g0.coordinates[1]) < 0, 'winding of shell and hole');
    near(g0.coordinates[1][0][0], 118.5, 1e-7, 'the hole where it was');
    assert(await shp.unzip(new Uint8Array([1, 2, 3]).buffer) === null, 'not a zip');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The compression method of each entry in a zip's central directory.
function methods(buf) {
  const b = Buffer.from(buf);
  const out = [];
  for (let i = b.indexOf(Buffer.from([0x50, 0x4b, 1, 2])); i >= 0; i = b.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), i + 4)) out.push(b.readUInt16LE(i + 10));
  return out;
}

// Without DecompressionStream, as on node 18 and Chromium before 103: the
// GDAL zip, its entries deflated, still reads.
async function testWithoutDecompressionStream() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onemap-shpjs-'));
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'DecompressionStream');
  try {
    const buf = gdalZip(dir);
    const m = methods(buf);
    assert(m.length >= 4 && m.every((x) => x === 8), `every entry deflated (${m})`);
    delete globalThis.DecompressionStream;
    assert(typeof DecompressionStream === 'undefined', 'DecompressionStream is gone');
    const out = await shp.shapefileToGeoJSON(buf);
    assert(out && out.features.length === 2, 'two features read without DecompressionStream');
    assert(out.features.map((f) => f.properties.code).join() === '图斑-001,图斑-002', 'their keys');
  } finally {
    if (saved) Object.defineProperty(globalThis, 'DecompressionStream', saved);
    rmSync(dir, { recursive: true, force: true });
  }
}

// A zip of entries {name, data, method (8 deflated, the default; 0 stored;
// others stored as they are), size (the uncompressed size the headers
// declare, else data's)}. CRCs are left 0: the reader does not check them.
function makeZip(entries) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const method = e.method ?? 8;
    const body = method === 8 ? zlib.deflateRawSync(e.data) : Buffer.from(e.data);
    const size = e.size ?? e.data.length;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    parts.push(lh, name, body);
    central.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...parts, cd, end]);
  return zip.buffer.slice(zip.byteOffset, zip.byteOffset + zip.byteLength);
}

async function rejects(promise, re, what) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert(err && re.test(err.message), `${what}: ${err ? err.message : 'not refused'}`);
}

// The preview's bounds: sizes declared in the central directory are checked
// before inflating, and an entry that lies about its size cannot grow beyond it.
async function testZipBounds() {
  const text = Buffer.from('onemap '.repeat(200));
  const plain = await shp.unzip(makeZip([{ name: 'a/B.TXT', data: text, method: 0 }, { name: 'c.txt', data: text }]));
  assert(plain && Object.keys(plain).sort().join() === 'b.txt,c.txt', `entries by lower-case base name: ${plain && Object.keys(plain)}`);
  assert(Buffer.from(plain['b.txt']).equals(text) && Buffer.from(plain['c.txt']).equals(text), 'stored and deflated entries read');
  const tooLarge = /inflates to more than the preview's limit of \d+ bytes/;
  // one entry declaring 3.75 GB, the Shapefile too, and entries that do together
  const huge = makeZip([{ name: 's.shp', data: text, size: 0xf0000000 }]);
  assert(0xf0000000 > shp.MAX_UNZIPPED, 'the limit is below 3.75 GB');
  await rejects(shp.unzip(huge), tooLarge, 'an entry declaring 3.75 GB');
  await rejects(shp.shapefileToGeoJSON(huge), tooLarge, 'a Shapefile declaring 3.75 GB');
  const half = Math.floor(shp.MAX_UNZIPPED / 2) + 1;
  await rejects(shp.unzip(makeZip([{ name: 's.shp', data: text, size: half }, { name: 's.dbf', data: text, size: half }])), tooLarge,
    'two entries declaring more than the limit together');
  await rejects(shp.unzip(makeZip([{ name: 'c.txt', data: text }]), { max: 100 }), tooLarge, 'a lower limit');
  // what the Shapefile reader does not want is not read, nor counted
  const aside = await shp.unzip(makeZip([{ name: 's.shp.xml', data: text, size: 0xf0000000 }, { name: 'c.txt', data: text }]), { want: (n) => n.endsWith('.txt') });
  assert(Object.keys(aside).join() === 'c.txt', 'an unwanted large entry is skipped');
  // a bomb declaring 1000 bytes and inflating to 64 MiB of zeros is cut at 1000
  const bomb = await shp.unzip(makeZip([{ name: 's.shp', data: Buffer.alloc(64 << 20), size: 1000 }]));
  assert(bomb['s.shp'].length === 1000 && bomb['s.shp'].buffer.byteLength === 1000, `the bomb cut at its declared size (${bomb['s.shp'].buffer.byteLength})`);
  // other compression methods (12: bzip2) are skipped, as before
  const bz = await shp.unzip(makeZip([{ name: 's.shp', data: text, method: 12 }, { name: 'c.txt', data: text, method: 0 }]));
  assert(Object.keys(bz).join() === 'c.txt', 'a bzip2 entry is skipped');
  assert(await shp.shapefileToGeoJSON(makeZip([{ name: 's.shp', data: text, method: 12 }])) === null, 'a bzip2 Shapefile is not drawn');
  assert(await shp.shapefileToGeoJSON(new Uint8Array(100).buffer) === null, 'not a zip, not drawn');
}

const failed = await run([
  ['geom: interiors meet, not edges', testInteriorsMeet],
  ['shapefile: GDAL zip, GBK, holes, Gauss-Kruger vs PROJ', testShapefileReader],
  ['shapefile: deflated zip without DecompressionStream', testWithoutDecompressionStream],
  ['shapefile: zip bounds, declared and actual', testZipBounds],
]);
process.exit(failed ? 1 : 0);
