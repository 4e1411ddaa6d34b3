// identify: a click on the map shows, in the 详情 drawer, the feature's
// attributes under the layer schema's titles, its area in m² and 亩, who is
// responsible for the spot (/locate: village, grid, micro-grid, manager and
// phone) and its history. Search opens features through showFeature. At a
// past instant (when.js) all of it is as things stood then, the version
// shown is marked in the history, and the drawer follows a change of instant.
import { toLonLat } from 'ol/proj.js';
import { getJSON } from './api.js';
import { clear, h, toast, turns } from './dom.js';
import { NAME_FIELD, valueLabel } from './domain.js';
import { fmtNumber, lang, onLangChange, t } from './i18n.js';
import { layerTitle } from './layerpanel.js';
import { readFeature } from './map.js';
import { featureId } from './source.js';
import { runQuery } from './query.js';
import { asOf, onAsOfChange, showInstant } from './when.js';

const HIDDEN = new Set(['geometry', 'area_m2', 'area_mu']);
let current = null; // {collection, id, lonlat, others}
const turn = turns();

export async function queryablesOf(app, collection) {
  if (!app.queryables[collection]) {
    app.queryables[collection] = getJSON(`/collections/${collection}/queryables`).catch(() => ({ properties: {} }));
  }
  return app.queryables[collection];
}

function fieldTitle(q, name) {
  const p = q.properties && q.properties[name];
  if (!p) return name;
  return (lang() === 'en' ? p.description || p.title : p.title || p.description) || name;
}

function attributes(collection, feature, q) {
  const props = feature.properties || {};
  const order = Object.keys(q.properties || {}).filter((k) => !HIDDEN.has(k));
  for (const k of Object.keys(props)) if (!order.includes(k) && !HIDDEN.has(k)) order.push(k);
  const rows = order.filter((k) => props[k] !== undefined && props[k] !== null && props[k] !== '')
    .map((k) => h('tr', { dataset: { field: k } }, h('th', null, fieldTitle(q, k)),
      h('td', null, valueLabel(collection, k, props[k], lang()))));
  rows.push(h('tr', { class: 'area', dataset: { field: 'area' } }, h('th', null, t('info.area')),
    h('td', null,
      h('span', { class: 'mu', dataset: { mu: props.area_mu } }, fmtNumber(props.area_mu, 2), ' ', t('unit.mu')),
      ' · ', h('span', { class: 'm2' }, fmtNumber(props.area_m2, 1), ' ', t('unit.m2')))));
  return h('table', { class: 'attrs' }, rows);
}

function responsible(app, loc) {
  if (!loc) return null;
  const line = (label, x) => x && h('tr', null, h('th', null, label), h('td', null, x));
  const grid = loc.grid;
  const micro = loc.micro_grid;
  const phone = (g) => g && g.phone && h('a', { href: `tel:${g.phone}` }, g.phone);
  // names open the village or grid itself
  const open = (c, x) => x && h('button', {
    type: 'button', class: 'link', onclick: () => showFeature(app, c, x.id, current && current.lonlat),
  }, x.name);
  return h('section', { class: 'responsible' }, h('h3', null, t('info.responsible')),
    h('table', { class: 'attrs' },
      line(t('info.village'), open('villages', loc.village)),
      line(t('info.grid'), open('grids', grid)),
      line(t('info.manager'), grid && grid.manager),
      line(t('info.phone'), phone(grid)),
      line(t('info.microgrid'), open('grids', micro)),
      line(t('info.micro.manager'), micro && micro.manager),
      line(t('info.micro.phone'), phone(micro)),
      line(t('info.point'), `${loc.point[0].toFixed(6)}, ${loc.point[1].toFixed(6)}`)));
}

// The version the map shows: the last one written by its instant.
function shownVersion(versions) {
  const at = asOf() ? Date.parse(asOf()) : Infinity;
  const by = versions.filter((v) => v.op !== 'delete' && Date.parse(v.at) <= at);
  return by.length ? Math.max(...by.map((v) => v.version)) : null;
}

function historyList(hist) {
  const versions = (hist && hist.versions) || [];
  const shown = shownVersion(versions);
  const items = versions.slice().reverse().map((v) => h('li', { dataset: { version: String(v.version) }, class: v.version === shown ? 'shown' : null },
    h('b', null, `v${v.version}`), ' ', t(`op.${v.op}`) !== `op.${v.op}` ? t(`op.${v.op}`) : v.op, ' · ',
    String(v.at || '').replace('T', ' ').replace('Z', ''), v.by ? ` · ${v.by}` : '',
    v.change_id ? h('small', null, ` (${v.change_id})`) : '',
    v.version === shown && asOf() ? h('small', { class: 'shown-note' }, ` ${t('info.shown')}`) : ''));
  return h('section', { class: 'history' }, h('h3', null, t('info.history')),
    items.length ? h('ol', null, items) : h('p', { class: 'muted' }, t('info.nohistory')));
}

function openDrawer(app) {
  document.body.classList.add('info-open');
  return clear(document.getElementById('info-body'));
}

export function closeInfo(app) {
  document.body.classList.remove('info-open');
  current = null;
  app.overlay.getSource().getFeatures().filter((f) => f.get('role') === 'selected')
    .forEach((f) => app.overlay.getSource().removeFeature(f));
}

function select(app, feature) {
  const src = app.overlay.getSource();
  src.getFeatures().filter((f) => f.get('role') === 'selected').forEach((f) => src.removeFeature(f));
  const f = readFeature(feature);
  f.set('role', 'selected');
  src.addFeature(f);
  return f;
}

