// query: the 区域统计 tab — an area drawn as a rectangle or polygon, or a
// village or grid picked from a list, then per layer the server's statistics
// grouped by the layer's natural key (count, 亩, m²), the matching features
// highlighted on the map, and CSV / GeoJSON export of the result. All at
// the map's instant (when.js): a change of instant runs the query again.
import Draw, { createBox } from 'ol/interaction/Draw.js';
import { getJSON, postJSON, getAllItems } from './api.js';
import { clear, h, saveFile, toast, turns } from './dom.js';
import { GROUP_BY, groupLabel } from './domain.js';
import { fillGridSelect, fillVillageSelect, placeByRef } from './gazetteer.js';
import { bboxOf, interiorsMeet } from './geom.js';
import { fmtNumber, lang, onLangChange, t } from './i18n.js';
import { layerTitle } from './layerpanel.js';
import { flyTo, readFeature, readGeometry, writeGeometry } from './map.js';
import { asOf, onAsOfChange, showInstant } from './when.js';

let draw = null;
let last = null; // {area, results: [{collection, stats}], matches: [features]}
const turn = turns();

function overlayClear(app, roles) {
  const src = app.overlay.getSource();
  src.getFeatures().filter((f) => roles.includes(f.get('role'))).forEach((f) => src.removeFeature(f));
}

function stopDrawing(app) {
  if (draw) app.map.removeInteraction(draw);
  draw = null;
  // the closing click's singleclick comes 250 ms later: it is not an identify
  setTimeout(() => (app.drawing = !!draw), 600);
  document.querySelectorAll('#tab-query .tools button').forEach((b) => b.classList.remove('active'));
}

function startDrawing(app, kind, button) {
  stopDrawing(app);
  app.drawing = true;
  button.classList.add('active');
  draw = kind === 'box'
    ? new Draw({ type: 'Circle', geometryFunction: createBox() })
    : new Draw({ type: 'Polygon' });
  draw.on('drawend', (ev) => {
    const geometry = writeGeometry(ev.feature.getGeometry());
    stopDrawing(app);
    runQuery(app, { geometry, ref: null, label: t(kind === 'box' ? 'query.box' : 'query.polygon') });
  });
  app.map.addInteraction(draw);
  toast(t(kind === 'box' ? 'query.drawing.box' : 'query.drawing.polygon'));
}

async function statsOf(collection, area, clip) {
  const group_by = GROUP_BY[collection];
  if (area.ref) {
    return getJSON(`/collections/${collection}/stats`, { within: area.ref, group_by, clip: String(clip) });
  }
  return postJSON(`/collections/${collection}/stats`, { geometry: area.geometry, group_by, clip });
}

async function matchesOf(collection, area) {
  const b = bboxOf(area.geometry);
  const fc = await getAllItems(collection, { bbox: b.map((x) => x.toFixed(8)).join(',') });
  return fc.features.filter((f) => interiorsMeet(f.geometry, area.geometry))
    .map((f) => ({ ...f, properties: { collection, ...f.properties } }));
}

function resultTable(app, area, results) {
  const rows = [];
  for (const { collection, stats } of results) {
    if (!stats) continue;
    rows.push(h('tr', { class: 'layer-total', dataset: { collection } },
      h('th', null, layerTitle(app, collection)), h('td', { class: 'num' }, fmtNumber(stats.total.count)),
      h('td', { class: 'num', dataset: { mu: stats.total.area_mu } }, fmtNumber(stats.total.area_mu, 2)),
      h('td', { class: 'num' }, fmtNumber(stats.total.area_m2, 1))));
    for (const g of stats.groups || []) {
      rows.push(h('tr', { class: 'group', dataset: { collection, key: String(g.key) } },
        h('td', null, groupLabel(collection, g.key, lang())), h('td', { class: 'num' }, fmtNumber(g.count)),
        h('td', { class: 'num', dataset: { mu: g.area_mu } }, fmtNumber(g.area_mu, 2)),
        h('td', { class: 'num' }, fmtNumber(g.area_m2, 1))));
    }
  }
  const areaInfo = results.find((r) => r.stats && r.stats.area);
  return [
    h('p', { class: 'query-area' }, h('b', null, t('query.area')), ': ', area.label,
      areaInfo ? ` · ${fmtNumber(areaInfo.stats.area.area_mu, 2)} ${t('unit.mu')}` : '',
      asOf() ? h('span', { class: 'asof-note' }, ` · ${t('asof.short', { at: showInstant(asOf()) })}`) : ''),
    h('div', { class: 'table-wrap' }, h('table', { class: 'stats', id: 'query-table' },
      h('thead', null, h('tr', null, h('th', null, `${t('query.layer')} / ${t('query.group')}`),
        h('th', null, t('query.count')), h('th', null, t('unit.mu')), h('th', null, t('unit.m2')))),
      h('tbody', null, rows))),
  ];
}

