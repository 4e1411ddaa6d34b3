// End-to-end checks of the map viewer in headless Chromium against the real
// onemap on the 芹阳 demo data. Expected figures come from the demo files in
// geodata/demo and from independent geodesic areas (geo.mjs); the page's
// area-query table is also compared with the API's own statistics.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import {
  SRC, artifact, assert, launch, loadPlaywright, near, run, startServer, writeArtifact,
} from './harness.mjs';
import { decodePng, diffPixels } from './png.mjs';
import { MU, areaM2, bbox, contains, interiorPoint, mercator } from './geo.mjs';

const pw = loadPlaywright();
const demo = (c) => JSON.parse(readFileSync(path.join(SRC, 'geodata', 'demo', `${c}.geojson`), 'utf8'));
const LAYERS = ['villages', 'grids', 'parcels', 'farmland', 'demolition_sites', 'communities'];

const server = await startServer();
const browser = await launch(pw);
const errors = []; // console errors and page errors of every page
let expected422 = 0;
let expectedImport404 = false; // GET /imports/{id} before the server starts on an upload
let page = null;
const timings = {};

function watch(p) {
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url || ''}`);
  });
  p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return p;
}

async function openViewer(p, url = '/') {
  const t0 = Date.now();
  await p.goto(server.base + url);
  await p.waitForFunction(() => window.onemapViewer && document.body.classList.contains('ready'), null, { timeout: 60000 });
  await idle(p);
  return Date.now() - t0;
}

async function idle(p) {
  await p.evaluate(() => window.onemapViewer.idle());
}

async function mapShot(p, name) {
  const buf = await p.locator('#map').screenshot({ animations: 'disabled' });
  if (name) writeFileSync(artifact(name), buf);
  return decodePng(buf);
}

// Shows lon/lat box b ([w, s, e, n]) in the map, without animation.
async function fitLonLat(p, b) {
  const [x0, y0] = mercator([b[0], b[1]]);
  const [x1, y1] = mercator([b[2], b[3]]);
  await p.evaluate((ext) => window.onemapViewer.app.view.fit(ext, { padding: [40, 40, 40, 40] }), [x0, y0, x1, y1]);
  await idle(p);
}

// Page coordinates of a lon/lat point.
async function pagePoint(p, lonlat) {
  const px = await p.evaluate((m) => window.onemapViewer.app.map.getPixelFromCoordinate(m), mercator(lonlat));
  const box = await p.locator('#map').boundingBox();
  return [box.x + px[0], box.y + px[1]];
}

async function tab(p, name) {
  await p.click(`#tabs button[data-tab="${name}"]`);
}

const num = (s) => Number(String(s).replace(/[^0-9.+-]/g, ''));

