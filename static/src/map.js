// map: the OpenLayers map — view over the sub-district, optional basemaps
// (XYZ URL templates from the page's onemap-basemaps meta tag), one drawn
// layer per collection, the highlight overlay, and helpers to move the view
// and to convert between GeoJSON (CRS84) and map geometries.
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import TileLayer from 'ol/layer/Tile.js';
import XYZ from 'ol/source/XYZ.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import { defaults as defaultControls } from 'ol/control/defaults.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import Control from 'ol/control/Control.js';
import { fromLonLat, toLonLat, transformExtent } from 'ol/proj.js';
import { createEmpty, extend, isEmpty } from 'ol/extent.js';
import { LAYER_ORDER } from './domain.js';
import { makeDataLayers } from './source.js';
import { LAYER_STYLES, highlightStyle } from './styles.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { addressGet, addressSet } from './address.js';

const geojson = new GeoJSON({ featureProjection: 'EPSG:3857', dataProjection: 'EPSG:4326' });

export function basemapUrls() {
  const meta = document.querySelector('meta[name="onemap-basemaps"]');
  const content = meta ? meta.content.trim() : '';
  if (!content || content.includes('{{')) return [];
  return content.split(/\s+/).filter((u) => /^https?:\/\//.test(u));
}

function homeControl(onHome) {
  const button = h('button', { type: 'button', class: 'home', 'data-i18n-title': 'home.title', title: t('home.title'), onclick: onHome }, '⌂');
  return new Control({ element: h('div', { class: 'ol-home ol-unselectable ol-control' }, button) });
}

// Builds the map in target. collections: the /collections list (layers, extent);
// useTiles: draw from vector tiles rather than items.
export function createMap(target, collections, useTiles, onLayerError) {
  const extent = createEmpty();
  for (const c of collections) {
    const b = c.extent && c.extent.spatial && c.extent.spatial.bbox && c.extent.spatial.bbox[0];
    if (b) extend(extent, transformExtent(b.slice(0, 4), 'EPSG:4326', 'EPSG:3857'));
  }
  const home = isEmpty(extent) ? transformExtent([118.37, 29.11, 118.46, 29.17], 'EPSG:4326', 'EPSG:3857') : extent;
  const basemaps = basemapUrls().map((url, i) => new TileLayer({
    source: new XYZ({ url, maxZoom: 18, attributions: i === 0 ? new URL(url.replace(/\{[^}]*\}/g, 'x')).host : undefined }),
    properties: { basemap: true },
  }));
  const known = new Set(collections.map((c) => c.id));
  const ids = LAYER_ORDER.filter((x) => known.has(x)).concat([...known].filter((x) => !LAYER_ORDER.includes(x)));
  const dataLayers = makeDataLayers(ids, LAYER_STYLES, useTiles, onLayerError);
  const overlay = new VectorLayer({ source: new VectorSource(), style: highlightStyle, properties: { overlay: true }, zIndex: 5 });
  const view = new View({ center: [0, 0], zoom: 2, maxZoom: 20, constrainResolution: false });
  const map = new Map({
    target,
    layers: [...basemaps, ...Object.values(dataLayers), overlay],
    view,
    controls: defaultControls({ rotate: false, attributionOptions: { collapsible: true } })
      .extend([new ScaleLine({ units: 'metric' })]),
  });
  const fitHome = () => view.fit(home, { padding: [20, 20, 20, 20], duration: 300 });
  map.addControl(homeControl(fitHome));
  if (!restoreView(view)) view.fit(home, { padding: [20, 20, 20, 20] });
  map.on('moveend', () => keepView(view));
  return { map, view, dataLayers, overlay, basemaps, fitHome };
}

// The view in the address (#map=zoom/lon/lat), so that a place can be shared
// or bookmarked and a reload stays where it was.
function keepView(view) {
  const c = view.getCenter();
  if (!c) return;
  const [lon, lat] = toLonLat(c);
  addressSet('map', `${view.getZoom().toFixed(2)}/${lon.toFixed(6)}/${lat.toFixed(6)}`);
}

function restoreView(view) {
  const m = /^([0-9.]+)\/(-?[0-9.]+)\/(-?[0-9.]+)$/.exec(addressGet('map') || '');
  if (!m) return false;
  const [z, lon, lat] = m.slice(1).map(Number);
  if (!(z >= 0 && z <= 22 && Math.abs(lon) <= 180 && Math.abs(lat) <= 85)) return false;
  view.setCenter(fromLonLat([lon, lat]));
  view.setZoom(z);
  return true;
}

// GeoJSON (CRS84) <-> map features/geometries
export function readFeatures(fc) {
  return geojson.readFeatures(fc);
}
// A feature for the overlay, without its id: the overlay holds features of
// several layers (and two versions of one), whose ids repeat, and a vector
// source keeps only one feature per id.
export function readFeature(f) {
  const feature = geojson.readFeature(f);
  feature.setId(undefined);
  return feature;
}
export function readGeometry(g) {
  return geojson.readGeometry(g);
}
export function writeGeometry(geom) {
  return geojson.writeGeometryObject(geom, { decimals: 9 });
}

// Moves the view to a map geometry or extent.
export function flyTo(view, geomOrExtent, maxZoom = 18) {
  view.fit(geomOrExtent, { padding: [60, 60, 60, 60], duration: 600, maxZoom });
}