function renderResult(app) {
  const out = clear(document.getElementById('query-result'));
  if (!last) return;
  out.append(...resultTable(app, last.area, last.results));
  out.append(h('p', { class: 'muted', id: 'query-highlighted' },
    last.matches ? t('query.highlighted', { n: fmtNumber(last.matches.length) }) : ''));
  out.append(h('div', { class: 'buttons' },
    h('button', { type: 'button', onclick: () => exportCsv(app) }, t('query.csv')),
    h('button', { type: 'button', onclick: () => exportGeoJSON() }, t('query.geojson'))));
}

function csvCell(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function exportCsv(app) {
  const lines = [['collection', 'layer', 'group', 'group_label', 'count', 'area_m2', 'area_mu', 'area_ha']];
  for (const { collection, stats } of last.results) {
    if (!stats) continue;
    const name = layerTitle(app, collection);
    lines.push([collection, name, '*', t('query.total'), stats.total.count, stats.total.area_m2, stats.total.area_mu, stats.total.area_ha]);
    for (const g of stats.groups || []) {
      lines.push([collection, name, g.key, groupLabel(collection, g.key, lang()), g.count, g.area_m2, g.area_mu, g.area_ha]);
    }
  }
  // the byte order mark lets spreadsheet programs read the Chinese as UTF-8
  saveFile('onemap-query.csv', `\ufeff${lines.map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`, 'text/csv;charset=utf-8');
}

function exportGeoJSON() {
  const fc = {
    type: 'FeatureCollection',
    features: [{ type: 'Feature', properties: { role: 'query_area', label: last.area.label }, geometry: last.area.geometry },
      ...(last.matches || [])],
  };
  saveFile('onemap-query.geojson', JSON.stringify(fc), 'application/geo+json');
}

export async function runQuery(app, area) {
  const current = turn.next();
  const clip = document.getElementById('query-clip').checked;
  overlayClear(app, ['area', 'match']);
  const af = readFeature({ type: 'Feature', properties: { role: 'area' }, geometry: area.geometry });
  app.overlay.getSource().addFeature(af);
  const out = clear(document.getElementById('query-result'));
  out.append(h('p', { class: 'muted' }, t('query.running')));
  const ids = Object.keys(app.dataLayers);
  try {
    const results = await Promise.all(ids.map(async (collection) => ({ collection, stats: await statsOf(collection, area, clip) })));
    if (!current()) return;
    last = { area, results, matches: null };
    renderResult(app);
    // villages and grids are the frame, not the subject: not highlighted
    const visible = ids.filter((c) => app.dataLayers[c].getVisible() && c !== 'villages' && c !== 'grids');
    const matches = (await Promise.all(visible.map((c) => matchesOf(c, area).catch(() => [])))).flat();
    if (!current()) return;
    last.matches = matches;
    for (const m of matches) {
      const f = readFeature(m);
      f.set('role', 'match');
      app.overlay.getSource().addFeature(f);
    }
    renderResult(app);
  } catch (e) {
    if (current()) {
      clear(out).append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
    }
  }
}

async function pick(app, ref) {
  if (!ref) return;
  const place = await placeByRef(ref);
  if (!place) return;
  flyTo(app.view, readGeometry(place.geometry), 17);
  runQuery(app, { geometry: place.geometry, ref, label: place.properties.name });
}

function clearQuery(app) {
  stopDrawing(app);
  turn.cancel();
  last = null;
  overlayClear(app, ['area', 'match']);
  clear(document.getElementById('query-result'));
}

function build(app) {
  const root = clear(document.getElementById('tab-query'));
  const village = h('select', { id: 'query-village', 'aria-label': t('query.village') });
  const grid = h('select', { id: 'query-grid', 'aria-label': t('query.grid') });
  village.addEventListener('change', async () => {
    const v = village.value ? await placeByRef(village.value) : null;
    await fillGridSelect(grid, t('query.grid'), v ? v.properties.code : '__none__');
    pick(app, village.value);
  });
  grid.addEventListener('change', () => pick(app, grid.value));
  const boxBtn = h('button', { type: 'button', id: 'query-box', onclick: (ev) => startDrawing(app, 'box', ev.currentTarget) }, '▭ ', t('query.box'));
  const polyBtn = h('button', { type: 'button', id: 'query-polygon', onclick: (ev) => startDrawing(app, 'polygon', ev.currentTarget) }, '⬠ ', t('query.polygon'));
  root.append(
    h('p', { class: 'muted' }, t('query.intro')),
    h('div', { class: 'tools buttons' }, boxBtn, polyBtn,
      h('button', { type: 'button', id: 'query-clear', onclick: () => clearQuery(app) }, t('query.clear'))),
    h('div', { class: 'pick' }, village, grid),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'query-clip', checked: true }), ' ', t('query.clip')),
    h('div', { id: 'query-result' }));
  fillVillageSelect(village, t('query.village')).catch((e) => toast(t('err.load', { msg: e.message }), 'error'));
  fillGridSelect(grid, t('query.grid'), '__none__').catch(() => {});
  renderResult(app);
}

export function initQuery(app) {
  build(app);
  onLangChange(() => build(app));
  onAsOfChange(() => {
    if (last) runQuery(app, last.area);
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && draw) stopDrawing(app);
  });
}