async function testPageLoads() {
  page = watch(await browser.context.newPage());
  const tiles = [];
  page.on('request', (r) => {
    if (r.url().includes('/tiles/WebMercatorQuad/')) tiles.push(r.url());
  });
  timings.firstLoadMs = await openViewer(page);
  assert(tiles.length > 0 && tiles[0].includes('collections='), 'the map draws from vector tiles');
  timings.secondLoadMs = await openViewer(page);
  assert((await page.textContent('#topbar h1')).includes('芹阳办事处'), 'the title is Chinese by default');
  for (const c of LAYERS) {
    const n = demo(c).features.length;
    const text = await page.textContent(`[data-figures="${c}"]`);
    if (c === 'grids') {
      const grids = demo(c).features.filter((f) => f.properties.level === '网格').length;
      assert(text.includes(`${grids} 网格`) && text.includes(`${n - grids} 微网格`), `grid counts shown: ${text}`);
    } else {
      assert(text.includes(`${n.toLocaleString('en-US')} 个`), `${c}: ${n} features in the panel, got "${text}"`);
      const mu = demo(c).features.reduce((s, f) => s + areaM2(f.geometry), 0) / MU;
      near(num(text.split('·')[1]), mu, Math.max(0.15, mu * 1e-4), `${c} total mu in the panel`);
    }
  }
  await mapShot(page, 'viewer.png');
  await page.screenshot({ path: artifact('viewer-page.png') });
  assert(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
  // the API is still the API for JSON clients, and /?f=html the generic page
  const landing = await server.json('/');
  assert(Array.isArray(landing.links) && landing.links.some((l) => l.rel === 'service-desc'), 'JSON landing page');
  const html = await (await fetch(`${server.base}/?f=html`, { headers: { Accept: 'text/html' } })).text();
  assert(html.includes('/conformance') && !html.includes('onemap-basemaps'), '/?f=html is the generic page');
}

async function testEachLayerDraws() {
  const all = await mapShot(page);
  for (const c of LAYERS) {
    await page.uncheck(`#layer-${c}`);
    await idle(page);
    const without = await mapShot(page, `without-${c}.png`);
    const changed = diffPixels(all, without);
    assert(changed > 300, `${c}: hiding it changes the map (${changed} pixels)`);
    await page.check(`#layer-${c}`);
    await idle(page);
    const back = await mapShot(page);
    const rest = diffPixels(all, back);
    assert(rest < changed / 10, `${c}: showing it again restores the map (${rest} of ${changed} pixels differ)`);
  }
  // opacity 0 hides a layer too
  await page.locator('[data-opacity="parcels"]').fill('0');
  await idle(page);
  assert(diffPixels(all, await mapShot(page)) > 1000, 'parcels at opacity 0 change the map');
  await page.locator('[data-opacity="parcels"]').fill('100');
  await idle(page);
}

// A large parcel near the middle of the sub-district, found in the demo file.
function knownParcel() {
  const over = ['farmland', 'demolition_sites', 'communities'].flatMap((c) => demo(c).features);
  const free = (p) => !over.some((o) => contains(o.geometry, p));
  const ps = demo('parcels').features.map((f) => ({ f, a: areaM2(f.geometry), c: interiorPoint(f.geometry) }))
    .filter((x) => free(x.c) && free([x.c[0] - 0.0005, x.c[1]]) && free([x.c[0] + 0.0005, x.c[1]]));
  const mid = [118.41, 29.14];
  ps.sort((x, y) => Math.hypot(x.c[0] - mid[0], x.c[1] - mid[1]) - Math.hypot(y.c[0] - mid[0], y.c[1] - mid[1]));
  return ps.slice(0, 40).sort((x, y) => y.a - x.a)[0];
}

async function testIdentifyParcel() {
  const { f, a, c } = knownParcel();
  await fitLonLat(page, bbox(f.geometry));
  const [x, y] = await pagePoint(page, c);
  await page.mouse.click(x, y);
  await page.waitForSelector('#info-body h2[data-collection="parcels"]', { timeout: 20000 });
  await page.waitForSelector('#info-body .responsible');
  const title = await page.textContent('#info-body h2');
  assert(title.includes(f.properties.code), `the parcel code ${f.properties.code} is shown: ${title}`);
  const mu = num(await page.textContent('#info-body .mu'));
  near(mu, a / MU, 0.011, 'the parcel area in mu');
  const m2 = num(await page.textContent('#info-body .m2'));
  near(m2, a, Math.max(0.2, a * 2e-5), 'the parcel area in m2');
  const dlbmRow = await page.textContent('#info-body tr[data-field="dlbm"]');
  assert(dlbmRow.includes('地类编码') && dlbmRow.includes(f.properties.dlbm), `Chinese field title and land class: ${dlbmRow}`);
  const grid = demo('grids').features.find((g) => g.properties.level === '网格' && contains(g.geometry, c));
  const resp = await page.textContent('#info-body .responsible');
  assert(grid && resp.includes(grid.properties.name) && resp.includes(grid.properties.manager),
    `the responsible grid ${grid && grid.properties.name} and its manager are shown: ${resp}`);
  assert((await page.textContent('#info-body .history')).includes('v1'), 'the history lists version 1');
  await page.screenshot({ path: artifact('identify.png') });
  await page.click('#info-close');
}

async function testAreaQueryPolygon() {
  await page.evaluate(() => window.onemapViewer.app.fitHome());
  await page.waitForTimeout(400);
  await idle(page);
  await tab(page, 'query');
  await page.click('#query-polygon');
  const ring = [[118.395, 29.128], [118.425, 29.126], [118.432, 29.147], [118.404, 29.152]];
  const pts = [];
  for (const p of ring) pts.push(await pagePoint(page, p));
  for (const [x, y] of pts) {
    await page.mouse.click(x, y);
    await page.waitForTimeout(150);
  }
  await page.mouse.click(pts[0][0], pts[0][1]); // on the first vertex: closes the polygon
  await page.waitForSelector('#query-table tr.layer-total[data-collection="parcels"]', { timeout: 30000 });
  await page.waitForFunction(() => /\d/.test(document.querySelector('#query-highlighted').textContent), null, { timeout: 60000 });
  // the polygon the page used, from its GeoJSON export
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=导出 GeoJSON')]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const area = exported.features[0];
  assert(area.properties.role === 'query_area' && area.geometry.type === 'Polygon', 'the export starts with the query area');
  for (let i = 0; i < ring.length; i++) {
    near(area.geometry.coordinates[0][i][0], ring[i][0], 1e-4, `vertex ${i} lon`);
    near(area.geometry.coordinates[0][i][1], ring[i][1], 1e-4, `vertex ${i} lat`);
  }
  const shown = await page.evaluate(() => [...document.querySelectorAll('#query-table tbody tr')].map((tr) => ({
    collection: tr.dataset.collection, key: tr.dataset.key ?? null, cells: [...tr.children].map((td) => td.textContent),
  })));
  for (const c of LAYERS) {
    const group_by = { villages: 'kind', grids: 'level', parcels: 'dlbm', farmland: 'crop', demolition_sites: 'status', communities: 'red_property' }[c];
    const api = await server.json(`/collections/${c}/stats`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ geometry: area.geometry, group_by, clip: true }),
    });
    const total = shown.find((r) => r.collection === c && r.key === null);
    assert(total, `${c}: a total row`);
    assert(num(total.cells[1]) === api.total.count, `${c}: count ${total.cells[1]} = API ${api.total.count}`);
    near(num(total.cells[2]), api.total.area_mu, 0.006, `${c}: mu = API`);
    const groups = shown.filter((r) => r.collection === c && r.key !== null);
    assert(groups.length === api.groups.length, `${c}: ${groups.length} groups = API ${api.groups.length}`);
    for (const g of api.groups) {
      const row = groups.find((r) => r.key === String(g.key));
      assert(row && num(row.cells[1]) === g.count, `${c}/${g.key}: count`);
      near(num(row.cells[2]), g.area_mu, 0.006, `${c}/${g.key}: mu`);
    }
  }
  // parcels cover the sub-district: their clipped area is the polygon's own geodesic area
  const parcels = shown.find((r) => r.collection === 'parcels' && r.key === null);
  near(num(parcels.cells[2]), areaM2(area.geometry) / MU, areaM2(area.geometry) / MU * 2e-5 + 0.01, 'parcels inside = polygon area');
  const highlighted = num(await page.textContent('#query-highlighted'));
  assert(highlighted > 100, `matching features highlighted (${highlighted})`);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('text=导出 CSV')]);
  const lines = readFileSync(await csv.path(), 'utf8').replace(/^\ufeff/, '').trim().split(/\r\n/);
  assert(lines[0].startsWith('collection,layer,group'), 'CSV header');
  assert(lines.length === shown.length + 1, `CSV has one line per table row (${lines.length - 1} vs ${shown.length})`);
  await page.screenshot({ path: artifact('area-query.png') });
}

