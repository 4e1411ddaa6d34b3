// dashboard: the 统计 tab — for the whole sub-district or one village or
// grid, either the figures computed live from the map at its instant (亩
// acquired, m² demolished, households, graves, 亩 per crop, communities in
// the 红色物业联盟), or (年度) what one year brought (yearview.js).
import { getAllItems, getJSON } from './api.js';
import { barChart } from './chart.js';
import { card, clear, h, turns } from './dom.js';
import { CROPS, OTHER_CROP_COLOR, STATUSES } from './domain.js';
import { fillGridSelect, fillVillageSelect, placeByRef } from './gazetteer.js';
import { interiorsMeet } from './geom.js';
import { fmtNumber, lang, onLangChange, t } from './i18n.js';
import { renderYear, yearData } from './yearview.js';
import { asOf, officeYear, onAsOfChange, showInstant } from './when.js';

let scope = ''; // '' (everything), 'villages/ID' or 'grids/ID'
let mode = 'now'; // 'now': the map's instant; 'year': one year's figures
let year = officeYear();
const FIRST_YEAR = 2015; // the years offered go back to this one
const turn = turns();

async function figures(ref) {
  const area = ref ? { within: ref } : {};
  const place = ref ? await placeByRef(ref) : null;
  const inScope = (f) => !place || interiorsMeet(f.geometry, place.geometry);
  const [demo, farm, comm, sites, communities] = await Promise.all([
    getJSON('/collections/demolition_sites/stats', { ...area, group_by: 'status' }),
    getJSON('/collections/farmland/stats', { ...area, group_by: 'crop' }),
    getJSON('/collections/communities/stats', { ...area, group_by: 'red_property' }),
    getAllItems('demolition_sites'),
    getAllItems('communities'),
  ]);
  const mySites = sites.features.filter(inScope);
  const myComms = communities.features.filter(inScope);
  const sum = (list, k) => list.reduce((s, f) => s + (Number(f.properties[k]) || 0), 0);
  const red = myComms.filter((f) => f.properties.red_property === true);
  return {
    place, demo, farm, comm,
    floor: sum(mySites, 'floor_area_m2'),
    households: sum(mySites, 'households'),
    graves: sum(mySites, 'graves'),
    projects: mySites.length,
    red: red.length,
    communities: myComms.length,
    redHouseholds: sum(red, 'households'),
  };
}

function render(root, d) {
  const crops = Object.keys(CROPS).map((k) => {
    const g = d.farm.groups.find((x) => x.key === k);
    return { label: lang() === 'en' ? CROPS[k].en : k, value: g ? g.area_mu : 0, color: CROPS[k].color };
  });
  for (const g of d.farm.groups) {
    if (!CROPS[g.key]) crops.push({ label: String(g.key), value: g.area_mu, color: OTHER_CROP_COLOR });
  }
  const statuses = Object.entries(STATUSES).map(([k, s]) => {
    const g = d.demo.groups.find((x) => x.key === k);
    return { label: lang() === 'en' ? s.en : s.zh, value: g ? g.area_mu : 0, color: s.color };
  });
  const mu = (x) => fmtNumber(x, 1);
  root.append(
    h('div', { class: 'cards' },
      card('acquired', t('dash.acquired'), mu(d.demo.total.area_mu), t('unit.mu')),
      card('demolished', t('dash.demolished'), fmtNumber(d.floor), t('unit.m2')),
      card('households', t('dash.households'), fmtNumber(d.households), t('unit.households')),
      card('graves', t('dash.graves'), fmtNumber(d.graves), ''),
      card('projects', t('dash.projects'), fmtNumber(d.projects), ''),
      card('farmland', t('dash.farmland'), mu(d.farm.total.area_mu), t('unit.mu')),
      card('red', t('dash.red'), t('dash.red.of', { a: fmtNumber(d.red), b: fmtNumber(d.communities) }),
        t('dash.red.households', { n: fmtNumber(d.redHouseholds) }), true)),
    h('h3', null, t('dash.crops')), barChart(crops, mu, t('dash.crops')),
    h('h3', null, t('dash.status')), barChart(statuses, mu, t('dash.status')),
    h('p', { class: 'muted' }, asOf() ? t('dash.note.asof', { at: showInstant(asOf()) }) : t('dash.note')));
}

export async function refreshDashboard(app) {
  const out = document.getElementById('dash-result');
  if (!out) return;
  const current = turn.next();
  clear(out).append(h('p', { class: 'muted' }, t('dash.loading')));
  try {
    if (mode === 'year') {
      const d = await yearData(year, scope ? { within: scope } : {});
      if (!current()) return;
      renderYear(app, clear(out), d);
      return;
    }
    const d = await figures(scope);
    if (!current()) return;
    render(clear(out), d);
  } catch (e) {
    if (current()) clear(out).append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
  }
}

function build(app) {
  const root = clear(document.getElementById('tab-dashboard'));
  const village = h('select', { id: 'dash-village', 'aria-label': t('dash.scope') });
  const grid = h('select', { id: 'dash-grid', 'aria-label': t('query.grid') });
  village.addEventListener('change', async () => {
    scope = village.value;
    const v = village.value ? await placeByRef(village.value) : null;
    await fillGridSelect(grid, t('query.grid'), v ? v.properties.code : '__none__');
    refreshDashboard(app);
  });
  grid.addEventListener('change', () => {
    scope = grid.value || village.value;
    refreshDashboard(app);
  });
  const years = h('select', { id: 'dash-year', 'aria-label': t('year.pick'), hidden: mode !== 'year' },
    Array.from({ length: officeYear() - FIRST_YEAR + 1 }, (_, i) => officeYear() - i)
      .map((y) => h('option', { value: String(y), selected: y === year }, t('year.option', { y }))));
  years.addEventListener('change', () => {
    year = Number(years.value);
    refreshDashboard(app);
  });
  const modeButton = (m) => h('button', {
    type: 'button', id: `dash-mode-${m}`, 'aria-pressed': String(mode === m), class: mode === m ? 'active' : null,
    onclick: () => {
      mode = m;
      build(app);
    },
  }, t(`dash.mode.${m}`));
  root.append(h('div', { class: 'seg buttons' }, modeButton('now'), modeButton('year'), years),
    h('div', { class: 'pick' }, village, grid), h('div', { id: 'dash-result' }));
  const keep = scope;
  fillVillageSelect(village, t('dash.all')).then(async () => {
    const v = keep.startsWith('villages/') ? keep : '';
    village.value = v;
    const place = v ? await placeByRef(v) : null;
    await fillGridSelect(grid, t('query.grid'), place ? place.properties.code : '__none__');
    if (keep.startsWith('grids/')) grid.value = keep;
  }).catch(() => {});
  refreshDashboard(app);
}

export function initDashboard(app) {
  let built = false;
  // computed when the tab is first opened, not on page load
  app.onTab('dashboard', () => {
    if (!built) build(app);
    built = true;
  });
  onLangChange(() => {
    if (built) build(app);
  });
  onAsOfChange(() => {
    if (built && mode === 'now') refreshDashboard(app);
  });
}
