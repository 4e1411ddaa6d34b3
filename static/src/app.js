// app: the one object the viewer's modules share, every member declared
// here (and the object sealed), so that a module fills a slot that exists
// instead of adding one of its own.

/**
 * @typedef {object} App
 * @property {object[]} collections  the server's /collections
 * @property {boolean} cql2           the server takes CQL2 filters
 * @property {Object<string, object>} queryables  each collection's, once fetched (identify)
 * @property {object|null} summary    the last /summary (layerpanel)
 * @property {boolean} drawing        an area is being drawn: clicks do not identify (query)
 * @property {import('ol/Map').default} map
 * @property {import('ol/View').default} view
 * @property {Object<string, object>} dataLayers  the data layers by collection
 * @property {import('ol/layer/Vector').default} overlay  highlights, query areas, upload previews
 * @property {object[]} basemaps
 * @property {function(): void} fitHome           back to the whole office
 * @property {function(): void} refreshLabels      (labels)
 * @property {function(string, function): void} onTab   runs f whenever the tab is shown (main)
 * @property {function(string): void} showTab      (main)
 */

/** @returns {App} */
export function createApp(collections, cql2, mapParts) {
  const { map, view, dataLayers, overlay, basemaps, fitHome } = mapParts;
  const none = () => {};
  return Object.seal({
    collections,
    cql2,
    queryables: {},
    summary: null,
    drawing: false,
    map,
    view,
    dataLayers,
    overlay,
    basemaps,
    fitHome,
    refreshLabels: none,
    onTab: none,
    showTab: none,
  });
}