function otherChips(app, others, lonlat) {
  others = (others || []).filter((o) => o.collection !== 'grids' && o.collection !== 'villages');
  if (!others.length) return null;
  return h('p', { class: 'also' }, t('info.also'), ': ', others.map((o) => h('button', {
    type: 'button', class: 'chip',
    onclick: () => showFeature(app, o.collection, o.id, lonlat, others),
  }, layerTitle(app, o.collection), o.name ? ` ${o.name}` : '')));
}

async function render(app) {
  const latest = turn.next();
  const { collection, id, lonlat, others } = current;
  const body = openDrawer(app);
  body.append(h('p', { class: 'muted' }, t('info.loading')));
  const at = lonlat ? { lon: lonlat[0].toFixed(8), lat: lonlat[1].toFixed(8) } : null;
  const [feature, q, hist, loc] = await Promise.all([
    // 404: not there at the map's instant (created later, or deleted by then)
    collection ? getJSON(`/collections/${collection}/items/${id}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))) : null,
    collection ? queryablesOf(app, collection) : null,
    collection ? getJSON(`/collections/${collection}/items/${id}/history`).catch(() => null) : null,
    at ? getJSON('/locate', at).catch(() => null) : null,
  ]).catch((e) => {
    toast(t('err.load', { msg: e.message }), 'error');
    return [];
  });
  if (!latest() || !current) return;
  clear(body);
  const when = asOf() ? h('p', { class: 'asof-note' }, t('asof.details', { at: showInstant(asOf()) })) : null;
  if (!feature) {
    const none = collection ? t('info.notthen') : t('info.nothing');
    body.append(...[h('h2', null, none), when, responsible(app, loc), collection ? historyList(hist) : null].filter(Boolean));
    return;
  }
  const name = feature.properties[NAME_FIELD[collection]] || feature.properties.code || id;
  // what lies inside this feature: the area query over it
  const within = collection === 'villages' || collection === 'grids' ? `${collection}/${id}` : null;
  const queryHere = h('button', {
    type: 'button', id: 'info-query',
    onclick: () => {
      if (app.showTab) app.showTab('query');
      runQuery(app, { geometry: feature.geometry, ref: within, label: String(name) });
    },
  }, t('info.query'));
  body.append(...[
    h('h2', { dataset: { collection, id: String(id) } }, h('span', { class: 'layer-tag' }, layerTitle(app, collection)), ' ', String(name)),
    when,
    otherChips(app, others.filter((o) => o.collection !== collection || o.id !== id), lonlat),
    attributes(collection, feature, q),
    h('div', { class: 'buttons' }, queryHere),
    responsible(app, loc),
    historyList(hist)].filter(Boolean));
  const sel = select(app, feature);
  if (!lonlat) {
    const g = sel.getGeometry();
    const p = g.getType() === 'Polygon' ? g.getInteriorPoint() : g.getInteriorPoints ? g.getInteriorPoints().getPoint(0) : null;
    if (p) {
      const l = toLonLat(p.getCoordinates().slice(0, 2));
      current.lonlat = l;
      getJSON('/locate', { lon: l[0].toFixed(8), lat: l[1].toFixed(8) }).then((res) => {
        if (!latest()) return;
        const old = body.querySelector('.responsible');
        const fresh = responsible(app, res);
        if (old && fresh) old.replaceWith(fresh);
      }).catch(() => {});
    }
  }
}

// Opens one feature (lonlat: where it was clicked, [lon, lat], or null).
export function showFeature(app, collection, id, lonlat = null, others = []) {
  current = { collection, id, lonlat, others };
  return render(app);
}

function featuresAt(app, pixel) {
  const hits = [];
  const seen = new Set();
  app.map.forEachFeatureAtPixel(pixel, (f, layer) => {
    const c = layer && layer.get('collection');
    if (!c) return;
    const id = featureId(f);
    const key = `${c}/${id}`;
    if (id !== undefined && !seen.has(key)) {
      seen.add(key);
      hits.push({ collection: c, id, name: f.get(NAME_FIELD[c]) || f.get('code') || '' });
    }
  }, { hitTolerance: 3, layerFilter: (l) => !!l.get('collection') && l.getVisible() });
  // a click near a grid line inside a parcel means the parcel
  const outline = (x) => (x.collection === 'grids' || x.collection === 'villages' ? 1 : 0);
  return hits.sort((a, b) => outline(a) - outline(b));
}

export function initIdentify(app) {
  app.map.on('singleclick', (ev) => {
    if (app.drawing) return;
    const hits = featuresAt(app, ev.pixel);
    const lonlat = toLonLat(ev.coordinate);
    if (hits.length) showFeature(app, hits[0].collection, hits[0].id, lonlat, hits);
    else {
      current = { collection: null, id: null, lonlat, others: [] };
      render(app);
    }
  });
  app.map.on('pointermove', (ev) => {
    if (ev.dragging || app.drawing) return;
    const hit = app.map.hasFeatureAtPixel(ev.pixel, { hitTolerance: 3, layerFilter: (l) => !!l.get('collection') });
    app.map.getTargetElement().style.cursor = hit ? 'pointer' : '';
  });
  document.getElementById('info-close').addEventListener('click', () => closeInfo(app));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && document.body.classList.contains('info-open') && !app.drawing) closeInfo(app);
  });
  onLangChange(() => {
    if (current) render(app);
  });
  onAsOfChange(() => {
    if (current) render(app);
  });
}
