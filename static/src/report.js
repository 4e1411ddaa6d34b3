// report: 出图 — an A4 landscape sheet of the current view, a village or a
// grid: a title, the office, the map's date (and the period, when its
// figures are asked for), the map drawn at print resolution (mapimage.js)
// with a scale bar and a north arrow, the legend of the layers shown, and
// the figures of that area: its summary at the map's instant, or a
// period's figures (a year, or the period last compared). The sheet is
// shown on screen first; 打印 hands it to the browser, whose print style
// shows only the sheet (@page A4 landscape).
import { getPointResolution, transformExtent } from 'ol/proj.js';
import { getJSON } from './api.js';
import { comparePeriod } from './compare.js';
import { $, clear, h, toast, turns } from './dom.js';
import { CROPS, STATUSES, groupLabel } from './domain.js';
import { fillGridSelect, fillVillageSelect, placeByRef } from './gazetteer.js';
import { fmtNumber, lang, onLangChange, t } from './i18n.js';
import { layerTitle } from './layerpanel.js';
import { mapImage } from './mapimage.js';
import { readFeature, readGeometry } from './map.js';
import { periodSummary, yearPeriod } from './period.js';
import { COMPARE_LEGEND, legendOf } from './styles.js';
import { asOf, officeParts, officeYear, showInstant } from './when.js';

// The map's box on the sheet (see .sheet-map in app.css) and its pixels per millimetre (150 dpi).
const MAP_MM = [190, 168];
const PX_PER_MM = 150 / 25.4;
const YEARS = 8; // years offered for a period's figures
const GROUPED = ['farmland', 'demolition_sites', 'communities']; // listed with their groups
const SVG = 'http://www.w3.org/2000/svg';
const turn = turns();

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

function northArrow() {
  return svg('svg', { viewBox: '0 0 20 30', class: 'sheet-north', role: 'img', 'aria-label': t('report.north') },
    svg('polygon', { points: '10,2 17,22 10,18', fill: '#222' }),
    svg('polygon', { points: '10,2 3,22 10,18', fill: '#fff', stroke: '#222', 'stroke-width': 0.8 }),
    svg('text', { x: 10, y: 29.5, 'text-anchor': 'middle', 'font-size': 8, 'font-weight': 'bold' }, 'N'));
}

// A scale bar some 30 mm long on paper, in a round number of metres, and the scale 1:n.
function scaleBar(metresPerMm) {
  const want = 30 * metresPerMm;
  const p = 10 ** Math.floor(Math.log10(want));
  const len = [5, 2, 1].map((k) => k * p).find((x) => x <= want) || p;
  const bar = h('div', { class: 'bar' });
  bar.style.setProperty('width', `${(len / metresPerMm).toFixed(2)}mm`);
  return h('div', { class: 'sheet-scale', dataset: { metres: String(len), scale: String(Math.round(metresPerMm * 1000)) } }, bar,
    h('span', null, len >= 1000 ? `${fmtNumber(len / 1000)} km` : `${fmtNumber(len)} m`),
    h('span', { class: 'ratio' }, `1:${fmtNumber(Math.round(metresPerMm * 1000))}`));
}

function swatch(e) {
  const s = h('span', { class: `swatch${e.dash ? ' dash' : ''}${e.fill ? '' : ' line'}` });
  s.style.setProperty('background-color', e.fill || 'transparent');
  s.style.setProperty('border-color', e.stroke || e.color || 'rgba(0,0,0,0.25)');
  return s;
}

function legend(app) {
  const ids = Object.keys(app.dataLayers).filter((c) => app.dataLayers[c].getVisible()).reverse();
  const compared = app.overlay.getSource().getFeatures().some((f) => COMPARE_LEGEND.some((e) => e.kind === f.get('role')));
  return h('div', { class: 'sheet-legend' }, h('h2', null, t('layers.legend')),
    ids.map((c) => h('div', { class: 'sheet-legend-layer', dataset: { layer: c } }, h('b', null, layerTitle(app, c)),
      h('ul', null, legendOf(c).map((e) => h('li', null, swatch(e), e.label))))),
    compared ? h('div', { class: 'sheet-legend-layer' }, h('b', null, t('tab.compare')),
      h('ul', null, COMPARE_LEGEND.map((e) => h('li', null, swatch({ stroke: e.color }), t(`cmp.${e.kind}`))))) : null);
}

function table(caption, rows) {
  return h('table', { class: 'sheet-figures' }, h('caption', null, caption),
    h('tbody', null, rows.map(([label, value, cls]) => h('tr', { class: cls || null }, h('th', null, label), h('td', null, value)))));
}

