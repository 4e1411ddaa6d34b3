// search: one box for parcel codes, villages, grids (name, code or grid
// manager) and communities; picking a result flies there and opens it.
import { getJSON } from './api.js';
import { clear, h, turns } from './dom.js';
import { places } from './gazetteer.js';
import { t } from './i18n.js';
import { layerTitle } from './layerpanel.js';
import { showFeature } from './identify.js';
import { flyTo, readGeometry } from './map.js';

const MAX_PER_LAYER = 8;
const turn = turns();

function matchPlaces(list, q, fields) {
  const lower = q.toLowerCase();
  return list.filter((f) => fields.some((k) => String(f.properties[k] ?? '').toLowerCase().includes(lower)))
    .slice(0, MAX_PER_LAYER);
}

// Parcel codes: part of a code when the server speaks CQL2 (LIKE), else the whole code.
async function parcelsByCode(app, q) {
  if (!/^[0-9A-Za-z_-]{3,}$/.test(q)) return [];
  if (app.cql2) {
    const fc = await getJSON('/collections/parcels/items', {
      filter: `code LIKE '%${q}%'`, 'filter-lang': 'cql2-text', limit: MAX_PER_LAYER,
    });
    return fc.features;
  }
  const fc = await getJSON('/collections/parcels/items', { code: q, limit: MAX_PER_LAYER });
  return fc.features;
}

async function find(app, q) {
  const [vs, gs, cs, ps] = await Promise.all([
    places('villages').catch(() => []), places('grids').catch(() => []), places('communities').catch(() => []),
    parcelsByCode(app, q).catch(() => []),
  ]);
  return [
    ...matchPlaces(vs, q, ['name', 'code']).map((f) => ({ collection: 'villages', f, label: f.properties.name, sub: f.properties.code })),
    ...matchPlaces(gs, q, ['name', 'code', 'manager']).map((f) => ({ collection: 'grids', f, label: f.properties.name, sub: f.properties.manager || f.properties.code })),
    ...matchPlaces(cs, q, ['name', 'code']).map((f) => ({ collection: 'communities', f, label: f.properties.name, sub: f.properties.property_company || '' })),
    ...ps.map((f) => ({ collection: 'parcels', f, label: f.properties.code, sub: f.properties.dlmc || f.properties.dlbm })),
  ];
}

function go(app, r) {
  const list = document.getElementById('search-results');
  list.hidden = true;
  flyTo(app.view, readGeometry(r.f.geometry), r.collection === 'parcels' ? 18 : 17);
  showFeature(app, r.collection, r.f.id);
}

export function initSearch(app) {
  const input = document.getElementById('search-input');
  const list = document.getElementById('search-results');
  let results = [];
  let timer = null;
  const run = async () => {
    const q = input.value.trim();
    const current = turn.next();
    if (!q) {
      list.hidden = true;
      return;
    }
    clear(list).append(h('li', { class: 'muted' }, t('search.searching')));
    list.hidden = false;
    results = await find(app, q);
    if (!current()) return;
    clear(list);
    if (!results.length) list.append(h('li', { class: 'muted' }, t('search.none')));
    results.forEach((r, i) => list.append(h('li', { role: 'option', dataset: { index: String(i) } },
      h('button', { type: 'button', onclick: () => go(app, r) },
        h('span', { class: 'layer-tag' }, layerTitle(app, r.collection)), ' ', r.label,
        r.sub ? h('small', null, ' ', r.sub) : ''))));
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 200);
  });
  input.addEventListener('keydown', async (ev) => {
    if (ev.key === 'Enter') {
      clearTimeout(timer);
      await run();
      if (results.length) go(app, results[0]);
    } else if (ev.key === 'Escape') {
      list.hidden = true;
    }
  });
  input.addEventListener('focus', () => {
    places('villages').catch(() => {});
    places('grids').catch(() => {});
    places('communities').catch(() => {});
  });
  document.addEventListener('click', (ev) => {
    if (!ev.target.closest('#search')) list.hidden = true;
  });
}
