// compare: the 对比 tab — the map between two instants A and B. Over the
// current view, the features of the visible layers that were added (green),
// removed (red) or changed (orange, the old boundary dashed) between them
// are drawn over the map and listed per layer with what changed; a row
// flies to its feature. The counts are the server's (/summary?from=A&to=B
// over the view); the features come from each layer's items at A and at B
// in the view, paired by id (changes.js). That read is bounded: at most
// LIMIT features per layer and instant — a layer with more in the view is
// named, with its counts, and left out of the list until the view is smaller.
import { transformExtent } from 'ol/proj.js';
import { getJSON } from './api.js';
import { diffFeatures } from './changes.js';
import { clear, h, toast, turns } from './dom.js';
import { NAME_FIELD, valueLabel } from './domain.js';
import { fmtNumber, lang, onLangChange, t } from './i18n.js';
import { queryablesOf } from './identify.js';
import { layerTitle } from './layerpanel.js';
import { flyTo, readFeature, readGeometry } from './map.js';
import { COMPARE_LEGEND } from './styles.js';
import { instantOf, isFuture, officeYear, showInstant } from './when.js';

export const LIMIT = 5000;
const ROLES = ['added', 'removed', 'changed', 'changed-old'];
const MU = 10000 / 15;
const turn = turns();
// the last comparison: {from, to, bbox, summary, layers: [{collection, diff, more, q}]}
let last = null;
let dates = { aDate: `${officeYear() - 1}-12-31`, aTime: '', bDate: '', bTime: '' };

// The period last compared, {from, to (null: now)}, for the printed report.
export function comparePeriod() {
  return last ? { from: last.from, to: last.to } : null;
}

function overlayClear(app) {
  const src = app.overlay.getSource();
  src.getFeatures().filter((f) => ROLES.includes(f.get('role'))).forEach((f) => src.removeFeature(f));
}

function viewBbox(app) {
  const ll = transformExtent(app.view.calculateExtent(app.map.getSize()), 'EPSG:3857', 'EPSG:4326');
  return [Math.max(ll[0], -180), Math.max(ll[1], -90), Math.min(ll[2], 180), Math.min(ll[3], 90)]
    .map((x) => x.toFixed(7)).join(',');
}

// A layer's features in the view at an instant (null: now), at most LIMIT.
async function snapshot(collection, bbox, at) {
  const fc = await getJSON(`/collections/${collection}/items`, { bbox, asof: at, limit: LIMIT });
  const matched = fc.numberMatched !== undefined ? fc.numberMatched : fc.features.length;
  return { features: fc.features, more: matched > fc.features.length };
}

async function layerChanges(app, collection, bbox, from, to) {
  const [a, b, q] = await Promise.all([snapshot(collection, bbox, from), snapshot(collection, bbox, to),
    queryablesOf(app, collection)]);
  if (a.more || b.more) return { collection, diff: null, more: true, q };
  return { collection, diff: diffFeatures(a.features, b.features), more: false, q };
}

function draw(app) {
  overlayClear(app);
  const drawn = [];
  const add = (f, role) => {
    const of = readFeature(f);
    of.set('role', role);
    drawn.push(of);
  };
  for (const { diff } of last.layers) {
    if (!diff) continue;
    diff.removed.forEach((f) => add(f, 'removed'));
    diff.changed.forEach((c) => {
      if (c.boundary) add(c.before, 'changed-old');
      add(c.after, 'changed');
    });
    diff.added.forEach((f) => add(f, 'added'));
  }
  app.overlay.getSource().addFeatures(drawn);
}

function fieldTitle(q, name) {
  const p = q && q.properties && q.properties[name];
  return (p && (lang() === 'en' ? p.description || p.title : p.title || p.description)) || name;
}

function signedMu(m2, digits = 2) {
  const r = Number((m2 / MU).toFixed(digits));
  return `${r > 0 ? '+' : ''}${fmtNumber(r === 0 ? 0 : r, digits)} ${t('unit.mu')}`; // no "-0.00"
}

// What changed, in words: "作物 水稻 → 香榧；边界 +16.18 亩".
function whatChanged(collection, c, q) {
  const parts = c.fields.map((x) => `${fieldTitle(q, x.name)} ${valueLabel(collection, x.name, x.from, lang()) || '—'} → ${valueLabel(collection, x.name, x.to, lang()) || '—'}`);
  if (c.boundary) parts.push(`${t('cmp.boundary')} ${signedMu(c.areaChangeM2)}`);
  return parts.join(t('cmp.sep'));
}

function featureName(collection, f) {
  const p = f.properties || {};
  const name = p[NAME_FIELD[collection]] || p.code || String(f.id);
  return p.code && p.code !== name ? `${p.code} ${name}` : String(name);
}

function row(app, collection, kind, f, detail) {
  const go = (ev) => {
    document.querySelectorAll('#cmp-result li.current').forEach((li) => li.classList.remove('current'));
    ev.currentTarget.closest('li').classList.add('current');
    flyTo(app.view, readGeometry(f.geometry).getExtent(), 18);
  };
  return h('li', { class: `cmp-${kind}`, dataset: { collection, id: String(f.id), kind } },
    h('button', { type: 'button', class: 'link', onclick: go },
      h('span', { class: `cmp-tag ${kind}` }, t(`cmp.${kind}`)), ' ', featureName(collection, f)),
    detail ? h('small', { class: 'cmp-detail' }, ` ${detail}`) : '');
}