// The area's summary at the map's instant: each layer's count and 亩, some with their groups.
function summaryTable(app, summary, when) {
  const rows = [];
  const mu = (x) => `${fmtNumber(x, 1)} ${t('unit.mu')}`;
  for (const c of Object.keys(app.dataLayers).reverse()) {
    const s = summary.collections && summary.collections[c];
    if (!s) continue;
    if (c === 'grids') { // grids and micro-grids cover the same ground: counts only
      rows.push([layerTitle(app, c), (s.groups || []).map((g) => `${fmtNumber(g.count)} ${groupLabel(c, g.key, lang())}`).join(' · '), 'layer']);
      continue;
    }
    rows.push([layerTitle(app, c), `${t('layers.count', { n: fmtNumber(s.total.count) })} · ${mu(s.total.area_mu)}`, 'layer']);
    if (!GROUPED.includes(c)) continue;
    // statuses in their order (planned → reused), the rest by area as the server gives them
    const order = Object.keys(STATUSES);
    const groups = c === 'demolition_sites' ? (s.groups || []).slice().sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key)) : s.groups || [];
    for (const g of groups) rows.push([groupLabel(c, g.key, lang()), `${fmtNumber(g.count)} · ${mu(g.area_mu)}`, 'group']);
  }
  return table(t('report.figures.at', { at: when }), rows);
}

// A period's figures, and each layer's added / removed / changed.
function periodTable(app, summary, label) {
  const f = summary.figures;
  const mu = (x) => `${fmtNumber(x, 1)} ${t('unit.mu')}`;
  const rows = [
    [t('year.acquired'), `${mu(f.acquired.area_mu)} · ${t('year.lots', { n: fmtNumber(f.acquired.count) })}`],
    [t('year.demolished'), `${fmtNumber(f.demolished.floor_area_m2, 1)} ${t('year.sqm')}`],
    [t('year.houses'), `${fmtNumber(f.demolished.main_houses)} ${t('year.houses.unit')}`],
    [t('year.graves'), `${fmtNumber(f.demolished.graves)} ${t('year.graves.unit')}`],
    ...f.planted.crops.map((c) => [`${t('year.planted')} · ${lang() === 'en' && CROPS[c.crop] ? CROPS[c.crop].en : c.crop}`, mu(c.area_mu)]),
    [t('year.joined'), `${fmtNumber(f.red_property_joined.count)} ${t('year.joined.unit')}`],
  ];
  for (const c of Object.keys(app.dataLayers).reverse()) {
    const s = summary.collections && summary.collections[c];
    if (!s || !(s.added || s.removed || s.changed)) continue;
    rows.push([layerTitle(app, c), t('report.changes', { a: fmtNumber(s.added), r: fmtNumber(s.removed), c: fmtNumber(s.changed) }), 'layer']);
  }
  return table(label, rows);
}

// {from, to, name} of the figures chosen, or null for the map's instant
function periodOf(choice) {
  const m = /^year:(\d{4})$/.exec(choice);
  if (m) return { ...yearPeriod(Number(m[1])), name: t('report.time.year', { y: m[1] }) };
  const cmp = choice === 'compare' ? comparePeriod() : null;
  return cmp ? { ...cmp, name: t('report.figures.compared') } : null;
}

function periodLabel(p) {
  return `${showInstant(p.from)} — ${p.to ? showInstant(p.to) : t('cmp.now')}`;
}

// Builds the sheet for the form's choices.
async function make(app) {
  const current = turn.next();
  const sheet = clear($('#report-sheet'));
  sheet.dataset.ready = 'false';
  $('#report-print').disabled = true;
  sheet.append(h('p', { class: 'muted report-wait' }, t('report.making')));
  const ref = $('#report-grid').value || $('#report-village').value;
  const choice = $('#report-time').value;
  const period = periodOf(choice);
  const place = ref ? await placeByRef(ref) : null;
  const when = asOf() ? showInstant(asOf()) : t('report.now', { at: showInstant(Date.now()) });
  const width = Math.round(MAP_MM[0] * PX_PER_MM);
  const height = Math.round(MAP_MM[1] * PX_PER_MM);
  const extent = place ? readGeometry(place.geometry).getExtent() : app.view.calculateExtent(app.map.getSize());
  const outline = place ? readFeature({ type: 'Feature', properties: { role: 'area' }, geometry: place.geometry }) : null;
  if (outline) app.overlay.getSource().addFeature(outline);
  let image;
  try {
    image = await mapImage(app, { width, height, extent, padding: place ? [30, 30, 30, 30] : [0, 0, 0, 0] });
  } finally {
    if (outline) app.overlay.getSource().removeFeature(outline);
  }
  // what the image shows, in lon/lat: the area of the figures for the current view
  const half = [(width / 2) * image.resolution, (height / 2) * image.resolution];
  const shownExtent = [image.center[0] - half[0], image.center[1] - half[1], image.center[0] + half[0], image.center[1] + half[1]];
  const ll = transformExtent(shownExtent, 'EPSG:3857', 'EPSG:4326').map((x) => x.toFixed(7)).join(',');
  const area = ref ? { within: ref } : { bbox: ll };
  const summary = period ? await periodSummary(period, area) : await getJSON('/summary', area);
  if (!current()) return;
  const metresPerPx = getPointResolution('EPSG:3857', image.resolution, image.center, 'm');
  const scope = place ? place.properties.name : t('report.scope.view');
  const img = h('img', { src: image.url, alt: t('report.map.alt', { scope }) });
  await new Promise((resolve) => {
    img.onload = resolve;
    img.onerror = resolve;
  });
  if (!current()) return;
  clear(sheet).append(
    h('header', null,
      h('div', null, h('h1', { id: 'sheet-title' }, $('#report-title').value || t('title')),
        h('div', { class: 'sheet-office' }, t('office'))),
      h('div', { class: 'sheet-meta' },
        h('div', null, t('report.line', { k: t('report.scope'), v: scope })),
        h('div', { id: 'sheet-date' }, t('report.line', { k: t('report.mapdate'), v: when })),
        period ? h('div', { id: 'sheet-period' }, t('report.line', { k: t('report.period'), v: periodLabel(period) })) : null,
        h('div', { class: 'muted' }, t('report.line', { k: t('report.made'), v: officeParts(Date.now()).date })))),
    h('div', { class: 'sheet-body' },
      h('figure', { class: 'sheet-map' }, img, northArrow(), scaleBar(metresPerPx * PX_PER_MM)),
      h('aside', { class: 'sheet-side' }, legend(app),
        period ? periodTable(app, summary, period.name) : summaryTable(app, summary, when))));
  sheet.dataset.ready = 'true';
  $('#report-print').disabled = false;
}

