// The map through time in the viewer, in headless Chromium against the real
// onemap on an empty database that this test fills through the API at
// known instants: a village with a grid, a farmland base, a demolition
// site, a parcel and a community before T0; then the base's boundary and
// crop patched, the site demolished, the parcel deleted, a base and a
// red-property community added before T1. Checked: the date control at T0
// and at T1 (details text, layer counts, drawn pixels, every read carrying
// asof), a link that keeps the date, compare mode between T0 and T1 (the
// exact list, drawn in three styles), the dashboard's year view (figures
// computed here from what was written), and the printed report (a PDF from
// Chromium read back with poppler: its title, a figure, a map that is drawn).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  artifact, assert, launch, loadPlaywright, near, run, startServer,
} from './harness.mjs';
import { decodePng, diffPixels, pixelAt } from './png.mjs';
import { MU, areaM2, mercator } from './geo.mjs';

const pw = loadPlaywright();
for (const tool of ['pdftotext', 'pdftoppm', 'pdfinfo']) {
  if (spawnSync('which', [tool]).status !== 0) {
    console.log(`browser tests: ${tool} is missing (apt-get install poppler-utils)`);
    if (process.env.CI) {
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
    process.exit(77);
  }
}

const server = await startServer([], { empty: true });
const browser = await launch(pw);
const token = server.token('surveyor', 'editor');
const errors = [];
let page = null;

const box = (w, s, e, n) => ({ type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] });
const mid = (g) => {
  const r = g.coordinates[0];
  return [(r[0][0] + r[2][0]) / 2, (r[0][1] + r[2][1]) / 2];
};
const num = (s) => Number(String(s).replace(/[^0-9.+-]/g, ''));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What the test writes, and where.
const VILLAGE = { code: '330824003999', name: '测试村', kind: '村' };
const AREA = box(118.395, 29.125, 118.425, 29.145);
const F1_OLD = box(118.400, 29.130, 118.404, 29.133);
const F1_NEW = box(118.400, 29.130, 118.407, 29.133);
const S1 = box(118.410, 29.130, 118.414, 29.133);
const P1 = box(118.400, 29.137, 118.403, 29.140);
const C1 = box(118.415, 29.137, 118.418, 29.140);
const F2 = box(118.406, 29.136, 118.409, 29.139);
const C2 = box(118.420, 29.130, 118.423, 29.133);
const SITE = { floor: 1234.5, households: 4, graves: 7 };
const ids = {};
let T0 = 0; // milliseconds, whole seconds: after the first writes, before the changes
let T1 = 0; // after the changes