async function testAreaQueryRectangle() {
  await page.click('#query-box');
  const a = await pagePoint(page, [118.400, 29.132]);
  const b = await pagePoint(page, [118.418, 29.146]);
  await page.mouse.click(a[0], a[1]);
  await page.mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
  await page.mouse.move(b[0], b[1]);
  await page.mouse.click(b[0], b[1]);
  await page.waitForFunction(() => document.querySelector('.query-area') && document.querySelector('.query-area').textContent.includes('矩形')
    && document.querySelector('#query-table tr.layer-total[data-collection="parcels"]'), null, { timeout: 30000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=导出 GeoJSON')]);
  const area = JSON.parse(readFileSync(await download.path(), 'utf8')).features[0].geometry;
  const box = bbox(area);
  near(box[0], 118.400, 1e-4, 'west');
  near(box[3], 29.146, 1e-4, 'north');
  const shown = num(await page.textContent('#query-table tr.layer-total[data-collection="parcels"] td:nth-child(3)'));
  near(shown, areaM2(area) / MU, areaM2(area) / MU * 2e-5 + 0.01, 'parcels inside the rectangle = its geodesic area');
  const api = await server.json('/collections/demolition_sites/stats', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ geometry: area, group_by: 'status', clip: true }),
  });
  const sites = num(await page.textContent('#query-table tr.layer-total[data-collection="demolition_sites"] td:nth-child(2)'));
  assert(sites === api.total.count, `demolition sites in the rectangle: ${sites} = API ${api.total.count}`);
}

async function testPickVillage() {
  const v = demo('villages').features.find((f) => f.properties.name === '桃溪村') || demo('villages').features[0];
  const value = await page.evaluate((name) => [...document.querySelectorAll('#query-village option')].find((o) => o.textContent === name).value, v.properties.name);
  await page.selectOption('#query-village', value);
  await page.waitForFunction((n) => document.querySelector('.query-area') && document.querySelector('.query-area').textContent.includes(n)
    && document.querySelector('#query-table tr.layer-total[data-collection="parcels"]'), v.properties.name, { timeout: 30000 });
  const mu = num(await page.textContent('#query-table tr.layer-total[data-collection="parcels"] td:nth-child(3)'));
  near(mu, areaM2(v.geometry) / MU, areaM2(v.geometry) / MU * 2e-5 + 0.01, `parcels in ${v.properties.name} = its area`);
  await page.click('#query-clear');
}

