// yearview: the 统计 tab's 年度 view — one year's figures on the office's
// clock (period.js), over the whole office or the village or grid picked:
// 征收土地 (亩), 拆迁房屋 (m², 主房 幢, 迁移坟墓 穴), 种植 per crop (亩)
// and the 红色物业联盟's new members, each with the features behind it (a
// click flies there and opens it), and month by month the 亩 acquired and
// the floor area demolished.
import { getJSON } from './api.js';
import { barChart, columnChart } from './chart.js';
import { card, h, toast } from './dom.js';
import { CROPS, OTHER_CROP_COLOR, STATUSES } from './domain.js';
import { fmtNumber, lang, t } from './i18n.js';
import { showFeature } from './identify.js';
import { flyTo, readGeometry } from './map.js';
import { monthlySummaries, periodSummary, yearPeriod } from './period.js';
import { showInstant } from './when.js';

export async function yearData(y, area) {
  const period = yearPeriod(y);
  const [summary, months] = await Promise.all([periodSummary(period, area), monthlySummaries(y, area)]);
  return { y, period, summary, months };
}

// The feature as it stood at the period's end (null: now) to fly to; then
// its details (at the map's instant).
async function openFeature(app, f, at) {
  try {
    const item = await getJSON(`/collections/${f.collection}/items/${f.id}`, { asof: at });
    flyTo(app.view, readGeometry(item.geometry).getExtent(), 18);
  } catch (e) {
    toast(t('err.load', { msg: e.message }), 'error');
  }
  showFeature(app, f.collection, f.id);
}

function status(s) {
  if (!s) return t('year.new');
  return STATUSES[s] ? (lang() === 'en' ? STATUSES[s].en : STATUSES[s].zh) : s;
}

function cropName(c) {
  return lang() === 'en' && CROPS[c] ? CROPS[c].en : c || t('year.nocrop');
}

function list(app, id, features, at, detail) {
  if (!features.length) return h('p', { class: 'muted' }, t('year.none'));
  return h('ul', { class: 'fig-list', dataset: { list: id } }, features.map((f) => h('li', { dataset: { collection: f.collection, id: String(f.id) } },
    h('button', { type: 'button', class: 'link', onclick: () => openFeature(app, f, at) }, [f.code, f.name].filter(Boolean).join(' ')),
    h('small', null, ` ${detail(f)}`))));
}

export function renderYear(app, root, d) {
  const fig = d.summary.figures;
  const mu = (x) => fmtNumber(x, 1);
  const at = d.period.to;
  const acquired = fig.acquired;
  const demolished = fig.demolished;
  const crops = fig.planted.crops.slice().sort((a, b) => b.area_mu - a.area_mu);
  const plantedMu = crops.reduce((s, c) => s + c.area_mu, 0);
  const joined = fig.red_property_joined;
  const month = (i) => (lang() === 'en' ? String(i + 1) : `${i + 1}月`);
  const series = (f, color) => d.months.map((s, i) => ({ label: month(i), value: s ? f(s.figures) : null, color }));
  root.append(
    h('p', { class: 'muted', id: 'year-period' }, t('year.period', {
      from: showInstant(d.period.from), to: at ? showInstant(at) : t('cmp.now'),
    })),
    h('div', { class: 'cards' },
      card('year-acquired', t('year.acquired'), mu(acquired.area_mu), `${t('unit.mu')} · ${t('year.lots', { n: fmtNumber(acquired.count) })}`),
      card('year-demolished', t('year.demolished'), fmtNumber(demolished.floor_area_m2, 1), t('year.sqm')),
      card('year-houses', t('year.houses'), fmtNumber(demolished.main_houses), t('year.houses.unit')),
      card('year-graves', t('year.graves'), fmtNumber(demolished.graves), t('year.graves.unit')),
      card('year-planted', t('year.planted'), mu(plantedMu), t('unit.mu')),
      card('year-joined', t('year.joined'), fmtNumber(joined.count), t('year.joined.unit'))),
    h('h3', null, t('year.acquired.list')),
    list(app, 'acquired', acquired.features, at, (f) => `${mu(f.area_mu)} ${t('unit.mu')} · ${status(f.from)} → ${status(f.to)}`),
    h('h3', null, t('year.demolished.list')),
    list(app, 'demolished', demolished.features, at, (f) => `${fmtNumber(f.floor_area_m2, 1)} ${t('unit.m2')} · ${t('year.houses')} ${fmtNumber(f.main_houses)} · ${t('year.graves')} ${fmtNumber(f.graves)}`),
    h('h3', null, t('year.planted.list')),
    crops.length ? h('table', { class: 'stats', id: 'year-crops' },
      h('tbody', null, crops.map((c) => h('tr', { dataset: { crop: c.crop || '' } }, h('th', null, cropName(c.crop)),
        h('td', { class: 'num' }, t('year.bases', { n: fmtNumber(c.count) })),
        h('td', { class: 'num', dataset: { mu: c.area_mu } }, `${mu(c.area_mu)} ${t('unit.mu')}`))))) : null,
    crops.length ? barChart(crops.map((c) => ({ label: cropName(c.crop), value: c.area_mu, color: (CROPS[c.crop] || {}).color || OTHER_CROP_COLOR })), mu, t('year.planted.list')) : null,
    list(app, 'planted', fig.planted.features, at, (f) => `${cropName(f.crop)} · ${mu(f.area_mu)} ${t('unit.mu')}`),
    h('h3', null, t('year.joined.list')),
    list(app, 'joined', joined.features, at, (f) => `${mu(f.area_mu)} ${t('unit.mu')}`),
    h('h3', null, t('year.monthly.acquired')),
    h('div', { dataset: { chart: 'acquired' } }, columnChart(series((f) => f.acquired.area_mu, '#d62728'), mu, t('year.monthly.acquired'))),
    h('h3', null, t('year.monthly.demolished')),
    h('div', { dataset: { chart: 'demolished' } }, columnChart(series((f) => f.demolished.floor_area_m2, '#7f0000'), (x) => fmtNumber(x), t('year.monthly.demolished'))));
}
