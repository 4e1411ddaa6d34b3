// labels: the names on the map (villages, grids, micro-grids, communities),
// one point each at a point inside the polygon, from the gazetteer. A label
// shows and fades with its layer.
import { turns } from './dom.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import Feature from 'ol/Feature.js';
import Point from 'ol/geom/Point.js';
import { fromLonLat } from 'ol/proj.js';
import { places } from './gazetteer.js';
import { interiorPoint } from './geom.js';
import { labelStyle } from './styles.js';
import { onAsOfChange } from './when.js';

const NAMED = ['villages', 'grids', 'communities'];

function polygonsOf(g) {
  return g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
}

// Grid names show only from zoom 15: their 300 KB wait until then.
const GRID_RESOLUTION = 5;

const turn = turns();

async function fill(app, source, withGrids) {
  const current = turn.next();
  const named = NAMED.filter((c) => withGrids || c !== 'grids');
  const lists = await Promise.all(named.map((c) => places(c).catch(() => [])));
  if (!current()) return; // a later fill is on its way
  const features = [];
  named.forEach((c, i) => {
    for (const f of lists[i]) {
      const p = f.geometry && interiorPoint(polygonsOf(f.geometry));
      if (!p) continue;
      features.push(new Feature({
        geometry: new Point(fromLonLat(p)), collection: c, name: f.properties.name,
        level: f.properties.level, red_property: f.properties.red_property,
      }));
    }
  });
  source.clear();
  source.addFeatures(features);
}

function sync(app, layer) {
  const show = (f) => {
    const data = app.dataLayers[f.get('collection')];
    return !!data && data.getVisible() && data.getOpacity() > 0.05;
  };
  layer.setStyle((f, res) => (show(f) ? labelStyle(f, res) : null));
}

// Adds the label layer on top of the data layers; returns refresh().
export function initLabels(app) {
  const source = new VectorSource();
  const layer = new VectorLayer({ source, declutter: true, properties: { labels: true }, zIndex: 10 });
  sync(app, layer);
  app.map.addLayer(layer);
  for (const c of NAMED) {
    const data = app.dataLayers[c];
    if (!data) continue;
    data.on('change:visible', () => layer.changed());
    data.on('change:opacity', () => layer.changed());
  }
  let withGrids = false;
  const refresh = () => fill(app, source, withGrids).catch(() => {});
  const wantGrids = () => {
    if (withGrids || app.view.getResolution() > GRID_RESOLUTION) return;
    withGrids = true;
    refresh();
  };
  app.view.on('change:resolution', wantGrids);
  onAsOfChange(refresh); // the names of that instant (the gazetteer has forgotten the others)
  refresh();
  wantGrids();
  return refresh;
}