async function testSearchVillage() {
  await page.fill('#search-input', '桃溪');
  await page.waitForSelector('#search-results li[data-index] button');
  const first = await page.textContent('#search-results li[data-index="0"]');
  assert(first.includes('桃溪村'), `the village is found: ${first}`);
  await page.click('#search-results li[data-index="0"] button');
  await page.waitForSelector('#info-body h2[data-collection="villages"]');
  assert((await page.textContent('#info-body h2')).includes('桃溪村'), 'its details open');
  // from the details to the area query over the village
  await page.click('#info-query');
  await page.waitForFunction(() => document.body.dataset.tab === 'query' && document.querySelector('.query-area')
    && document.querySelector('.query-area').textContent.includes('桃溪村') && document.querySelector('#query-table tr.layer-total[data-collection="parcels"]'), null, { timeout: 30000 });
  const tx = demo('villages').features.find((f) => f.properties.name === '桃溪村');
  near(num(await page.textContent('#query-table tr.layer-total[data-collection="parcels"] td:nth-child(3)')),
    areaM2(tx.geometry) / MU, areaM2(tx.geometry) / MU * 2e-5 + 0.01, 'the query over the village from its details');
  await page.click('#query-clear');
  await page.waitForTimeout(900); // the flight
  const v = demo('villages').features.find((f) => f.properties.name === '桃溪村');
  const center = await page.evaluate(() => window.onemapViewer.app.view.getCenter());
  const b = bbox(v.geometry);
  const [x0, y0] = mercator([b[0], b[1]]);
  const [x1, y1] = mercator([b[2], b[3]]);
  assert(center[0] > x0 && center[0] < x1 && center[1] > y0 && center[1] < y1, 'the map flew to the village');
  // a parcel by its code, and a grid by its manager
  const code = demo('parcels').features[100].properties.code;
  await page.fill('#search-input', code);
  await page.waitForFunction((c) => [...document.querySelectorAll('#search-results li[data-index]')].some((li) => li.textContent.includes(c)), code);
  const g = demo('grids').features.find((f) => f.properties.level === '网格');
  await page.fill('#search-input', g.properties.manager);
  await page.waitForFunction((n) => [...document.querySelectorAll('#search-results li[data-index]')].some((li) => li.textContent.includes(n)), g.properties.name);
  await page.keyboard.press('Escape');
  await page.click('#info-close');
}

async function testDashboard() {
  await tab(page, 'dashboard');
  await page.waitForSelector('[data-figure="acquired"]', { timeout: 30000 });
  const sites = demo('demolition_sites').features;
  const sum = (k) => sites.reduce((s, f) => s + (f.properties[k] || 0), 0);
  const acquired = sites.reduce((s, f) => s + areaM2(f.geometry), 0) / MU;
  near(num(await page.textContent('[data-figure="acquired"] b')), acquired, 0.06, 'mu acquired');
  near(num(await page.textContent('[data-figure="demolished"] b')), sum('floor_area_m2'), 0.6, 'm2 demolished');
  assert(num(await page.textContent('[data-figure="households"] b')) === sum('households'), 'households');
  assert(num(await page.textContent('[data-figure="graves"] b')) === sum('graves'), 'graves');
  const comms = demo('communities').features;
  const red = comms.filter((f) => f.properties.red_property).length;
  const redText = await page.textContent('[data-figure="red"]');
  assert(redText.includes(`${red} / ${comms.length}`), `red property communities: ${redText}`);
  assert(await page.locator('#tab-dashboard svg.chart rect').count() >= 7, 'the crop chart has bars');
  await page.evaluate(() => window.onemapViewer.app.fitHome());
  await page.waitForTimeout(500);
  await idle(page);
  await page.screenshot({ path: artifact('dashboard.png') }); // the README's picture
  // one village: its own figures
  const village = demo('villages').features.find((v) => sites.some((s) => s.properties.village_code === v.properties.code));
  const value = await page.evaluate((name) => [...document.querySelectorAll('#dash-village option')].find((o) => o.textContent === name).value, village.properties.name);
  await page.selectOption('#dash-village', value);
  const mine = sites.filter((s) => s.properties.village_code === village.properties.code);
  const hh = mine.reduce((s, f) => s + f.properties.households, 0);
  await page.waitForFunction((n) => {
    const b = document.querySelector('[data-figure="projects"] b');
    return b && b.textContent === String(n);
  }, mine.length, { timeout: 30000 });
  assert(num(await page.textContent('[data-figure="households"] b')) === hh, `households in ${village.properties.name}`);
  await page.selectOption('#dash-village', '');
}

