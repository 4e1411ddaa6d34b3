// source: where the map's features come from — the one module to change when
// the drawing switches between onemap's items (GeoJSON by bounding box) and
// its vector tiles. Other modules only ask for a layer, refresh it, and read
// a drawn feature's id and properties; full geometries and attributes always
// come from the API (identify, query, search), never from what is drawn.
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import GeoJSON from 'ol/format/GeoJSON.js';
import { bbox as bboxStrategy } from 'ol/loadingstrategy.js';
import { transformExtent } from 'ol/proj.js';
import { getAllItems } from './api.js';

const geojson = new GeoJSON();
const LABELLED = { villages: 'labels', grids: 'labels', communities: 'labels' };

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

// The drawn layer of one collection, styled by style(feature, resolution).
export function makeDataLayer(collection, style, onError) {
  const source = new VectorSource({ strategy: bboxStrategy });
  source.setLoader(itemsLoader(collection, source, onError));
  const layer = new VectorLayer({
    source,
    style,
    declutter: LABELLED[collection] || false,
    updateWhileInteracting: false,
    properties: { collection },
  });
  return layer;
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
