// changes: two snapshots of a layer (its GeoJSON features at two instants)
// paired by feature id — the features added, removed and changed between
// them, and for a changed one what changed: which properties (from → to),
// whether its boundary moved, and the change in area. Pure (no page, no
// map), so that it is checked under node.

// read-only members that follow from the geometry
const DERIVED = new Set(['area_m2', 'area_mu']);

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const value = (props, k) => (props && props[k] !== undefined ? props[k] : null);
const byId = (a, b) => (Number(a.id) - Number(b.id)) || String(a.id).localeCompare(String(b.id));

// before, after: arrays of GeoJSON features. Returns {added, removed,
// changed: [{id, before, after, fields: [{name, from, to}], boundary, areaChangeM2}]},
// each in id order. A feature written again unchanged is not changed.
export function diffFeatures(before, after) {
  const was = new Map(before.map((f) => [String(f.id), f]));
  const now = new Map(after.map((f) => [String(f.id), f]));
  const added = after.filter((f) => !was.has(String(f.id))).sort(byId);
  const removed = before.filter((f) => !now.has(String(f.id))).sort(byId);
  const changed = [];
  for (const f of after.slice().sort(byId)) {
    const old = was.get(String(f.id));
    if (!old) continue;
    const names = [...new Set([...Object.keys(old.properties || {}), ...Object.keys(f.properties || {})])];
    const fields = names.filter((k) => !DERIVED.has(k) && !same(value(old.properties, k), value(f.properties, k)))
      .map((k) => ({ name: k, from: value(old.properties, k), to: value(f.properties, k) }));
    const boundary = !same(old.geometry, f.geometry);
    if (!fields.length && !boundary) continue;
    const areaChangeM2 = (Number(value(f.properties, 'area_m2')) || 0) - (Number(value(old.properties, 'area_m2')) || 0);
    changed.push({ id: f.id, before: old, after: f, fields, boundary, areaChangeM2 });
  }
  return { added, removed, changed };
}