async function api(method, p, body) {
  const r = await fetch(server.base + p, {
    method,
    headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/geo+json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const create = async (c, properties, geometry) => (await api('POST', `/collections/${c}/items`, { type: 'Feature', properties, geometry })).id;

// The next whole second, once it has passed (with a margin): an instant
// after everything written so far and before anything written next.
async function nextSecond() {
  const t = Math.floor(Date.now() / 1000) * 1000 + 1000;
  await sleep(t + 150 - Date.now());
  return t;
}

// An instant on the office's clock (UTC+8), as the date and time inputs take it.
function office(ms) {
  const s = new Date(ms + 8 * 3600 * 1000).toISOString();
  return { date: s.slice(0, 10), time: s.slice(11, 19) };
}

async function write() {
  await create('villages', VILLAGE, AREA);
  await create('grids', { code: 'T-G1', name: '测试村第1网格', level: '网格', village_code: VILLAGE.code, manager: '张测试', phone: '13800000000' }, AREA);
  ids.f1 = await create('farmland', { code: 'JDT1', crop: '水稻', village_code: VILLAGE.code }, F1_OLD);
  ids.s1 = await create('demolition_sites', {
    code: 'ZQT-1', project: '测试征迁项目', status: 'signed', households: SITE.households, floor_area_m2: SITE.floor, graves: SITE.graves, village_code: VILLAGE.code,
  }, S1);
  ids.p1 = await create('parcels', { code: 'DKT-1', dlbm: '0101', dlmc: '水田', village_code: VILLAGE.code }, P1);
  ids.c1 = await create('communities', { code: 'XQT-1', name: '老街小区', red_property: false, households: 80 }, C1);
  T0 = await nextSecond();
  await api('PATCH', `/collections/farmland/items/${ids.f1}`, { properties: { crop: '香榧' }, geometry: F1_NEW });
  await api('PATCH', `/collections/demolition_sites/items/${ids.s1}`, { properties: { status: 'demolished' } });
  await api('DELETE', `/collections/parcels/items/${ids.p1}`);
  ids.f2 = await create('farmland', { code: 'JDT2', crop: '大棚蔬菜', village_code: VILLAGE.code }, F2);
  ids.c2 = await create('communities', { code: 'XQT-2', name: '红星小区', red_property: true, households: 120 }, C2);
  T1 = await nextSecond();
}

function watch(p) {
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url || ''}`);
  });
  p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return p;
}

async function idle(p) {
  await p.evaluate(() => window.onemapViewer.idle());
}

async function openViewer(p, hash = '') {
  await p.goto(`${server.base}/${hash}`);
  await p.waitForFunction(() => window.onemapViewer && document.body.classList.contains('ready'), null, { timeout: 60000 });
  await idle(p);
}

async function fitArea(p) {
  const [x0, y0] = mercator([118.397, 29.127]);
  const [x1, y1] = mercator([118.425, 29.143]);
  await p.evaluate((ext) => window.onemapViewer.app.view.fit(ext, { padding: [30, 30, 30, 30] }), [x0, y0, x1, y1]);
  await idle(p);
}

async function mapShot(p, name) {
  const buf = await p.locator('#map').screenshot({ animations: 'disabled' });
  if (name) writeFileSync(artifact(name), buf);
  return decodePng(buf);
}

// The map pixel of a lon/lat point.
async function mapPixel(p, lonlat) {
  return p.evaluate((m) => window.onemapViewer.app.map.getPixelFromCoordinate(m), mercator(lonlat));
}

async function clickAt(p, lonlat) {
  const [x, y] = await mapPixel(p, lonlat);
  const b = await p.locator('#map').boundingBox();
  await p.mouse.click(b.x + x, b.y + y);
}

// Puts the map at an instant through the date control (the time first: a
// date alone would mean the end of that day).
async function setDate(p, ms) {
  const { date, time } = office(ms);
  await p.fill('#asof-time', time);
  await p.fill('#asof-date', date);
  await p.waitForFunction((d) => window.location.hash.includes(`asof=${d}`), `${date}T${time}`);
  await p.waitForTimeout(200);
  await idle(p);
}

async function layerCount(p, c, n) {
  await p.waitForFunction(([id, want]) => {
    const el = document.querySelector(`[data-figures="${id}"]`);
    return el && el.textContent.startsWith(`${want} 个`);
  }, [c, n], { timeout: 20000 });
}

const colourDiff = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

async function testDateControl() {
  page = watch(await browser.context.newPage());
  const reads = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/^\/(summary|locate|tiles\/|collections\/[^/]+\/(items(\/\d+)?|stats)$)/.test(u.pathname) && !u.searchParams.has('from')) reads.push(u);
  });
  await openViewer(page);
  await fitArea(page);
  await layerCount(page, 'farmland', 2);
  const nowShot = await mapShot(page, 'time-now.png');
  assert(await page.isHidden('#asof-badge'), 'no badge while the map shows now');
  const p1 = await mapPixel(page, mid(P1));
  const f1East = await mapPixel(page, [118.4055, 29.1315]); // in the new boundary only
  const bg = pixelAt(nowShot, p1[0], p1[1]); // the parcel is gone now: the map's background

  // T0: before the changes
  reads.length = 0;
  await setDate(page, T0);
  const { date: d0, time: t0 } = office(T0);
  assert(await page.isVisible('#asof-badge'), 'the badge shows');
  const badge = await page.textContent('#asof-badge');
  assert(badge.includes('历史地图') && badge.includes(`${d0} ${t0}`), `the badge names the instant: ${badge}`);
  await layerCount(page, 'farmland', 1);
  await layerCount(page, 'parcels', 1);
  await layerCount(page, 'communities', 1);
  await page.waitForTimeout(300);
  await idle(page);
  const before = await mapShot(page, 'time-t0.png');
  assert(colourDiff(pixelAt(before, p1[0], p1[1]), bg) > 30, `the deleted parcel is drawn at T0: ${pixelAt(before, p1[0], p1[1])} vs ${bg}`);
  assert(colourDiff(pixelAt(before, f1East[0], f1East[1]), bg) < 12, `the base's later extension is not drawn at T0: ${pixelAt(before, f1East[0], f1East[1])}`);
  await clickAt(page, [118.402, 29.1315]);
  await page.waitForSelector('#info-body h2[data-collection="farmland"]', { timeout: 20000 });
  await page.waitForSelector('#info-body .responsible');
  assert((await page.textContent('#info-body tr[data-field="crop"]')).includes('水稻'), 'the details show the crop at T0');
  near(num(await page.textContent('#info-body .mu')), areaM2(F1_OLD) / MU, 0.011, 'the area at T0');
  assert((await page.textContent('#info-body .asof-note')).includes(d0), 'the details say which instant');
  assert(await page.getAttribute('#info-body .history li[data-version="1"]', 'class') === 'shown', 'version 1 is marked as the one shown');
  assert((await page.textContent('#info-body .responsible')).includes('张测试'), 'the grid manager of the spot at T0');
  const unTimed = reads.filter((u) => u.searchParams.get('asof') !== `${d0}T${t0}+08:00`);
  assert(reads.length > 5 && unTimed.length === 0, `every read at T0 carries asof (${reads.length} reads): ${unTimed.map(String).join(' ')}`);
  assert(reads.some((u) => u.pathname.startsWith('/tiles/')) && reads.some((u) => u.pathname === '/locate')
    && reads.some((u) => /\/items\/\d+$/.test(u.pathname)) && reads.some((u) => u.pathname === '/summary'), 'tiles, details, locate and the summary among them');
  await page.screenshot({ path: artifact('time-t0-page.png') });

  // T1: after them; the open details follow
  await setDate(page, T1);
  await page.waitForFunction(() => (document.querySelector('#info-body tr[data-field="crop"]') || {}).textContent?.includes('香榧'), null, { timeout: 20000 });
  near(num(await page.textContent('#info-body .mu')), areaM2(F1_NEW) / MU, 0.011, 'the area at T1');
  await layerCount(page, 'farmland', 2);
  await layerCount(page, 'parcels', 0);
  await layerCount(page, 'communities', 2);
  await page.click('#info-close');
  await page.waitForTimeout(300);
  await idle(page);
  const after = await mapShot(page, 'time-t1.png');
  const changed = diffPixels(before, after);
  assert(changed > 2000, `the map differs between T0 and T1 (${changed} pixels)`);
  assert(colourDiff(pixelAt(after, p1[0], p1[1]), bg) < 12, 'the parcel is gone at T1');
  assert(colourDiff(pixelAt(after, f1East[0], f1East[1]), bg) > 30, 'the base extends east at T1');

  // back to now
  await page.click('#asof-badge-now');
  await page.waitForFunction(() => !window.location.hash.includes('asof='));
  assert(await page.isHidden('#asof-badge'), 'the badge goes');
  assert(await page.inputValue('#asof-date') === '', 'the control is cleared');
  await page.waitForTimeout(300);
  await idle(page);
  assert(diffPixels(nowShot, await mapShot(page)) < 200, 'now again looks like now');
}

async function testLinkKeepsDate() {
  const hash = await page.evaluate(() => window.location.hash);
  const { date, time } = office(T0);
  const p = watch(await browser.context.newPage());
  await openViewer(p, `${hash}&asof=${date}T${time}`);
  assert(await p.inputValue('#asof-date') === date && (await p.inputValue('#asof-time')).startsWith(time.slice(0, 5)), 'the control shows the linked instant');
  assert(await p.isVisible('#asof-badge'), 'the badge shows on a linked past map');
  await layerCount(p, 'farmland', 1);
  await layerCount(p, 'parcels', 1);
  await p.close();
  // a date alone: the end of that day (the changes of the day included)
  const q = watch(await browser.context.newPage());
  await openViewer(q, `${hash}&asof=${date}`);
  const endOfDay = Date.parse(`${date}T23:59:59+08:00`);
  if (endOfDay < Date.now()) {
    await layerCount(q, 'farmland', 2);
  } else {
    assert(await q.isHidden('#asof-badge') && !(await q.evaluate(() => window.location.hash)).includes('asof'), 'today (not over yet) is now');
  }
  await q.close();
}

async function testCompare() {
  await fitArea(page);
  const plain = await mapShot(page);
  await page.click('#tabs button[data-tab="compare"]');
  const a = office(T0);
  const b = office(T1);
  await page.fill('#cmp-a-date', a.date);
  await page.fill('#cmp-a-time', a.time);
  await page.fill('#cmp-b-date', b.date);
  await page.fill('#cmp-b-time', b.time);
  await page.click('#cmp-run');
  await page.waitForSelector('#cmp-counts', { timeout: 30000 });
  const listed = await page.evaluate(() => [...document.querySelectorAll('#cmp-result li[data-kind]')].map((li) => ({
    kind: li.dataset.kind, collection: li.dataset.collection, id: Number(li.dataset.id), text: li.textContent,
  })));
  const key = (x) => `${x.kind} ${x.collection} ${x.id}`;
  const want = [
    { kind: 'added', collection: 'farmland', id: ids.f2 }, { kind: 'added', collection: 'communities', id: ids.c2 },
    { kind: 'removed', collection: 'parcels', id: ids.p1 },
    { kind: 'changed', collection: 'farmland', id: ids.f1 }, { kind: 'changed', collection: 'demolition_sites', id: ids.s1 },
  ];
  assert(JSON.stringify(listed.map(key).sort()) === JSON.stringify(want.map(key).sort()),
    `exactly the changes are listed: ${listed.map(key).join(', ')}`);
  const f1 = listed.find((x) => x.id === ids.f1 && x.collection === 'farmland').text;
  assert(f1.includes('JDT1') && f1.includes('水稻 → 香榧') && f1.includes('边界'), `what changed in the base: ${f1}`);
  near(num(f1.split('边界')[1]), (areaM2(F1_NEW) - areaM2(F1_OLD)) / MU, 0.011, 'the base grew by');
  const s1 = listed.find((x) => x.collection === 'demolition_sites').text;
  assert(s1.includes('已签约 → 已拆除') && !s1.includes('边界'), `the site's status changed, not its boundary: ${s1}`);
  assert(listed.find((x) => x.collection === 'parcels').text.includes('DKT-1'), 'the deleted parcel is named');
  const counts = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#cmp-counts tbody tr')].map((tr) => [tr.dataset.collection,
    [...tr.querySelectorAll('td[data-count]')].map((td) => Number(td.textContent))])));
  const sum = await server.json(`/summary?from=${encodeURIComponent(new Date(T0).toISOString())}&to=${encodeURIComponent(new Date(T1).toISOString())}`);
  for (const c of ['farmland', 'parcels', 'communities', 'demolition_sites', 'villages']) {
    const s = sum.collections[c];
    assert(JSON.stringify(counts[c]) === JSON.stringify([s.added, s.removed, s.changed]), `${c}: the counts are the server's (${counts[c]})`);
  }
  // drawn: each in its style
  const roles = await page.evaluate(() => window.onemapViewer.app.overlay.getSource().getFeatures().map((f) => f.get('role')));
  const n = (r) => roles.filter((x) => x === r).length;
  assert(n('added') === 2 && n('removed') === 1 && n('changed') === 2 && n('changed-old') === 1, `drawn: ${roles.join(',')}`);
  await page.waitForTimeout(300);
  await idle(page);
  const drawn = await mapShot(page, 'time-compare.png');
  const tint = async (g) => {
    const [x, y] = await mapPixel(page, g);
    return [pixelAt(plain, x, y), pixelAt(drawn, x, y)];
  };
  // each tinted towards its colour: red (removed), green (added), orange (changed: less blue)
  const [p0, p1] = await tint(mid(P1));
  assert((p1[0] - p1[1]) - (p0[0] - p0[1]) > 15, `the removed parcel is drawn red: ${p1} (was ${p0})`);
  const [g0, g1] = await tint(mid(C2));
  assert((g1[1] - g1[0]) - (g0[1] - g0[0]) > 15, `the added community is drawn green: ${g1} (was ${g0})`);
  const [o0, o1] = await tint(mid(S1));
  assert(o0[2] - o1[2] > 10 && o1[0] >= o1[1], `the changed site is drawn orange: ${o1} (was ${o0})`);
  await page.screenshot({ path: artifact('time-compare-page.png') });
  // a row flies to its feature
  await page.click(`#cmp-result li[data-collection="communities"][data-id="${ids.c2}"] button`);
  await page.waitForTimeout(900);
  const [cx, cy] = await page.evaluate(() => window.onemapViewer.app.view.getCenter());
  const [mx, my] = mercator(mid(C2));
  assert(Math.hypot(cx - mx, cy - my) < 20, `the map flew to the community (${Math.hypot(cx - mx, cy - my)} m off)`);
  await page.click('#cmp-clear');
  assert(await page.evaluate(() => window.onemapViewer.app.overlay.getSource().getFeatures().length) === 0, 'clear removes the drawing');
}