function uploadFile(features) {
  return { name: 'survey.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify({ type: 'FeatureCollection', features })) };
}

async function testUpload() {
  const token = server.token('surveyor', 'editor');
  // an empty-looking spot: a new planting base inside a known parcel, away from other layers
  const { c } = knownParcel();
  const d = 0.0004;
  const rect = [c[0] - d, c[1] - d / 2, c[0] + d, c[1] + d / 2];
  const ring = [[rect[0], rect[1]], [rect[2], rect[1]], [rect[2], rect[3]], [rect[0], rect[3]], [rect[0], rect[1]]];
  const added = { type: 'Feature', properties: { code: 'JD901', crop: '香榧', dlbm: '0201', operator: '测试合作社', year: 2021 }, geometry: { type: 'Polygon', coordinates: [ring] } };
  await fitLonLat(page, [rect[0] - 0.002, rect[1] - 0.002, rect[2] + 0.002, rect[3] + 0.002]);
  await page.evaluate(() => window.onemapViewer.app.dataLayers.farmland.getSource().refresh());
  await idle(page);
  const before = await mapShot(page, 'upload-before.png');
  await tab(page, 'upload');
  await page.fill('#up-token', token);
  await page.selectOption('#up-layer', 'farmland');
  // a bow tie first: reported invalid, nothing to commit
  const bow = { type: 'Feature', properties: { code: 'JD902', crop: '水稻' }, geometry: { type: 'Polygon', coordinates: [[[rect[0], rect[1]], [rect[2], rect[3]], [rect[2], rect[1]], [rect[0], rect[3]], [rect[0], rect[1]]]] } };
  await page.setInputFiles('#up-file', uploadFile([added, bow]));
  expected422++;
  await page.click('#up-dryrun');
  await page.waitForSelector('#up-report');
  assert(num(await page.textContent('[data-figure="invalid"] b')) === 1, 'one invalid feature');
  assert((await page.textContent('#up-report table.invalid')).includes('JD902'), 'the invalid feature is named');
  assert(await page.isDisabled('#up-commit'), 'nothing to commit while a feature is invalid');
  // with repair asked for, the bow tie is repaired and named as such; nothing is written by a dry run
  await page.check('#up-makevalid');
  await page.click('#up-dryrun');
  await page.waitForSelector('#up-report table.repaired');
  assert((await page.textContent('#up-report table.repaired')).includes('JD902'), 'the repaired feature is named');
  assert(num(await page.textContent('[data-figure="added"] b')) === 2, 'both would be added once repaired');
  await page.uncheck('#up-makevalid');
  // then the good file: dry run, drawn, nothing written yet
  await page.setInputFiles('#up-file', uploadFile([added]));
  await page.click('#up-dryrun');
  await page.waitForSelector('#up-report[data-dry-run="true"] [data-figure="added"]');
  await page.waitForFunction(() => !document.querySelector('#up-commit').disabled);
  assert(num(await page.textContent('[data-figure="added"] b')) === 1, 'one added in the dry run');
  near(num(await page.textContent('#up-report p b')), areaM2(added.geometry), 0.2, 'the dry run reports the area change');
  let stored = await server.json('/collections/farmland/items?code=JD901');
  assert(stored.features.length === 0, 'a dry run writes nothing');
  await page.waitForTimeout(800);
  await idle(page);
  const preview = await mapShot(page, 'upload-preview.png');
  await page.screenshot({ path: artifact('upload-dry-run.png') });
  assert(diffPixels(before, preview) > 500, 'the new boundary is drawn over the map');
  await page.click('#up-commit');
  await page.waitForSelector('#up-report[data-dry-run="false"]');
  stored = await server.json('/collections/farmland/items?code=JD901');
  assert(stored.features.length === 1, 'the commit wrote the feature');
  await page.waitForTimeout(300);
  await idle(page);
  const after = await mapShot(page, 'upload-after.png');
  const changed = diffPixels(before, after);
  assert(changed > 500, `the map shows the new planting base (${changed} pixels changed)`);
  const [x, y] = await pagePoint(page, c);
  await page.mouse.click(x, y);
  await page.waitForSelector('#info-body h2[data-collection="farmland"]');
  assert((await page.textContent('#info-body h2')).includes('JD901'), 'a click finds the new feature');
  await page.click('#info-close');
  await tab(page, 'layers');
  await page.waitForFunction((n) => document.querySelector('[data-figures="farmland"]').textContent.includes(`${n} 个`), demo('farmland').features.length + 1);
  await shapefileUpload(added);
}

// A surveyor's zipped Shapefile in CGCS2000 / 3-degree Gauss-Kruger CM 117E
// (made by GDAL) moves the base: the dry run draws the new boundary where the
// file puts it, in lon/lat (as the server read it: its preview), and the old
// one from the server.
async function shapefileUpload(added) {
  const moved = JSON.parse(JSON.stringify(added));
  moved.geometry.coordinates[0] = moved.geometry.coordinates[0].map(([x, y]) => [x + 0.0003, y + 0.0001]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'onemap-shp-'));
  writeFileSync(path.join(dir, 'in.geojson'), JSON.stringify({ type: 'FeatureCollection', features: [moved] }));
  const ogr = spawnSync('ogr2ogr', ['-f', 'ESRI Shapefile', '-t_srs', 'EPSG:4548', '-lco', 'ENCODING=UTF-8',
    path.join(dir, 'survey.shp'), path.join(dir, 'in.geojson')], { encoding: 'utf8' });
  assert(ogr.status === 0, `ogr2ogr: ${ogr.stderr}`);
  const zip = spawnSync('python3', ['-c', `import zipfile,sys,os
d=sys.argv[1]
with zipfile.ZipFile(os.path.join(d,'survey.zip'),'w',zipfile.ZIP_DEFLATED) as z:
    for e in ('shp','shx','dbf','prj','cpg'):
        p=os.path.join(d,'survey.'+e)
        if os.path.exists(p): z.write(p,'survey.'+e)`, dir], { encoding: 'utf8' });
  assert(zip.status === 0, `zip: ${zip.stderr}`);
  await tab(page, 'upload');
  await page.setInputFiles('#up-file', { name: 'survey.zip', mimeType: 'application/zip', buffer: readFileSync(path.join(dir, 'survey.zip')) });
  await page.click('#up-dryrun');
  await page.waitForSelector('#up-report[data-dry-run="true"] [data-figure="changed"]');
  assert(num(await page.textContent('[data-figure="changed"] b')) === 1, 'the Shapefile changes one base');
  await page.waitForFunction(() => window.onemapViewer.app.overlay.getSource().getFeatures().some((f) => f.get('role') === 'new'));
  const drawn = await page.evaluate(() => {
    const src = window.onemapViewer.app.overlay.getSource();
    const lonlat = ([x, y]) => [(x / 6378137) * (180 / Math.PI), (Math.atan(Math.exp(y / 6378137)) * 2 - Math.PI / 2) * (180 / Math.PI)];
    const of = (role) => src.getFeatures().filter((f) => f.get('role') === role).map((f) => f.getGeometry().getCoordinates()[0].map(lonlat));
    return { fresh: of('new'), old: of('old') };
  });
  assert(drawn.fresh.length === 1 && drawn.old.length === 1, `one new and one old boundary drawn (${drawn.fresh.length}, ${drawn.old.length})`);
  for (const [x, y] of drawn.fresh[0]) {
    const d = Math.min(...moved.geometry.coordinates[0].map(([a, b]) => Math.hypot(a - x, b - y)));
    assert(d < 1e-7, `the new boundary lies where the file puts it (${d} degrees off)`);
  }
  for (const [x, y] of drawn.old[0]) {
    const d = Math.min(...added.geometry.coordinates[0].map(([a, b]) => Math.hypot(a - x, b - y)));
    assert(d < 1e-7, `the old boundary is the stored one (${d} degrees off)`);
  }
  await page.waitForTimeout(800); // the flight to the upload
  await idle(page);
  await page.screenshot({ path: artifact('upload-shapefile.png') });
  await page.click('#up-cancel');
  rmSync(dir, { recursive: true, force: true });
}

