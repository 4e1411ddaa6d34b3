// gazetteer: the named places people pick or search for — villages, grids
// and communities — loaded once (geometry included, to fly there and to
// query by them) and dropped after an upload changes them, or when the map
// goes to another instant (they are then the places of that instant).
import { getAllItems } from './api.js';
import { onAsOfChange } from './when.js';

const PLACE_LAYERS = ['villages', 'grids', 'communities'];
const loaded = {};

export function places(collection) {
  if (!loaded[collection]) {
    loaded[collection] = getAllItems(collection, { limit: 5000 }).then((fc) => fc.features).catch((e) => {
      delete loaded[collection];
      throw e;
    });
  }
  return loaded[collection];
}

export function forgetPlaces(collection) {
  if (!collection || PLACE_LAYERS.includes(collection)) {
    for (const c of collection ? [collection] : PLACE_LAYERS) delete loaded[c];
  }
}
// registered when the module loads: before any module that reads places follows the change
onAsOfChange(() => forgetPlaces());

// Fills a <select> with villages (value "villages/ID").
export async function fillVillageSelect(select, first) {
  const vs = await places('villages');
  select.replaceChildren(new Option(first, ''),
    ...vs.slice().sort((a, b) => String(a.properties.code).localeCompare(String(b.properties.code)))
      .map((f) => new Option(f.properties.name, `villages/${f.id}`)));
}

// Fills a <select> with the grids of one village (all when code is empty,
// none when it is '__none__').
export async function fillGridSelect(select, first, villageCode) {
  if (villageCode === '__none__') { // no village chosen yet: nothing to load
    select.replaceChildren(new Option(first, ''));
    return;
  }
  const gs = await places('grids');
  const mine = gs.filter((g) => !villageCode || g.properties.village_code === villageCode)
    .sort((a, b) => String(a.properties.code).localeCompare(String(b.properties.code)));
  select.replaceChildren(new Option(first, ''), ...mine.map((g) => new Option(
    `${g.properties.level === '微网格' ? '　' : ''}${g.properties.name}`, `grids/${g.id}`)));
}

// The feature behind "villages/ID" or "grids/ID".
export async function placeByRef(ref) {
  const [c, id] = ref.split('/');
  const list = await places(c);
  return list.find((f) => String(f.id) === id) || null;
}