async function testYearView() {
  await fitArea(page);
  await page.click('#tabs button[data-tab="dashboard"]');
  await page.click('#dash-mode-year');
  const year = Number(office(Date.now()).date.slice(0, 4));
  assert(await page.inputValue('#dash-year') === String(year), 'this year is picked');
  await page.waitForSelector('[data-figure="year-acquired"]', { timeout: 30000 });
  await page.waitForSelector('[data-chart="demolished"] rect[data-index]', { state: 'attached' });
  const card = async (id) => page.textContent(`[data-figure="${id}"]`);
  const acquired = await card('year-acquired');
  near(num(await page.textContent('[data-figure="year-acquired"] b')), areaM2(S1) / MU, 0.06, `亩 acquired: ${acquired}`);
  assert(acquired.includes('征收土地') && acquired.includes('亩') && acquired.includes('1 宗'), `one site acquired: ${acquired}`);
  const demolished = await card('year-demolished');
  assert(demolished.includes('拆迁房屋') && demolished.includes('1,234.5') && demolished.includes('平方米'), `floor area demolished: ${demolished}`);
  assert(num(await page.textContent('[data-figure="year-houses"] b')) === SITE.households, 'main houses');
  assert((await card('year-houses')).includes('幢') && (await card('year-graves')).includes('穴'), 'in 幢 and 穴');
  assert(num(await page.textContent('[data-figure="year-graves"] b')) === SITE.graves, 'graves moved');
  assert(num(await page.textContent('[data-figure="year-joined"] b')) === 1, 'one community joined');
  const crops = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#year-crops tr')].map((tr) => [tr.dataset.crop, Number(tr.querySelector('td[data-mu]').dataset.mu)])));
  assert(Object.keys(crops).sort().join() === ['大棚蔬菜', '香榧'].sort().join(), `the crops planted: ${Object.keys(crops)}`);
  near(crops['香榧'], areaM2(F1_NEW) / MU, 0.011, '香榧 (the patched base, as it is at the end)');
  near(crops['大棚蔬菜'], areaM2(F2) / MU, 0.011, '大棚蔬菜');
  near(num(await page.textContent('[data-figure="year-planted"] b')), (areaM2(F1_NEW) + areaM2(F2)) / MU, 0.06, 'planted in all');
  const joined = await page.textContent('[data-list="joined"]');
  assert(joined.includes('红星小区') && !joined.includes('老街小区'), `the community that joined: ${joined}`);
  // month by month: all of it in this month
  const month = Number(office(Date.now()).date.slice(5, 7));
  const columns = (c) => page.evaluate((id) => [...document.querySelectorAll(`[data-chart="${id}"] rect[data-index]`)].map((r) => r.dataset.value), c);
  const acq = await columns('acquired');
  const dem = await columns('demolished');
  assert(acq.length === 12 && dem.length === 12, 'twelve months');
  near(Number(acq[month - 1]), areaM2(S1) / MU, 0.06, 'this month\'s 亩 acquired');
  near(Number(dem[month - 1]), SITE.floor, 0.01, 'this month\'s floor area demolished');
  assert(acq.every((v, i) => i === month - 1 || v === '' || Number(v) === 0), `no other month: ${acq}`);
  assert(dem.slice(month).every((v) => v === ''), 'months to come are not asked for');
  await page.screenshot({ path: artifact('time-year.png') });
  // a listed feature flies there and opens
  await page.click('[data-list="demolished"] li button');
  await page.waitForSelector('#info-body h2[data-collection="demolition_sites"]', { timeout: 20000 });
  assert((await page.textContent('#info-body h2')).includes('测试征迁项目'), 'the site opens');
  await page.waitForTimeout(900);
  const [cx, cy] = await page.evaluate(() => window.onemapViewer.app.view.getCenter());
  const [mx, my] = mercator(mid(S1));
  assert(Math.hypot(cx - mx, cy - my) < 20, 'the map flew to the site');
  await page.click('#info-close');
  await page.click('#dash-mode-now');
}