// n small square parcels with new codes, east of the sub-district (so that
// the dry run's preview meets no stored parcel): enough for the server to
// work on them for a second or more.
function bulkParcels(n) {
  const side = Math.ceil(Math.sqrt(n));
  const d = 0.00005;
  return Array.from({ length: n }, (_, i) => {
    const x = 118.46 + (i % side) * d * 1.2;
    const y = 29.12 + Math.floor(i / side) * d * 1.2;
    return {
      type: 'Feature',
      properties: { code: `BULK${String(i).padStart(6, '0')}`, dlbm: '0101', dlmc: '水田', qsxz: '集体', village_code: '330824003001', owner: '测试' },
      geometry: { type: 'Polygon', coordinates: [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]] },
    };
  });
}

// The last change's sequence number (GET /changes, page by page).
async function lastChange() {
  let since = 0;
  for (;;) {
    const c = await server.json(`/changes?since=${since}&limit=10000`);
    if (!c.changes.length) return since;
    since = c.next;
  }
}

// Every (phase, percent) #up-progress shows from now on, in order, in window.upSeen.
async function recordProgress(p) {
  await p.evaluate(() => {
    if (window.upWatch) window.upWatch.disconnect();
    window.upSeen = [];
    const note = () => {
      const el = document.querySelector('#up-progress');
      if (!el) return;
      const now = { phase: el.dataset.phase, percent: el.dataset.percent, text: el.textContent };
      const last = window.upSeen[window.upSeen.length - 1];
      if (!last || last.phase !== now.phase || last.percent !== now.percent) window.upSeen.push(now);
    };
    window.upWatch = new MutationObserver(note);
    window.upWatch.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase', 'data-percent'] });
  });
}

const SERVER_PHASES = ['reading', 'parsing', 'matching', 'writing', 'indexing', 'committing', 'done'];

