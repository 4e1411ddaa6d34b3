// upload: the 上传 tab — a token, a layer and a GeoJSON file or zipped
// Shapefile; a dry run whose report (added, changed, unchanged, removed,
// invalid with reasons, area change) is also drawn on the map (old
// boundaries red, new green, invalid spots as dots); then commit, after
// which the map, the layer figures and the dashboard are fetched again.
import { getAllItems, postRaw } from './api.js';
import { clear, h, toast } from './dom.js';
import { forgetPlaces } from './gazetteer.js';
import { bboxOf } from './geom.js';
import { fmtNumber, onLangChange, t } from './i18n.js';
import { layerTitle, refreshSummary } from './layerpanel.js';
import { flyTo, readFeature } from './map.js';
import { refreshLayer } from './source.js';
import { refreshDashboard } from './dashboard.js';
import { UPLOAD_LEGEND } from './styles.js';

const ROLES = ['old', 'new', 'invalid'];
let state = { tried: null, file: null, report: null };

function overlayClear(app) {
  const src = app.overlay.getSource();
  src.getFeatures().filter((f) => ROLES.includes(f.get('role'))).forEach((f) => src.removeFeature(f));
}

function isZip(bytes, name) {
  return /\.zip$/i.test(name) || (bytes[0] === 0x50 && bytes[1] === 0x4b);
}

function options() {
  return {
    collection: document.getElementById('up-layer').value,
    mode: document.getElementById('up-mode').value,
    makeValid: document.getElementById('up-makevalid').checked,
    token: document.getElementById('up-token').value.trim(),
  };
}

async function send(o, file, dryRun) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const zip = isZip(bytes, file.name);
  const params = { dry_run: String(dryRun), mode: o.mode };
  if (dryRun) params.preview = 'true';
  if (o.makeValid) params.make_valid = 'true';
  return postRaw(`/collections/${o.collection}/import`, bytes, zip ? 'application/zip' : 'application/geo+json',
    params, { Authorization: `Bearer ${o.token}` }, [422]);
}

function signed(x, digits) {
  const r = Number((x || 0).toFixed(digits));
  return `${r > 0 ? '+' : ''}${fmtNumber(r === 0 ? 0 : r, digits)}`; // no "-0.0"
}

function reportView(rep, committed) {
  const n = (k) => fmtNumber(rep[k] || 0);
  const invalid = rep.invalid || [];
  return h('div', { class: 'report', id: 'up-report', dataset: { dryRun: String(!!rep.dry_run) } },
    h('h3', null, committed ? t('up.commit.done', { id: rep.change_id || '' }) : t('up.dryrun.done')),
    h('div', { class: 'cards' },
      ['added', 'changed', 'unchanged', 'removed'].map((k) => h('div', { class: 'card', dataset: { figure: k } },
        h('div', { class: 'card-label' }, t(`up.${k}`)), h('div', { class: 'card-value' }, h('b', null, n(k))))),
      h('div', { class: 'card bad', dataset: { figure: 'invalid' } }, h('div', { class: 'card-label' }, t('up.invalid')),
        h('div', { class: 'card-value' }, h('b', null, fmtNumber(invalid.length))))),
    h('p', null, t('up.areachange'), ': ', h('b', null, signed(rep.area_change_m2, 1)),
      ` ${t('unit.m2')} (${signed((rep.area_change_m2 || 0) / (10000 / 15), 2)} ${t('unit.mu')})`),
    notes(invalid, 'invalid', t('up.reasons')),
    notes(rep.repaired || [], 'repaired', t('up.repaired')));
}

// The features the report names (invalid, or repaired with make_valid): index, key, reason.
function notes(list, cls, title) {
  if (!list.length) return null;
  return h('div', { class: 'table-wrap' }, h('h3', null, `${title} (${fmtNumber(list.length)})`),
    h('table', { class: `stats ${cls}` },
      h('thead', null, h('tr', null, h('th', null, t('up.index')), h('th', null, t('up.key')), h('th', null, t('up.reason')))),
      h('tbody', null, list.map((x) => h('tr', null, h('td', null, String(x.index)), h('td', null, x.key || ''),
        h('td', null, x.reason || ''))))));
}

function legend() {
  return h('ul', { class: 'legend inline' }, UPLOAD_LEGEND.map((e) => h('li', null,
    h('span', { class: `swatch ${e.role === 'invalid' ? 'dot' : ''}`, style: { 'border-color': e.color, 'background-color': e.role === 'new' ? 'rgba(30,132,73,0.25)' : 'transparent' } }),
    t(`up.legend.${e.role}`))));
}