function timeOptions() {
  const now = officeYear();
  const cmp = comparePeriod();
  return [
    h('option', { value: 'map' }, t('report.time.map')),
    ...Array.from({ length: YEARS }, (_, i) => now - i).map((y) => h('option', { value: `year:${y}` }, t('report.time.year', { y }))),
    cmp ? h('option', { value: 'compare' }, t('report.time.compare', { period: periodLabel(cmp) })) : null,
  ];
}

function close() {
  turn.cancel();
  $('#report').hidden = true;
  document.body.classList.remove('reporting');
}

function open(app) {
  const root = $('#report');
  root.hidden = false;
  document.body.classList.add('reporting');
  const keep = $('#report-time').value;
  clear($('#report-time')).append(...timeOptions().filter(Boolean));
  if ([...$('#report-time').options].some((o) => o.value === keep)) $('#report-time').value = keep;
  // the villages of the map's instant; the choice stays when its village still exists
  const village = $('#report-village');
  const was = village.value;
  fillVillageSelect(village, t('report.scope.view')).then(() => {
    village.value = [...village.options].some((o) => o.value === was) ? was : '';
    if (village.value !== was) clear($('#report-grid')).append(h('option', { value: '' }, t('query.grid')));
  }).catch((e) => toast(t('err.load', { msg: e.message }), 'error'));
  $('#report-make').focus();
}

function build(app) {
  const old = $('#report');
  const title = old ? $('#report-title').value : t('title');
  if (old) old.remove();
  const village = h('select', { id: 'report-village', 'aria-label': t('report.scope') });
  const grid = h('select', { id: 'report-grid', 'aria-label': t('query.grid') }, h('option', { value: '' }, t('query.grid')));
  village.addEventListener('change', async () => {
    const v = village.value ? await placeByRef(village.value) : null;
    await fillGridSelect(grid, t('query.grid'), v ? v.properties.code : '__none__');
  });
  const root = h('div', { id: 'report', hidden: true, role: 'dialog', 'aria-label': t('report.open') },
    h('div', { class: 'report-bar form' },
      h('label', null, t('report.title'), h('input', { id: 'report-title', value: title })),
      h('label', null, t('report.scope'), h('span', { class: 'when' }, village, grid)),
      h('label', null, t('report.time'), h('select', { id: 'report-time' }, timeOptions())),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', id: 'report-make', class: 'primary', onclick: () => make(app).catch((e) => {
          clear($('#report-sheet')).append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
        }) }, t('report.make')),
        h('button', { type: 'button', id: 'report-print', disabled: true, onclick: () => window.print() }, t('report.print')),
        h('button', { type: 'button', id: 'report-close', onclick: close }, t('info.close')))),
    h('div', { class: 'report-stage' }, h('div', { id: 'report-sheet', class: 'sheet', dataset: { ready: 'false' } },
      h('p', { class: 'muted report-wait' }, t('report.intro')))));
  document.body.append(root);
}

export function initReport(app) {
  build(app);
  $('#report-open').addEventListener('click', () => open(app));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('#report').hidden) close();
  });
  onLangChange(() => {
    const wasOpen = !$('#report').hidden;
    build(app);
    if (wasOpen) open(app);
  });
}