async function testUploadProgressCancel() {
  const N = 90000; // about a second of the server's work for a dry run, more for a commit
  const token = server.token('bulk', 'editor');
  const before = (await server.json('/collections/parcels/items?limit=1')).numberMatched;
  const seq = await lastChange();
  const ids = []; // the progress ids the page gave its uploads
  const onRequest = (r) => {
    const m = /\/import\?.*progress_id=([0-9a-f]{32})/.exec(r.url());
    if (m) ids.push(m[1]);
  };
  page.on('request', onRequest);
  expectedImport404 = true;
  await tab(page, 'upload');
  await page.fill('#up-token', token);
  await page.selectOption('#up-layer', 'parcels');
  await page.selectOption('#up-mode', 'upsert');
  // from a file on disk, as a user's would be (a buffer this big crawls through the protocol)
  const file = path.join(server.tmp, 'bulk.geojson');
  writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: bulkParcels(N) }));
  await page.setInputFiles('#up-file', file);
  // the dry run: the file goes up, then the server's phases with a rising percentage, then the report
  await recordProgress(page);
  await page.click('#up-dryrun');
  await page.waitForSelector('#up-report[data-dry-run="true"]', { timeout: 60000 });
  assert(!(await page.$('#up-progress')), 'the progress bar goes when the report comes');
  const seen = await page.evaluate(() => window.upSeen);
  writeArtifact('upload-progress.json', JSON.stringify(seen, null, 1));
  assert(seen.length && seen[0].phase === 'upload' && /上传中 .* MB（\d+%）/.test(seen[0].text), `the upload shows first: ${JSON.stringify(seen[0])}`);
  const server1 = seen.filter((s) => SERVER_PHASES.includes(s.phase));
  assert(seen.findIndex((s) => s.phase !== 'upload') > 0 && server1.length >= 2,
    `then the server's work: ${seen.map((s) => `${s.phase} ${s.percent}`).join(', ')}`);
  const pct = server1.map((s) => Number(s.percent));
  assert(pct.every((x, i) => i === 0 || x >= pct[i - 1]) && pct[pct.length - 1] > pct[0], `the percentage rises: ${pct}`);
  assert(server1.some((s) => /服务器：(读取|解析校验|比对).*%/.test(s.text)), `the phase in words: ${server1.map((s) => s.text).join(' | ')}`);
  assert(num(await page.textContent('[data-figure="added"] b')) === N, 'the dry run would add them all');
  await page.waitForFunction(() => !document.querySelector('#up-commit').disabled);
  await idle(page); // the preview drawn
  // the commit, cancelled while the server works on it: nothing written
  await recordProgress(page);
  await page.click('#up-commit');
  await page.waitForFunction((phases) => window.upSeen.some((s) => phases.includes(s.phase)), SERVER_PHASES.slice(0, -2), { polling: 20, timeout: 60000 });
  await page.click('#up-cancel');
  await page.waitForFunction(() => (document.querySelector('#up-cancelled') || {}).textContent === '已取消，未写入任何数据', null, { timeout: 30000 });
  await page.screenshot({ path: artifact('upload-cancelled.png') });
  const id = ids[ids.length - 1];
  const end = await server.json(`/imports/${id}`, { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });
  assert(ids.length === 2 && end.dry_run === false && end.state === 'cancelled', `the server stopped the commit: ${JSON.stringify(end)}`);
  assert((await server.json('/collections/parcels/items?limit=1')).numberMatched === before, 'no parcel was written');
  assert((await server.json(`/changes?since=${seq}`)).changes.length === 0, 'no change was recorded');
  assert(!(await page.$('#up-progress')) && await page.isDisabled('#up-commit'), 'no progress bar, nothing to commit');
  assert(!((await page.getAttribute('#toast', 'class')) || '').includes('error'), 'no error toast');
  assert(await page.evaluate(() => !window.onemapViewer.app.overlay.getSource().getFeatures().some((f) => f.get('role') === 'new')),
    'the preview is cleared');
  await page.evaluate(() => window.upWatch.disconnect());
  page.off('request', onRequest);
  await page.evaluate(() => window.onemapViewer.app.fitHome());
  await page.waitForTimeout(500); // the flight home
  await idle(page);
}