// Draws the upload over the map: the features as the server read them (its
// dry run's preview: in lon/lat whatever the file's CRS, each with its key
// and status), the stored features they change (and, when replacing, those
// to be removed), and the invalid spots.
async function preview(app, o, rep) {
  overlayClear(app);
  const src = app.overlay.getSource();
  const add = (f, role) => {
    const of = readFeature(f);
    of.set('role', role);
    src.addFeature(of);
  };
  const features = ((rep.preview && rep.preview.features) || []).filter((f) => f && f.geometry);
  if (features.length) {
    const changed = new Set(features.filter((f) => f.properties.status === 'changed').map((f) => f.properties.key));
    const box = bboxOf({ type: 'GeometryCollection', geometries: features.map((f) => f.geometry) });
    const stored = o.mode === 'replace' ? await getAllItems(o.collection)
      : Number.isFinite(box[0]) ? await getAllItems(o.collection, { bbox: box.map((x) => x.toFixed(8)).join(',') }) : { features: [] };
    for (const f of stored.features) {
      if (changed.has(f.properties.code) || o.mode === 'replace') add(f, 'old');
    }
    for (const f of features) add(f, 'new');
  }
  for (const x of [...(rep.invalid || []), ...(rep.repaired || [])]) {
    if (Array.isArray(x.location) && x.location.length >= 2) {
      add({ type: 'Feature', properties: { reason: x.reason }, geometry: { type: 'Point', coordinates: x.location } }, 'invalid');
    }
  }
  const extent = src.getExtent();
  if (src.getFeatures().some((f) => ROLES.includes(f.get('role'))) && Number.isFinite(extent[0])) flyTo(app.view, extent, 18);
}

async function dryRun(app) {
  const o = options();
  const file = document.getElementById('up-file').files[0];
  const out = clear(document.getElementById('up-result'));
  const commit = document.getElementById('up-commit');
  commit.disabled = true;
  state = { tried: null, file: null, report: null };
  if (!o.token) return toast(t('up.needtoken'), 'error');
  if (!file) return toast(t('up.needfile'), 'error');
  out.append(h('p', { class: 'muted' }, t('up.running')));
  try {
    sessionStorage.setItem('onemap.token', o.token);
  } catch (e) {
    // not kept
  }
  try {
    const { body } = await send(o, file, true);
    clear(out).append(reportView(body, false));
    await preview(app, o, body);
    const bad = (body.invalid || []).length && !o.makeValid;
    if (bad) out.append(h('p', { class: 'error' }, t('up.fixfirst')));
    state = { tried: JSON.stringify(o), file, report: body };
    commit.disabled = !!bad;
  } catch (e) {
    clear(out).append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
  }
}

async function commitUpload(app) {
  const o = options();
  const out = document.getElementById('up-result');
  const commit = document.getElementById('up-commit');
  if (!state.file || state.tried !== JSON.stringify(o)) {
    commit.disabled = true;
    return;
  }
  commit.disabled = true;
  try {
    const { status, body } = await send(o, state.file, false);
    if (status === 422) {
      clear(out).append(reportView(body, false), h('p', { class: 'error' }, t('up.fixfirst')));
      return;
    }
    overlayClear(app);
    clear(out).append(reportView(body, true));
    toast(t('up.commit.done', { id: body.change_id || '' }));
    state = { tried: null, file: null, report: null };
    forgetPlaces(o.collection);
    refreshLayer(app.dataLayers[o.collection]);
    if (app.refreshLabels) app.refreshLabels();
    refreshSummary(app);
    refreshDashboard(app);
  } catch (e) {
    out.append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
  }
}

function cancel(app) {
  overlayClear(app);
  state = { tried: null, file: null, report: null };
  document.getElementById('up-commit').disabled = true;
  clear(document.getElementById('up-result'));
}

function build(app) {
  const root = clear(document.getElementById('tab-upload'));
  let saved = '';
  try {
    saved = sessionStorage.getItem('onemap.token') || '';
  } catch (e) {
    saved = '';
  }
  const invalidate = () => {
    document.getElementById('up-commit').disabled = true;
  };
  root.append(
    h('p', { class: 'muted' }, t('up.intro')),
    h('form', { class: 'form', onsubmit: (ev) => ev.preventDefault() },
      h('label', null, t('up.token'), h('input', { id: 'up-token', type: 'password', autocomplete: 'off', value: saved, placeholder: t('up.token.placeholder'), oninput: invalidate })),
      h('label', null, t('up.layer'), h('select', { id: 'up-layer', onchange: invalidate },
        Object.keys(app.dataLayers).reverse().map((id) => h('option', { value: id }, layerTitle(app, id))))),
      h('label', null, t('up.file'), h('input', { id: 'up-file', type: 'file', accept: '.geojson,.json,.zip,application/geo+json,application/zip', onchange: invalidate })),
      h('label', null, t('up.mode'), h('select', { id: 'up-mode', onchange: invalidate },
        h('option', { value: 'upsert' }, t('up.mode.upsert')), h('option', { value: 'replace' }, t('up.mode.replace')))),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'up-makevalid', onchange: invalidate }), ' ', t('up.makevalid'))),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'up-dryrun', class: 'primary', onclick: () => dryRun(app) }, t('up.dryrun')),
      h('button', { type: 'button', id: 'up-commit', disabled: true, onclick: () => commitUpload(app) }, t('up.commit')),
      h('button', { type: 'button', id: 'up-cancel', onclick: () => cancel(app) }, t('up.cancel'))),
    legend(),
    h('div', { id: 'up-result' }));
}

export function initUpload(app) {
  build(app);
  onLangChange(() => {
    cancel(app);
    build(app);
  });
}
