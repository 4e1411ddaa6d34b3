// layerpanel: the 图层 tab — one row per layer with a visibility switch,
// opacity, feature count and total 亩 (from /summary, at the map's
// instant), and its legend.
import { getJSON } from './api.js';
import { clear, h, turns } from './dom.js';
import { groupLabel } from './domain.js';
import { fmtNumber, lang, onLangChange, t } from './i18n.js';
import { legendOf } from './styles.js';
import { onAsOfChange } from './when.js';

export function layerTitle(app, id) {
  const w = t(`layer.${id}`);
  if (w !== `layer.${id}`) return w;
  const c = app.collections.find((x) => x.id === id);
  return c ? c.title : id;
}

function swatch(e) {
  const cls = ['swatch'];
  if (e.dash) cls.push('dash');
  if (!e.fill) cls.push('line');
  return h('span', {
    class: cls.join(' '),
    style: { 'background-color': e.fill || 'transparent', 'border-color': e.stroke || 'rgba(0,0,0,0.25)' },
  });
}

function legend(id) {
  return h('ul', { class: 'legend' }, legendOf(id).map((e) => h('li', null, swatch(e), e.label)));
}

function row(app, id, layer) {
  const sum = app.summary && app.summary.collections && app.summary.collections[id];
  const total = sum && sum.total;
  const check = h('input', {
    type: 'checkbox',
    checked: layer.getVisible(),
    id: `layer-${id}`,
    dataset: { layer: id },
    onchange: (ev) => layer.setVisible(ev.target.checked),
  });
  const opacity = h('input', {
    type: 'range', min: '0', max: '100', value: String(Math.round(layer.getOpacity() * 100)),
    'aria-label': t('layers.opacity'), title: t('layers.opacity'), dataset: { opacity: id },
    oninput: (ev) => layer.setOpacity(Number(ev.target.value) / 100),
  });
  let text = '';
  if (total && id === 'grids') { // grids and micro-grids cover the same ground: counts only
    text = (sum.groups || []).map((g) => `${fmtNumber(g.count)} ${groupLabel(id, g.key, lang())}`).join(' · ');
  } else if (total) {
    text = `${t('layers.count', { n: fmtNumber(total.count) })} · ${fmtNumber(total.area_mu, 1)} ${t('unit.mu')}`;
  }
  const figures = h('span', { class: 'figures', dataset: { figures: id } }, text);
  const details = h('details', { class: 'layer-legend' }, h('summary', null, t('layers.legend')), legend(id));
  return h('li', { class: 'layer-row', dataset: { layerRow: id } },
    h('div', { class: 'layer-head' },
      h('label', { for: `layer-${id}` }, check, ' ', layerTitle(app, id)), figures),
    h('div', { class: 'layer-tools' }, h('span', { class: 'muted' }, t('layers.opacity')), opacity),
    details);
}

function render(app) {
  const root = clear(document.getElementById('tab-layers'));
  const ids = Object.keys(app.dataLayers).reverse(); // top of the map first
  root.append(h('ul', { class: 'layers' }, ids.map((id) => row(app, id, app.dataLayers[id]))));
  if (app.basemaps.length) {
    root.append(h('label', { class: 'basemap' },
      h('input', {
        type: 'checkbox', checked: app.basemaps[0].getVisible(),
        onchange: (ev) => app.basemaps.forEach((b) => b.setVisible(ev.target.checked)),
      }), ' ', t('layers.basemap')));
  }
}

const turn = turns();

export async function refreshSummary(app) {
  const current = turn.next(); // a later instant's answer may come first
  let summary = null;
  try {
    summary = await getJSON('/summary');
  } catch (e) {
    summary = null;
  }
  if (!current()) return;
  app.summary = summary;
  render(app);
}

export function initLayerPanel(app) {
  render(app);
  onLangChange(() => render(app));
  onAsOfChange(() => refreshSummary(app));
  return refreshSummary(app);
}
