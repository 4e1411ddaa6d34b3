// styles: how each layer is drawn (per key attribute) and its legend entries,
// plus the styles of the highlight overlay (query matches, the selected
// feature, the upload preview). Style objects are cached per key.
import Style from 'ol/style/Style.js';
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Text from 'ol/style/Text.js';
import CircleStyle from 'ol/style/Circle.js';
import {
  CROPS, LAND_GROUPS, OTHER_COMMUNITY_COLOR, OTHER_CROP_COLOR, RED_PROPERTY_COLOR, STATUSES, landGroupOf,
} from './domain.js';
import { lang, t } from './i18n.js';

const FONT = '"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif';
const cache = new Map();

function cached(key, make) {
  let s = cache.get(key);
  if (!s) {
    s = make();
    cache.set(key, s);
  }
  return s;
}

// '#rrggbb' + alpha -> 'rgba(...)'
export function rgba(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

function fillStyle(key, color, alpha, stroke, width) {
  return cached(key, () => new Style({
    fill: new Fill({ color: rgba(color, alpha) }),
    stroke: new Stroke({ color: stroke, width }),
  }));
}

function label(text, size, color, halo, offsetY = 0) {
  return new Text({
    text,
    font: `${size}px ${FONT}`,
    fill: new Fill({ color }),
    stroke: new Stroke({ color: halo, width: 3 }),
    overflow: false,
    offsetY,
  });
}

function parcelStyle(f) {
  const g = landGroupOf(f.get('dlbm'));
  return fillStyle(`p${g.color}`, g.color, 0.75, 'rgba(255,255,255,0.9)', 0.6);
}

function farmlandStyle(f) {
  const c = CROPS[f.get('crop')];
  const color = c ? c.color : OTHER_CROP_COLOR;
  return fillStyle(`f${color}`, color, 0.85, '#2f6b2f', 1.4);
}

function demolitionStyle(f) {
  const s = STATUSES[f.get('status')];
  const color = s ? s.color : '#888888';
  return cached(`d${color}`, () => new Style({
    fill: new Fill({ color: rgba(color, 0.6) }),
    stroke: new Stroke({ color: '#7f0000', width: 2, lineDash: [6, 3] }),
  }));
}

function communityStyle(f) {
  const red = f.get('red_property') === true || f.get('red_property') === 1;
  return fillStyle(red ? 'cr' : 'co', red ? RED_PROPERTY_COLOR : OTHER_COMMUNITY_COLOR, 0.45,
    red ? '#a50f15' : '#26456e', 1.6);
}

function villageStyle() {
  return cached('v', () => new Style({ stroke: new Stroke({ color: '#5b2c83', width: 2.4 }) }));
}

function gridStyle(f, res) {
  const micro = f.get('level') === '微网格';
  if (micro && res > 9) return null; // micro-grids from zoom 14 on
  return micro
    ? cached('gm', () => new Style({ stroke: new Stroke({ color: '#e67e22', width: 1, lineDash: [3, 3] }) }))
    : cached('g', () => new Style({ stroke: new Stroke({ color: '#d35400', width: 1.6, lineDash: [8, 4] }) }));
}

// Names, drawn from points (see labels.js) so that a polygon cut by tiles
// is still named once: villages from zoom 12, grids from 15, micro-grids
// and communities from 17.
export function labelStyle(f, res) {
  const c = f.get('collection');
  const name = f.get('name') || '';
  if (c === 'villages') {
    if (res > 40) return null;
    return cached(`vl${name}`, () => new Style({ text: label(name, 14, '#3f1d5c', '#fff') }));
  }
  if (c === 'grids') {
    const micro = f.get('level') === '微网格';
    if ((micro && res > 1.3) || (!micro && res > 5)) return null;
    const short = name.replace(/^.*?(第\d+网格)/, '$1');
    return cached(`gl${micro}${short}`, () => new Style({
      text: label(short, micro ? 10 : 11, micro ? '#a04000' : '#873600', 'rgba(255,255,255,0.9)', micro ? 0 : 16),
    }));
  }
  if (c === 'communities') {
    if (res > 2.5) return null;
    const red = f.get('red_property') === true;
    return cached(`cl${name}`, () => new Style({ text: label(name, 12, red ? '#7f0000' : '#1d3557', '#fff') }));
  }
  return null;
}

export const LAYER_STYLES = {
  parcels: parcelStyle,
  farmland: farmlandStyle,
  demolition_sites: demolitionStyle,
  communities: communityStyle,
  villages: villageStyle,
  grids: gridStyle,
};

// Legend entries of a layer: [{label, fill, stroke, dash}], in the current language.
export function legendOf(collection) {
  const en = lang() === 'en';
  switch (collection) {
    case 'parcels':
      // sorted: keys such as '10' would otherwise come before '01'
      return Object.entries(LAND_GROUPS).sort(([a], [b]) => a.localeCompare(b))
        .map(([code, g]) => ({ label: `${code} ${en ? g.en : g.zh}`, fill: g.color }));
    case 'farmland':
      return Object.entries(CROPS).map(([k, c]) => ({ label: en ? c.en : k, fill: c.color, stroke: '#2f6b2f' }));
    case 'demolition_sites':
      return Object.values(STATUSES).map((s) => ({ label: en ? s.en : s.zh, fill: s.color, stroke: '#7f0000', dash: true }));
    case 'communities':
      return [
        { label: en ? 'Red property alliance (红色物业联盟)' : '红色物业联盟', fill: RED_PROPERTY_COLOR, stroke: '#a50f15' },
        { label: en ? 'Other communities' : '其他小区', fill: OTHER_COMMUNITY_COLOR, stroke: '#26456e' },
      ];
    case 'villages':
      return [{ label: t('legend.village'), stroke: '#5b2c83' }];
    case 'grids':
      return [
        { label: t('legend.grid'), stroke: '#d35400', dash: true },
        { label: t('legend.microgrid'), stroke: '#e67e22', dash: true },
      ];
    default:
      return [];
  }
}

// The overlay: feature property "role" picks the style.
const HIGHLIGHT = {
  match: new Style({
    stroke: new Stroke({ color: '#00e5ff', width: 2.5 }),
    fill: new Fill({ color: 'rgba(0,229,255,0.15)' }),
  }),
  selected: new Style({
    stroke: new Stroke({ color: '#ffd400', width: 4 }),
    fill: new Fill({ color: 'rgba(255,212,0,0.18)' }),
  }),
  area: new Style({
    stroke: new Stroke({ color: '#1f4fd1', width: 2.5, lineDash: [10, 6] }),
    fill: new Fill({ color: 'rgba(31,79,209,0.06)' }),
  }),
  old: new Style({
    stroke: new Stroke({ color: '#c0392b', width: 2.5, lineDash: [6, 4] }),
    fill: new Fill({ color: 'rgba(192,57,43,0.12)' }),
  }),
  new: new Style({
    stroke: new Stroke({ color: '#1e8449', width: 3 }),
    fill: new Fill({ color: 'rgba(30,132,73,0.18)' }),
  }),
  // compare: added, removed, changed (and a changed feature's old boundary)
  added: new Style({
    stroke: new Stroke({ color: '#1a9641', width: 3.5 }),
    fill: new Fill({ color: 'rgba(26,150,65,0.22)' }),
  }),
  removed: new Style({
    stroke: new Stroke({ color: '#d7191c', width: 3.5 }),
    fill: new Fill({ color: 'rgba(215,25,28,0.18)' }),
  }),
  changed: new Style({
    stroke: new Stroke({ color: '#f28e00', width: 3.5 }),
    fill: new Fill({ color: 'rgba(242,142,0,0.18)' }),
  }),
  'changed-old': new Style({
    stroke: new Stroke({ color: '#f28e00', width: 1.5, lineDash: [5, 4] }),
  }),
  invalid: new Style({
    image: new CircleStyle({
      radius: 8,
      fill: new Fill({ color: 'rgba(231,76,60,0.85)' }),
      stroke: new Stroke({ color: '#fff', width: 2 }),
    }),
  }),
};

export function highlightStyle(f) {
  return HIGHLIGHT[f.get('role')] || HIGHLIGHT.match;
}

export const UPLOAD_LEGEND = [
  { role: 'old', color: '#c0392b' },
  { role: 'new', color: '#1e8449' },
  { role: 'invalid', color: '#e74c3c' },
];

export const COMPARE_LEGEND = [
  { kind: 'added', color: '#1a9641' },
  { kind: 'removed', color: '#d7191c' },
  { kind: 'changed', color: '#f28e00' },
];
