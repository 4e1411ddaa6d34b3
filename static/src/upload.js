// upload: the 上传 tab — a token, a layer and a GeoJSON file or zipped
// Shapefile; a dry run whose report (added, changed, unchanged, removed,
// invalid with reasons, area change) is also drawn on the map (old
// boundaries red, new green, invalid spots as dots); then commit, after
// which the map, the layer figures and the dashboard are fetched again.
// While a dry run or a commit is under way, a bar shows the file going up
// and then the server's work on it (asked by a progress id); 取消 stops it
// and the server then writes nothing.
import { getAllItems, getJSON, postRawProgress } from './api.js';
import { clear, h, toast, turns } from './dom.js';
import { forgetPlaces } from './gazetteer.js';
import { bboxOf } from './geom.js';
import { fmtNumber, onLangChange, t } from './i18n.js';
import { layerTitle, refreshSummary } from './layerpanel.js';
import { flyTo, readFeature } from './map.js';
import { refreshLayer } from './source.js';
import { refreshDashboard } from './dashboard.js';
import { UPLOAD_LEGEND } from './styles.js';

const ROLES = ['old', 'new', 'invalid'];
const PHASES = ['starting', 'reading', 'parsing', 'matching', 'writing', 'indexing', 'committing', 'done'];
const POLL_MS = 300; // how often the server is asked how far it has got
const MB = 1024 * 1024;
let state = { tried: null, file: null, report: null };
// The dry run or commit under way: {ctl: its AbortController, current: its
// turn, and once sent id, auth, dryRun, collection}; the turns keep a
// given-up one's progress and answer off the page.
let running = null;
const jobs = turns();

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

// The name the server's progress is asked by: random, so that no other
// upload has it (crypto.randomUUID is missing outside secure contexts, e.g.
// a plain-http address other than localhost; getRandomValues is not).
function progressId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

// A new dry run or commit: one still under way is given up (its answer
// would be stale), and the new one gets the turn that keeps it on the page.
function begin() {
  if (running) running.ctl.abort();
  running = { ctl: new AbortController(), current: jobs.next() };
  return running;
}

// POSTs the file; while it goes up and while the server works on it, the
// bar (in out) shows how far it has got. Rejects with an AbortError when
// the job is given up.
async function send(o, file, dryRun, job, out) {
  // the file itself goes (the browser streams it from disk): copying a big
  // one into an array first holds the page up for seconds
  const zip = isZip(new Uint8Array(await file.slice(0, 2).arrayBuffer()), file.name);
  const params = { dry_run: String(dryRun), mode: o.mode, progress_id: progressId() };
  if (dryRun) params.preview = 'true';
  if (o.makeValid) params.make_valid = 'true';
  const auth = { Authorization: `Bearer ${o.token}` };
  Object.assign(job, { id: params.progress_id, auth, dryRun, collection: o.collection });
  const bar = progressView(file.size);
  out.prepend(bar); // under the buttons, above a dry run's report being committed
  const follow = follower(params.progress_id, auth, (st) => job.current() && showServer(bar, st));
  const onUpload = (sent, total) => {
    if (!job.current() || follow.started()) return;
    showUpload(bar, sent, total);
    if (sent >= total) follow.start(); // all sent: the server's part begins
  };
  try {
    return await postRawProgress(`/collections/${o.collection}/import`, file, zip ? 'application/zip' : 'application/geo+json',
      params, auth, [422], { onUpload, signal: job.ctl.signal });
  } finally {
    follow.stop();
    bar.remove();
    if (running === job) running = null;
  }
}