function countsTable(app) {
  const rows = last.layers.map(({ collection }) => {
    const s = (last.summary && last.summary.collections && last.summary.collections[collection]) || {};
    return h('tr', { dataset: { collection } }, h('th', null, layerTitle(app, collection)),
      ['added', 'removed', 'changed'].map((k) => h('td', { class: 'num', dataset: { count: k } }, fmtNumber(s[k] || 0))),
      h('td', { class: 'num' }, s.area_change_m2 !== undefined ? signedMu(s.area_change_m2, 1) : ''));
  });
  return h('div', { class: 'table-wrap' }, h('table', { class: 'stats', id: 'cmp-counts' },
    h('thead', null, h('tr', null, h('th', null, t('query.layer')), h('th', null, t('cmp.added')),
      h('th', null, t('cmp.removed')), h('th', null, t('cmp.changed')), h('th', null, t('cmp.area')))),
    h('tbody', null, rows)));
}

function render(app) {
  const out = clear(document.getElementById('cmp-result'));
  if (!last) return;
  out.append(h('p', { class: 'cmp-period' }, h('b', null, showInstant(last.from)), ' → ',
    h('b', null, last.to ? showInstant(last.to) : t('cmp.now')), ' · ', t('cmp.view')));
  out.append(countsTable(app));
  let listed = 0;
  for (const { collection, diff, more, q } of last.layers) {
    if (more) {
      out.append(h('p', { class: 'warn', dataset: { more: collection } },
        t('cmp.more', { layer: layerTitle(app, collection), n: fmtNumber(LIMIT) })));
      continue;
    }
    const n = diff.added.length + diff.removed.length + diff.changed.length;
    if (!n) continue;
    listed += n;
    out.append(h('h3', null, `${layerTitle(app, collection)} (${fmtNumber(n)})`),
      h('ul', { class: 'cmp-list', dataset: { layer: collection } },
        diff.added.map((f) => row(app, collection, 'added', f, `${signedMu(Number(f.properties.area_m2) || 0)}`)),
        diff.removed.map((f) => row(app, collection, 'removed', f, `${signedMu(-(Number(f.properties.area_m2) || 0))}`)),
        diff.changed.map((c) => row(app, collection, 'changed', c.after, whatChanged(collection, c, q)))));
  }
  if (!listed && !last.layers.some((x) => x.more)) out.append(h('p', { class: 'muted', id: 'cmp-none' }, t('cmp.none')));
}

function readDates() {
  const v = (id) => document.getElementById(id).value;
  dates = { aDate: v('cmp-a-date'), aTime: v('cmp-a-time'), bDate: v('cmp-b-date'), bTime: v('cmp-b-time') };
  const from = instantOf(dates.aDate, dates.aTime);
  const to = dates.bDate ? instantOf(dates.bDate, dates.bTime) : null;
  if (!from || (dates.bDate && !to)) return { error: t('cmp.need') };
  if (isFuture(from) || (to && isFuture(to))) return { error: t('asof.future') };
  if (Date.parse(from) >= (to ? Date.parse(to) : Date.now())) return { error: t('cmp.order') };
  // B not yet past is now: the server's own "now" then ends the period
  return { from, to };
}

export async function runCompare(app) {
  const { from, to, error } = readDates();
  if (error) {
    toast(error, 'error');
    return;
  }
  const current = turn.next();
  const out = clear(document.getElementById('cmp-result'));
  out.append(h('p', { class: 'muted' }, t('cmp.running')));
  const bbox = viewBbox(app);
  const ids = Object.keys(app.dataLayers).filter((c) => app.dataLayers[c].getVisible()).reverse();
  try {
    const [summary, layers] = await Promise.all([
      getJSON('/summary', { from, to: to || undefined, bbox }),
      Promise.all(ids.map((c) => layerChanges(app, c, bbox, from, to))),
    ]);
    if (!current()) return;
    last = { from, to, bbox, summary, layers };
    draw(app);
    render(app);
  } catch (e) {
    if (current()) clear(out).append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
  }
}

function clearCompare(app) {
  turn.cancel();
  last = null;
  overlayClear(app);
  clear(document.getElementById('cmp-result'));
}

function legend() {
  return h('ul', { class: 'legend inline' }, COMPARE_LEGEND.map((e) => h('li', null,
    h('span', { class: 'swatch', style: { 'border-color': e.color, 'background-color': 'transparent' } }), t(`cmp.${e.kind}`))));
}

function build(app) {
  const root = clear(document.getElementById('tab-compare'));
  const keep = () => readDates(); // kept across a rebuild (a language switch)
  const date = (id, value) => h('input', { type: 'date', id, value, onchange: keep });
  const time = (id, value) => h('input', { type: 'time', id, value, step: '1', title: t('asof.time'), onchange: keep });
  root.append(
    h('p', { class: 'muted' }, t('cmp.intro')),
    h('div', { class: 'form cmp-dates' },
      h('label', null, t('cmp.a'), h('span', { class: 'when' }, date('cmp-a-date', dates.aDate), time('cmp-a-time', dates.aTime))),
      h('label', null, t('cmp.b'), h('span', { class: 'when' }, date('cmp-b-date', dates.bDate), time('cmp-b-time', dates.bTime)))),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'cmp-run', class: 'primary', onclick: () => runCompare(app) }, t('cmp.run')),
      h('button', { type: 'button', id: 'cmp-clear', onclick: () => clearCompare(app) }, t('query.clear'))),
    legend(),
    h('div', { id: 'cmp-result' }));
  render(app);
}

export function initCompare(app) {
  build(app);
  onLangChange(() => build(app));
}