async function testReport() {
  await fitArea(page);
  await page.click('#report-open');
  await page.waitForSelector('#report:not([hidden])');
  await page.waitForFunction(() => [...document.querySelectorAll('#report-village option')].some((o) => o.textContent === '测试村'));
  const v = await page.evaluate(() => [...document.querySelectorAll('#report-village option')].find((o) => o.textContent === '测试村').value);
  await page.selectOption('#report-village', v);
  const year = office(Date.now()).date.slice(0, 4);
  await page.selectOption('#report-time', `year:${year}`);
  await page.click('#report-make');
  await page.waitForSelector('#report-sheet[data-ready="true"]', { timeout: 60000 });
  const sheet = await page.textContent('#report-sheet');
  assert(sheet.includes('芹阳办事处 一张图') && sheet.includes('测试村') && sheet.includes('1,234.5'), `the sheet: ${sheet.slice(0, 300)}`);
  const legend = await page.evaluate(() => [...document.querySelectorAll('#report-sheet .sheet-legend-layer')].map((e) => e.dataset.layer));
  assert(legend.length === 6, `a legend of the six layers shown: ${legend}`);
  // the scale: the village (fitted, with a small margin) spans the map's box of 190 x 168 mm
  const ground = [(AREA.coordinates[0][1][0] - AREA.coordinates[0][0][0]) * 111320 * Math.cos((29.135 * Math.PI) / 180),
    (AREA.coordinates[0][2][1] - AREA.coordinates[0][0][1]) * 110900];
  const scale = Number(await page.getAttribute('#report-sheet .sheet-scale', 'data-scale'));
  const fitted = Math.max(ground[0] / 180, ground[1] / 158) * 1000;
  assert(scale > fitted * 0.93 && scale < fitted * 1.07, `the scale 1:${scale} fits the village (about 1:${Math.round(fitted)})`);
  assert(await page.isVisible('#report-sheet .sheet-north'), 'a north arrow');
  await page.screenshot({ path: artifact('time-report.png') });
  // 打印 hands the sheet to the browser's print
  await page.evaluate(() => {
    window.printed = 0;
    window.print = () => window.printed++;
  });
  await page.click('#report-print');
  assert(await page.evaluate(() => window.printed) === 1, 'window.print() is called');
  // where the map lies on the printed page: the sheet's layout under print
  await page.emulateMedia({ media: 'print' });
  const where = await page.evaluate(() => {
    const s = document.querySelector('#report-sheet').getBoundingClientRect();
    const m = document.querySelector('#report-sheet .sheet-map img').getBoundingClientRect();
    return { x: m.left - s.left, y: m.top - s.top, w: m.width, h: m.height, sx: s.left, sy: s.top };
  });
  await page.emulateMedia({ media: null });
  assert(Math.abs(where.sx) < 1 && Math.abs(where.sy) < 1, `the sheet starts the printed page (${where.sx}, ${where.sy})`);
  const pdf = artifact('time-report.pdf');
  await page.pdf({ path: pdf, format: 'A4', landscape: true });
  const info = spawnSync('pdfinfo', [pdf], { encoding: 'utf8' }).stdout;
  assert(/Pages:\s+1\n/.test(info), `one page: ${info}`);
  const size = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(info);
  assert(size && Math.abs(Number(size[1]) - 841.89) < 2 && Math.abs(Number(size[2]) - 595.28) < 2, `A4 landscape: ${size && size[0]}`);
  const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
  assert(text.includes('芹阳办事处 一张图'), `the title is in the PDF: ${text.slice(0, 200)}`);
  assert(text.includes('1,234.5') && text.includes('拆迁房屋'), 'the floor area demolished is in the PDF');
  assert(text.includes('测试村'), 'the village is named');
  assert(!text.includes('区域统计'), 'only the sheet is printed');
  const dpi = 50;
  const png = spawnSync('pdftoppm', ['-png', '-r', String(dpi), '-singlefile', pdf, path.join(path.dirname(pdf), 'time-report-pdf')], { encoding: 'utf8' });
  assert(png.status === 0, `pdftoppm: ${png.stderr}`);
  const img = decodePng(readFileSync(artifact('time-report-pdf.png')));
  const k = dpi / 96; // CSS pixels to the rendered page's pixels
  const colours = new Set();
  let marked = 0;
  let n = 0;
  for (let y = Math.ceil((where.y + 4) * k); y < (where.y + where.h - 4) * k; y += 2) {
    for (let x = Math.ceil((where.x + 4) * k); x < (where.x + where.w - 4) * k; x += 2) {
      const px = pixelAt(img, x, y);
      colours.add(px.map((c) => c >> 4).join());
      if (colourDiff(px, [238, 241, 234]) > 40) marked++;
      n++;
    }
  }
  assert(colours.size > 8 && marked > n * 0.01, `the map in the PDF is drawn: ${colours.size} colours, ${marked} of ${n} pixels marked`);
  await page.click('#report-close');
  assert(await page.isHidden('#report'), 'the dialog closes');
}