// Asks GET /imports/{id} every POLL_MS, each time after the last answer
// came (so that answers arrive in order), and hands show() each answer, or
// null while the server has not started on it (404: the body still on its
// way or waiting for a worker), until stop().
function follower(id, auth, show) {
  const ctl = new AbortController();
  let timer = null;
  let on = false;
  const look = async () => {
    let st = null;
    try {
      st = await getJSON(`/imports/${id}`, null, { headers: auth, signal: ctl.signal });
    } catch (e) {
      st = null; // not started (or a hiccup): the POST's answer is what counts
    }
    if (ctl.signal.aborted) return;
    show(st);
    timer = setTimeout(look, POLL_MS);
  };
  return {
    started: () => on,
    start() {
      on = true;
      show(null);
      look();
    },
    stop() {
      ctl.abort();
      clearTimeout(timer);
    },
  };
}

// n bytes in MB, or in KB when of (the total they are part of) is below one.
function size(n, of = n) {
  return of >= MB ? [fmtNumber(n / MB, 1), 'MB'] : [fmtNumber(n / 1024, 1), 'KB'];
}

function duration(s) {
  if (s < 60) return t('up.seconds', { n: fmtNumber(Math.max(1, Math.ceil(s))) });
  return t('up.minutes', { m: fmtNumber(Math.floor(s / 60)), s: fmtNumber(Math.round(s % 60)) });
}

// The bar and its line of words; data-phase (upload, waiting or the
// server's phase) and data-percent say where the job is.
function progressView(total) {
  const el = h('div', { id: 'up-progress', dataset: { phase: 'upload', percent: '0' } },
    h('progress', { max: 100, value: 0 }), h('div', { class: 'up-progress-text' }));
  showUpload(el, 0, total);
  return el;
}

// percent null: nothing to measure (the bar then moves on its own).
function showProgress(el, phase, percent, text) {
  const bar = el.querySelector('progress');
  el.dataset.phase = phase;
  el.dataset.percent = percent === null ? '' : percent.toFixed(1);
  if (percent === null) bar.removeAttribute('value');
  else bar.value = percent;
  el.querySelector('.up-progress-text').textContent = text;
}

function showUpload(el, sent, total) {
  const pct = total ? (100 * sent) / total : 100;
  const [a] = size(sent, total);
  const [b, unit] = size(total);
  showProgress(el, 'upload', pct, t('up.progress.upload', { sent: a, total: b, unit, pct: fmtNumber(pct) }));
}

