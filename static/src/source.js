// source: where the map's drawn features come from — the one module that
// knows. With a tiles-capable onemap (OGC API Tiles, MVT) all layers share
// one vector-tile source (/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=...,
// one request per tile) and each layer draws only its own features; without
// tiles, each layer loads items as GeoJSON by bounding box. Other modules only
// ask for layers, refresh them and read a drawn feature's id and properties;
// full geometries and attributes always come from the API (identify, query,
// search), never from what is drawn. Both draw the map at its instant
// (when.js) and are fetched again when it changes.
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import VectorTileSource from 'ol/source/VectorTile.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import MVT from 'ol/format/MVT.js';
import { bbox as bboxStrategy } from 'ol/loadingstrategy.js';
import { transformExtent } from 'ol/proj.js';
import { getAllItems, tileUrlAtTime } from './api.js';
import { onAsOfChange } from './when.js';

// Tiles past this zoom are drawn from this zoom's tiles (512 px each).
const TILE_MAX_ZOOM = 16;
const geojson = new GeoJSON();

export function serverHasTiles(conformsTo) {
  return conformsTo.some((c) => /ogcapi-tiles-1\/[^/]+\/conf\/mvt$/.test(c))
    && conformsTo.some((c) => /ogcapi-tiles-1\/[^/]+\/conf\/dataset-tilesets$/.test(c));
}

function itemsLoader(collection, source, onError) {
  return async (extent, resolution, projection, success, failure) => {
    const ll = transformExtent(extent, projection, 'EPSG:4326');
    const b = [Math.max(ll[0], -180), Math.max(ll[1], -90), Math.min(ll[2], 180), Math.min(ll[3], 90)]
      .map((x) => x.toFixed(7));
    try {
      const fc = await getAllItems(collection, { bbox: b.join(',') });
      const features = geojson.readFeatures(fc, { featureProjection: projection });
      source.addFeatures(features);
      success(features);
    } catch (e) {
      source.removeLoadedExtent(extent);
      if (onError) onError(collection, e);
      failure();
    }
  };
}

function itemsLayer(collection, style, onError) {
  const source = new VectorSource({ strategy: bboxStrategy });
  source.setLoader(itemsLoader(collection, source, onError));
  return new VectorLayer({ source, style, properties: { collection } });
}

function tilesLayers(ids, styles, onError) {
  const template = `/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=${ids.join(',')}`;
  const source = new VectorTileSource({
    format: new MVT(), // the MVT layer name (the collection id) is in property "layer"
    url: tileUrlAtTime(template),
    maxZoom: TILE_MAX_ZOOM,
  });
  onAsOfChange(() => {
    source.setUrl(tileUrlAtTime(template));
    source.refresh(); // no tile of another instant is drawn again, "now" included
  });
  let told = false;
  source.on('tileloaderror', () => {
    if (!told && onError) onError('tiles', new Error('HTTP'));
    told = true;
  });
  const layers = {};
  for (const id of ids) {
    const style = styles[id];
    layers[id] = new VectorTileLayer({
      source,
      style: style ? (f, res) => (f.get('layer') === id ? style(f, res) : null) : (f) => (f.get('layer') === id ? undefined : null),
      properties: { collection: id },
    });
  }
  return layers;
}

// The drawn layers, bottom to top in the order of ids: {id: layer}.
export function makeDataLayers(ids, styles, useTiles, onError) {
  if (useTiles) return tilesLayers(ids, styles, onError);
  const layers = {};
  for (const id of ids) layers[id] = itemsLayer(id, styles[id], onError);
  onAsOfChange(() => Object.values(layers).forEach(refreshLayer));
  return layers;
}

// Drops what is drawn and fetches it again (after an upload).
export function refreshLayer(layer) {
  layer.getSource().refresh();
}

// The feature id as the API knows it.
export function featureId(feature) {
  const id = feature.getId();
  return id !== undefined ? id : feature.get('id');
}

// Calls start() and end() around every fetch of drawn data.
export function watchLoading(layers, start, end) {
  const seen = new Set();
  for (const layer of Object.values(layers)) {
    const src = layer.getSource();
    if (seen.has(src)) continue;
    seen.add(src);
    for (const [a, b, c] of [['featuresloadstart', 'featuresloadend', 'featuresloaderror'],
      ['tileloadstart', 'tileloadend', 'tileloaderror']]) {
      src.on(a, start);
      src.on(b, end);
      src.on(c, end);
    }
  }
}