// More parcels in the view than compare mode reads at once (its LIMIT,
// 5000): it says so, still gives the server's counts, and lists the rest.
async function testCompareLimit() {
  const n = 5001;
  const side = Math.ceil(Math.sqrt(n));
  const d = 0.00003;
  const features = Array.from({ length: n }, (_, i) => {
    const x = 118.416 + (i % side) * d;
    const y = 29.1272 + Math.floor(i / side) * d;
    return { type: 'Feature', properties: { code: `LIM${i}`, dlbm: '0101' }, geometry: box(x, y, x + d * 0.8, y + d * 0.8) };
  });
  const r = await fetch(`${server.base}/collections/parcels/import?mode=upsert`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/geo+json', Accept: 'application/json' },
    body: JSON.stringify({ type: 'FeatureCollection', features }),
  });
  assert(r.ok, `the import: ${r.status} ${await r.text()}`);
  await fitArea(page);
  await page.click('#tabs button[data-tab="compare"]');
  const a = office(T1);
  await page.fill('#cmp-a-date', a.date);
  await page.fill('#cmp-a-time', a.time);
  await page.fill('#cmp-b-date', '');
  await page.fill('#cmp-b-time', '');
  await page.click('#cmp-run');
  await page.waitForSelector('#cmp-result [data-more="parcels"]', { timeout: 60000 });
  const more = await page.textContent('[data-more="parcels"]');
  assert(more.includes('地块') && more.includes('5,000'), `the view holds more parcels than compared: ${more}`);
  assert(await page.locator('#cmp-result li[data-collection="parcels"]').count() === 0, 'none of them listed');
  assert(await page.textContent('#cmp-counts tr[data-collection="parcels"] td[data-count="added"]') === n.toLocaleString('en-US'), 'the server\'s count of them');
  assert(!(await page.$('#cmp-none')), 'not said to be unchanged');
  await page.click('#cmp-clear');
}

async function testNoConsoleErrors() {
  assert(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
}

let failed = 1;
try {
  await write();
  failed = await run([
    ['the date control: T0 and T1 (details, counts, pixels, asof on every read)', testDateControl],
    ['a link keeps the date', testLinkKeepsDate],
    ['compare T0 with T1: the exact list, drawn', testCompare],
    ['the year view: figures and months from what was written', testYearView],
    ['the printed report: an A4 PDF with title, figures and map', testReport],
    ['compare says when the view holds more than it reads', testCompareLimit],
    ['no console errors', testNoConsoleErrors],
  ]);
} finally {
  await browser.close();
  await server.stop(failed > 0);
}
process.exit(failed ? 1 : 0);
