// main: starts the viewer — reads the layer list, puts the map at the
// instant the address names (截至日期), builds the map and the panels (图层,
// 区域统计, 统计, 对比, 上传), the search box, the date control, 出图 and the
// language switch, and exposes window.onemapViewer.idle() for scripted
// checks of the page.
import 'ol/ol.css';
import './app.css';
import { getJSON } from './api.js';
import { createApp } from './app.js';
import { $, toast } from './dom.js';
import { applyI18n, lang, setLang, t } from './i18n.js';
import { createMap } from './map.js';
import { initLabels } from './labels.js';
import { serverHasTiles, watchLoading } from './source.js';
import { initLayerPanel } from './layerpanel.js';
import { initIdentify } from './identify.js';
import { initQuery } from './query.js';
import { initSearch } from './search.js';
import { initDashboard } from './dashboard.js';
import { initUpload } from './upload.js';
import { initCompare } from './compare.js';
import { initReport } from './report.js';
import { initTimebar } from './timebar.js';
import { restoreAsOf } from './when.js';

function initTabs(app) {
  const handlers = {};
  app.onTab = (name, f) => {
    (handlers[name] = handlers[name] || []).push(f);
    if (document.body.dataset.tab === name) f();
  };
  const show = (name) => {
    document.body.dataset.tab = name;
    for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const s of document.querySelectorAll('#panel > section')) s.hidden = s.id !== `tab-${name}`;
    for (const f of handlers[name] || []) f();
  };
  app.showTab = (name) => {
    show(name);
    if (document.body.classList.contains('panel-closed')) $('#panel-toggle').click();
  };
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => show(b.dataset.tab));
  show('layers');
  $('#panel-toggle').addEventListener('click', () => {
    document.body.classList.toggle('panel-closed');
    setTimeout(() => app.map.updateSize(), 250);
  });
  if (window.matchMedia('(max-width: 760px)').matches) document.body.classList.add('panel-closed');
}

// Loading bookkeeping: idle() resolves when no layer is fetching and the map has drawn.
function trackLoading(app) {
  let pending = 0;
  const waiters = [];
  const check = () => {
    if (pending > 0) return;
    app.map.once('rendercomplete', () => {
      if (pending === 0) waiters.splice(0).forEach((f) => f());
    });
    app.map.render();
  };
  watchLoading(app.dataLayers, () => pending++, () => {
    pending--;
    check();
  });
  return () => new Promise((resolve) => {
    waiters.push(resolve);
    setTimeout(check, 50);
  });
}

async function start() {
  // ?lang=en|zh chooses the language; ?draw=items draws from items rather than tiles
  const params = new URLSearchParams(window.location.search);
  if (params.get('lang')) setLang(params.get('lang'));
  applyI18n();
  restoreAsOf(); // before anything is fetched: the first tiles are already of that instant
  const langBtn = $('#lang');
  langBtn.addEventListener('click', () => setLang(lang() === 'en' ? 'zh' : 'en'));
  let collections;
  let conformsTo = [];
  try {
    const [cs, conf] = await Promise.all([getJSON('/collections'), getJSON('/conformance').catch(() => ({}))]);
    collections = cs.collections;
    conformsTo = conf.conformsTo || [];
  } catch (e) {
    toast(t('err.load', { msg: e.message }), 'error');
    return;
  }
  // CQL2 text filters (OGC API Features Part 3), when the server has them
  const cql2 = conformsTo.some((c) => /ogcapi-features-3\/[^/]+\/conf\/filter|cql2\/[^/]+\/conf\/cql2-text/.test(c));
  const onLayerError = (c, e) => toast(t('err.load', { msg: `${c}: ${e.message}` }), 'error');
  const useTiles = serverHasTiles(conformsTo) && params.get('draw') !== 'items';
  const app = createApp(collections, cql2, createMap('map', collections, useTiles, onLayerError));
  app.refreshLabels = initLabels(app);
  initTabs(app);
  const idle = trackLoading(app);
  window.onemapViewer = { app, idle };
  initIdentify(app);
  initSearch(app);
  initQuery(app);
  initDashboard(app);
  initCompare(app);
  initUpload(app);
  initTimebar();
  initReport(app);
  await initLayerPanel(app);
  document.body.classList.add('ready');
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
