// The viewer's pure modules under node, without a browser: the planar
// predicates that pick the features to highlight (geom.js), the office's
// clock of the date control (when.js) and the pairing of two snapshots in
// compare mode (changes.js). (An upload's preview is the server's own dry
// run: no Shapefile is read in the browser.)
import path from 'node:path';
import { SRC, assert, run } from './harness.mjs';

const geom = await import(path.join(SRC, 'static', 'src', 'geom.js'));
const when = await import(path.join(SRC, 'static', 'src', 'when.js'));
const changes = await import(path.join(SRC, 'static', 'src', 'changes.js'));

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

async function testOfficeClock() {
  assert(when.instantOf('2019-12-31') === '2019-12-31T23:59:59+08:00', 'a date alone is the end of that day');
  assert(when.instantOf('2019-12-31', '10:30') === '2019-12-31T10:30:00+08:00', 'a time without seconds');
  assert(when.instantOf('2019-12-31', '10:30:15') === '2019-12-31T10:30:15+08:00', 'a time with seconds');
  assert(when.instantOf('2019-12-3') === null && when.instantOf('2019-12-31', '10') === null, 'malformed: null');
  const p = when.officeParts('2019-12-31T16:00:00Z');
  assert(p.date === '2020-01-01' && p.time === '00:00:00', `UTC 16:00 is the next day in the office: ${JSON.stringify(p)}`);
  assert(when.officeParts(Date.parse('2020-06-01T00:00:00+08:00')).date === '2020-06-01', 'from milliseconds');
  assert(when.yearStart(2020) === '2020-01-01T00:00:00+08:00', 'a year starts at midnight in the office');
  assert(when.monthStart(2020, 12) === '2020-12-01T00:00:00+08:00' && when.monthStart(2020, 13) === '2021-01-01T00:00:00+08:00', 'months');
  assert(when.periodEnd('2999-01-01T00:00:00+08:00') === null && when.periodEnd('2001-01-01T00:00:00+08:00') === '2001-01-01T00:00:00+08:00',
    'an end not yet come is now');
}

async function testDiffFeatures() {
  const sq = (x) => ({ type: 'Polygon', coordinates: [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]] });
  const f = (id, props, x = id) => ({ type: 'Feature', id, geometry: sq(x), properties: { area_m2: 100 * x, area_mu: x, ...props } });
  const before = [f(1, { crop: '水稻' }), f(2, { crop: '茶' }), f(3, { crop: '油茶', year: null }), f(4, { status: 'signed' })];
  const after = [f(5, { crop: '香榧' }), f(4, { status: 'demolished' }), f(3, { crop: '油茶' }), f(1, { crop: '香榧' }, 1.5)];
  const d = changes.diffFeatures(before, after);
  assert(d.added.map((x) => x.id).join() === '5', `added: ${d.added.map((x) => x.id)}`);
  assert(d.removed.map((x) => x.id).join() === '2', `removed: ${d.removed.map((x) => x.id)}`);
  assert(d.changed.map((x) => x.id).join() === '1,4', `changed, in id order; a null that went missing is no change: ${d.changed.map((x) => x.id)}`);
  const c1 = d.changed[0];
  assert(c1.boundary && c1.fields.length === 1 && c1.fields[0].name === 'crop' && c1.fields[0].from === '水稻' && c1.fields[0].to === '香榧',
    `what changed in 1: ${JSON.stringify(c1.fields)}`);
  assert(c1.areaChangeM2 === 50, `the area change of 1: ${c1.areaChangeM2}`);
  const c4 = d.changed[1];
  assert(!c4.boundary && c4.fields.map((x) => `${x.name}:${x.from}>${x.to}`).join() === 'status:signed>demolished', 'only the status of 4');
}

const failed = await run([
  ['geom: interiors meet, not edges', testInteriorsMeet],
  ['when: the office\'s clock', testOfficeClock],
  ['changes: two snapshots paired by id', testDiffFeatures],
]);
process.exit(failed ? 1 : 0);