async function testEnglish() {
  // the address keeps the view: a reload comes back to the same place
  const before = await page.evaluate(() => [window.onemapViewer.app.view.getCenter(), window.onemapViewer.app.view.getZoom()]);
  assert(/^#map=/.test(await page.evaluate(() => window.location.hash)), 'the view is in the address');
  await page.click('#lang');
  assert((await page.textContent('#tabs button[data-tab="query"]')) === 'Area query', 'tabs in English');
  assert((await page.textContent('[data-layer-row="parcels"] label')).includes('Parcels'), 'layer names in English');
  await page.reload();
  await page.waitForFunction(() => window.onemapViewer && document.body.classList.contains('ready'));
  await idle(page);
  assert((await page.textContent('#topbar h1')) === 'Qinyang one map', 'the choice is kept');
  const after = await page.evaluate(() => [window.onemapViewer.app.view.getCenter(), window.onemapViewer.app.view.getZoom()]);
  assert(Math.hypot(after[0][0] - before[0][0], after[0][1] - before[0][1]) < 1 && Math.abs(after[1] - before[1]) < 0.01,
    `the reload keeps the view (${before} vs ${after})`);
  await page.click('#lang');
  assert((await page.textContent('#topbar h1')).includes('芹阳'), 'back to Chinese');
}

async function testItemsFallback() {
  // a server without tiles is drawn from items by bounding box; ?draw=items asks for that here
  const p = watch(await browser.context.newPage());
  const items = [];
  p.on('request', (r) => {
    if (/\/collections\/parcels\/items\?bbox=/.test(r.url())) items.push(r.url());
  });
  await openViewer(p, '/?draw=items&lang=en');
  assert(items.length > 0, 'parcels come from items');
  assert((await p.textContent('#topbar h1')) === 'Qinyang one map', '?lang=en');
  const all = await mapShot(p);
  await p.uncheck('#layer-parcels');
  await idle(p);
  assert(diffPixels(all, await mapShot(p)) > 1000, 'the parcels drawn from items');
  await p.close();
}

// A one-colour 256x256 PNG, for a stand-in basemap server.
function solidPng(r, g, b) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = crcTable[(c ^ x) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(256, 0);
  ihdr.writeUInt32BE(256, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(256).fill([r, g, b]).flat())]);
  const raw = Buffer.concat(Array(256).fill(row));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function testBasemap() {
  // a local stand-in for an XYZ tile server: the page may load it (CSP) and draws it under the layers
  const png = solidPng(40, 90, 200);
  let served = 0;
  const tiles = http.createServer((req, res) => {
    served++;
    res.writeHead(/^\/\d+\/\d+\/\d+\.png$/.test(req.url) ? 200 : 404, { 'Content-Type': 'image/png' });
    res.end(png);
  });
  await new Promise((r) => tiles.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${tiles.address().port}/{z}/{x}/{y}.png`;
  const other = await startServer(['--basemap', url]);
  try {
    const p = watch(await browser.context.newPage());
    await p.goto(`${other.base}/`);
    await p.waitForFunction(() => window.onemapViewer && document.body.classList.contains('ready'), null, { timeout: 60000 });
    await p.waitForTimeout(500);
    await p.evaluate(() => window.onemapViewer.idle());
    await p.waitForTimeout(500);
    assert(served > 0, 'the basemap tiles were requested');
    const img = decodePng(await p.locator('#map').screenshot());
    // the corner lies outside the sub-district: only the basemap is there
    const i = (10 * img.width + img.width - 30) * 4;
    const px = [img.data[i], img.data[i + 1], img.data[i + 2]];
    assert(Math.abs(px[0] - 40) < 8 && Math.abs(px[1] - 90) < 8 && Math.abs(px[2] - 200) < 8, `the basemap is drawn: ${px}`);
    await p.uncheck('.basemap input');
    await p.waitForTimeout(300);
    const off = decodePng(await p.locator('#map').screenshot());
    assert(off.data[i + 2] < 150 || off.data[i] > 150, 'the basemap switch hides it');
    await p.screenshot({ path: artifact('basemap.png') });
    await p.close();
  } finally {
    await other.stop();
    tiles.close();
  }
}

async function testPhone() {
  const phone = watch(await browser.context.newPage());
  await phone.setViewportSize({ width: 390, height: 844 });
  await openViewer(phone);
  const mapBox = await phone.locator('#map').boundingBox();
  assert(mapBox.width >= 380, `the map fills the phone's width (${mapBox.width})`);
  assert(await phone.evaluate(() => document.body.classList.contains('panel-closed')), 'the panel starts closed on a phone');
  await phone.screenshot({ path: artifact('phone.png') });
  await phone.click('#panel-toggle');
  await phone.waitForTimeout(400);
  const panel = await phone.locator('#panel').boundingBox();
  assert(panel.y > 300 && panel.y + panel.height <= 845, 'the panel opens as a bottom sheet');
  await phone.screenshot({ path: artifact('phone-panel.png') });
  await phone.close();
}

async function testNoConsoleErrors() {
  const unexpected = errors.filter((e) => !(expected422 && /status of 422/.test(e))
    && !(expectedImport404 && /status of 404/.test(e) && /\/imports\/[0-9a-f]{32}/.test(e)));
  assert(unexpected.length === 0, `no console errors: ${unexpected.join(' | ')}`);
  writeArtifact('timings.json', JSON.stringify(timings, null, 2));
  console.log(`page load: first ${timings.firstLoadMs} ms, again ${timings.secondLoadMs} ms (until all layers are drawn)`);
}

let failed = 1;
try {
  failed = await run([
    ['page loads, Chinese, layer figures, no console errors', testPageLoads],
    ['each layer draws', testEachLayerDraws],
    ['identify a known parcel', testIdentifyParcel],
    ['area query by polygon = API statistics', testAreaQueryPolygon],
    ['area query by rectangle', testAreaQueryRectangle],
    ['area query by village', testPickVillage],
    ['search', testSearchVillage],
    ['dashboard figures', testDashboard],
    ['upload: invalid, dry run, commit', testUpload],
    ['upload: progress, cancel writes nothing', testUploadProgressCancel],
    ['English switch', testEnglish],
    ['items instead of tiles, ?lang=en', testItemsFallback],
    ['basemap from a configured XYZ server', testBasemap],
    ['phone layout', testPhone],
    ['no console errors in any test', testNoConsoleErrors],
  ]);
} finally {
  await browser.close();
  await server.stop(failed > 0);
}
process.exit(failed ? 1 : 0);
