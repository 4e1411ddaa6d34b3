// api: the one place that talks HTTP to onemap. Every call returns parsed
// JSON or throws an Error whose message is the server's description.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.description || body.code)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function parse(res) {
  const type = res.headers.get('Content-Type') || '';
  if (res.status === 204) return null;
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof body === 'object' ? body : { description: body });
  return body;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function getJSON(path, params, init = {}) {
  const res = await fetch(path + query(params), {
    ...init,
    headers: { Accept: 'application/json', ...(init.headers || {}) },
  });
  return parse(res);
}

export async function postJSON(path, body, params, headers = {}) {
  const res = await fetch(path + query(params), {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return parse(res);
}

// POSTs raw bytes; resolves with {status, body} for 2xx and for the listed
// statuses whose body the caller reads (the 422 import report).
export async function postRaw(path, data, contentType, params, headers = {}, keep = []) {
  const res = await fetch(path + query(params), {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': contentType, ...headers },
    body: data,
  });
  if (keep.includes(res.status)) return { status: res.status, body: await res.json() };
  return { status: res.status, body: await parse(res) };
}

// All items of a collection matching params, following "next" links (at most
// `pages` pages of `limit` features).
export async function getAllItems(collection, params = {}, pages = 10) {
  const features = [];
  let offset = 0;
  const limit = params.limit || 10000;
  for (let i = 0; i < pages; i++) {
    const fc = await getJSON(`/collections/${collection}/items`, { ...params, limit, offset });
    features.push(...fc.features);
    if (!fc.links || !fc.links.some((l) => l.rel === 'next') || fc.features.length === 0) break;
    offset += fc.features.length;
  }
  return { type: 'FeatureCollection', features };
}
