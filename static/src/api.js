// api: the one place that talks HTTP to onemap. Every call returns parsed
// JSON or throws an Error whose message is the server's description. It is
// also the one place that puts the map at its instant (when.js): every read
// that the server can answer for the past gets the map's asof.
import { asOf } from './when.js';

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

// The reads answered "as the map stood then" (asof=): items, one item,
// statistics (GET and POST), the summary (not a period's, which has its own
// from and to), locate, overlaps and tiles. A caller that names asof itself
// keeps it: an instant of its own (compare's two ends), or null for now (an
// upload is checked against the store as it is).
const AT_TIME = /^\/(summary|locate|tiles\/.+|collections\/[^/]+\/(items(\/[^/]+)?|stats|overlaps|tiles\/.+))$/;

function atTime(method, path, params) {
  const p = { ...(params || {}) };
  if ('asof' in p || 'from' in p || !asOf()) return p;
  if (AT_TIME.test(path) && (method === 'GET' || /\/stats$/.test(path))) p.asof = asOf();
  return p;
}

// A tile URL template (with its own query) at the map's instant.
export function tileUrlAtTime(template) {
  return asOf() ? `${template}&asof=${encodeURIComponent(asOf())}` : template;
}

export async function getJSON(path, params, init = {}) {
  const res = await fetch(path + query(atTime(init.method || 'GET', path, params)), {
    ...init,
    headers: { Accept: 'application/json', ...(init.headers || {}) },
  });
  return parse(res);
}

export async function postJSON(path, body, params, headers = {}) {
  const res = await fetch(path + query(atTime('POST', path, params)), {
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

// postRaw through XMLHttpRequest, for the one thing fetch cannot tell: how
// much of the body has gone (onUpload(sent, total), last with sent === total
// once all of it has). signal aborts it; it then rejects with an error named
// 'AbortError', as fetch does. data may be a Blob (a File): the browser then
// streams it instead of copying it first.
export function postRawProgress(path, data, contentType, params, headers = {}, keep = [], { onUpload, signal } = {}) {
  return new Promise((resolve, reject) => {
    const aborted = () => new DOMException('the upload was cancelled', 'AbortError');
    if (signal && signal.aborted) return reject(aborted());
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (f, x) => {
      if (signal) signal.removeEventListener('abort', abort);
      f(x);
    };
    xhr.open('POST', path + query(params));
    for (const [k, v] of Object.entries({ Accept: 'application/json', 'Content-Type': contentType, ...headers })) xhr.setRequestHeader(k, v);
    if (onUpload) {
      // registered before send(): the browser fires upload events only then
      const total = (ev) => (ev.lengthComputable ? ev.total : ev.loaded);
      xhr.upload.onprogress = (ev) => onUpload(ev.loaded, total(ev));
      xhr.upload.onload = (ev) => onUpload(total(ev), total(ev));
    }
    xhr.onload = () => {
      try {
        settle(resolve, xhrAnswer(xhr, keep));
      } catch (e) {
        settle(reject, e);
      }
    };
    xhr.onerror = () => settle(reject, new TypeError('Failed to fetch'));
    xhr.onabort = () => settle(reject, aborted());
    if (signal) signal.addEventListener('abort', abort, { once: true });
    xhr.send(data);
  });
}

// The {status, body} of a finished XMLHttpRequest, read as parse() reads a
// fetch Response.
function xhrAnswer(xhr, keep) {
  const type = xhr.getResponseHeader('Content-Type') || '';
  const text = xhr.responseText;
  const body = xhr.status === 204 ? null : type.includes('json') ? JSON.parse(text) : text;
  if (keep.includes(xhr.status)) return { status: xhr.status, body };
  if (xhr.status < 200 || xhr.status > 299) {
    throw new ApiError(xhr.status, body && typeof body === 'object' ? body : { description: body });
  }
  return { status: xhr.status, body };
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