// st: GET /imports/{id}'s answer, or null while the server has not started.
function showServer(el, st) {
  if (!st) return showProgress(el, 'waiting', null, t('up.progress.waiting'));
  const known = st.total !== null && st.total !== undefined;
  const count = (n) => (st.unit === 'bytes' ? size(n, known ? st.total : n).join(' ') : fmtNumber(n));
  const done = known ? `${count(st.done)} / ${count(st.total)}` : count(st.done);
  const words = [
    t('up.progress.server', { phase: PHASES.includes(st.phase) ? t(`up.phase.${st.phase}`) : st.phase }),
    st.unit === 'features' ? t('up.progress.features', { n: done }) : st.unit === 'bytes' ? done : null,
    `${fmtNumber(st.percent)}%`,
    st.rate > 0 && st.unit !== 'none' ? t(`up.rate.${st.unit}`, { n: st.unit === 'bytes' ? size(st.rate).join(' ') : fmtNumber(st.rate) }) : null,
    st.eta_s !== null && st.eta_s !== undefined ? t('up.eta', { t: duration(st.eta_s) }) : null,
  ];
  showProgress(el, st.phase, st.percent, words.filter(Boolean).join(' · '));
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
async function preview(app, o, rep, current) {
  overlayClear(app);
  const src = app.overlay.getSource();
  const drawn = [];
  const add = (f, role) => {
    const of = readFeature(f);
    of.set('role', role);
    drawn.push(of);
  };
  const features = ((rep.preview && rep.preview.features) || []).filter((f) => f && f.geometry);
  if (features.length) {
    const changed = new Set(features.filter((f) => f.properties.status === 'changed').map((f) => f.properties.key));
    const box = bboxOf({ type: 'GeometryCollection', geometries: features.map((f) => f.geometry) });
    // what the upload changes is the store as it is now, whatever instant the map shows
    const stored = o.mode === 'replace' ? await getAllItems(o.collection, { asof: null })
      : Number.isFinite(box[0]) ? await getAllItems(o.collection, { bbox: box.map((x) => x.toFixed(8)).join(','), asof: null }) : { features: [] };
    if (!current()) return; // cancelled, or another upload began, meanwhile
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
  src.addFeatures(drawn); // at once: one by one is slow for a large upload
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
  const job = begin();
  try {
    sessionStorage.setItem('onemap.token', o.token);
  } catch (e) {
    // not kept
  }
  try {
    const { body } = await send(o, file, true, job, out);
    clear(out).append(reportView(body, false));
    await preview(app, o, body, job.current);
    if (!job.current()) return;
    const bad = (body.invalid || []).length && !o.makeValid;
    if (bad) out.append(h('p', { class: 'error' }, t('up.fixfirst')));
    state = { tried: JSON.stringify(o), file, report: body };
    commit.disabled = !!bad;
  } catch (e) {
    if (e.name === 'AbortError') return; // cancel() has said so
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
  const again = document.getElementById('up-dryrun');
  again.disabled = true; // a commit is stopped only by 取消, which tells how it ended
  const job = begin();
  try {
    const { status, body } = await send(o, state.file, false, job, out);
    if (status === 422) {
      clear(out).append(reportView(body, false), h('p', { class: 'error' }, t('up.fixfirst')));
      return;
    }
    overlayClear(app);
    clear(out).append(reportView(body, true));
    toast(t('up.commit.done', { id: body.change_id || '' }));
    state = { tried: null, file: null, report: null };
    refreshAfter(app, o.collection);
  } catch (e) {
    if (e.name === 'AbortError') return; // cancel() has said so
    out.append(h('p', { class: 'error' }, t('err.generic', { msg: e.message })));
  } finally {
    again.disabled = false;
  }
}

// A commit changed collection: the map, the labels, the layer figures and
// the dashboard are fetched again.
function refreshAfter(app, collection) {
  forgetPlaces(collection);
  refreshLayer(app.dataLayers[collection]);
  if (app.refreshLabels) app.refreshLabels();
  refreshSummary(app);
  refreshDashboard(app);
}

// Clears the upload; one under way is stopped: its connection closes, and
// the server, seeing that, rolls back (a commit writes nothing).
function cancel(app) {
  const job = running;
  if (job) job.ctl.abort();
  running = null;
  jobs.cancel();
  overlayClear(app);
  state = { tried: null, file: null, report: null };
  document.getElementById('up-commit').disabled = true;
  const out = clear(document.getElementById('up-result'));
  if (job) cancelled(app, job, out);
}

// Says that job was stopped. A commit is said to have written nothing only
// once the server agrees: it may have finished just before the connection
// closed, and then it is shown as written.
async function cancelled(app, job, out) {
  const sure = job.dryRun !== false || !job.id; // a dry run, or never sent
  const note = h('p', { id: 'up-cancelled', class: 'muted' }, t(sure ? 'up.cancelled' : 'up.cancelling'));
  out.append(note);
  if (sure) return;
  const end = await lastWord(job);
  if (end && end.state === 'done') {
    note.textContent = t('up.cancel.late');
    refreshAfter(app, job.collection);
  } else if (!end || end.state !== 'running') {
    note.textContent = t('up.cancelled');
  }
}

// How the server ended job's import (GET /imports/{id}), asked until it no
// longer runs (a minute at most); null when it never started on it (404:
// the connection closed before the whole body came, so it never will).
async function lastWord(job) {
  let st = null;
  for (let i = 0; i < 600 && (!st || st.state === 'running'); i++) {
    if (st) await new Promise((r) => setTimeout(r, 100));
    try {
      st = await getJSON(`/imports/${job.id}`, null, { headers: job.auth });
    } catch (e) {
      return null;
    }
  }
  return st;
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
