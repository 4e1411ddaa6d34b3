// address: the page address's fragment as key=value pairs, e.g.
// #map=16.00/118.410000/29.140000&asof=2019-12-31, each module keeping its
// own key. Rewritten in place (no history entry per pan), map first, so
// that a copied address reopens the same view.

const ORDER = ['map'];

function read() {
  const out = new Map();
  for (const part of window.location.hash.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out.set(part.slice(0, eq), decodeURIComponent(part.slice(eq + 1)));
    } catch (e) {
      // a malformed escape: that pair is ignored
    }
  }
  return out;
}

export function addressGet(key) {
  const v = read().get(key);
  return v === undefined ? null : v;
}

// value null (or '') drops the key.
export function addressSet(key, value) {
  const pairs = read();
  if (value === null || value === undefined || value === '') pairs.delete(key);
  else pairs.set(key, String(value));
  const keys = [...ORDER.filter((k) => pairs.has(k)), ...[...pairs.keys()].filter((k) => !ORDER.includes(k))];
  // only what would break the pairs is escaped: the view stays readable
  const text = keys.map((k) => `${k}=${pairs.get(k).replace(/[%&#+ ]/g, encodeURIComponent)}`).join('&');
  const url = text ? `#${text}` : window.location.pathname + window.location.search;
  if (window.location.hash !== (text ? `#${text}` : '')) window.history.replaceState(null, '', url);
}
