// dom: small helpers to build elements without HTML strings (so that no data
// from the server is ever parsed as markup), a status line, and file saving.

// h('div', {class: 'x', onclick: f}, 'text', child, [more children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') for (const [p, pv] of Object.entries(v)) el.style.setProperty(p, pv);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// A figure card: a label over a value and its unit (data-figure names it for scripts).
export function card(id, label, value, unit, wide) {
  return h('div', { class: wide ? 'card wide' : 'card', dataset: { figure: id } },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, h('b', null, value), ' ', h('small', null, unit || '')));
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

let toastTimer = null;
// A short message at the bottom of the map; kind 'error' stays longer.
export function toast(msg, kind = 'info') {
  const el = $('#toast');
  if (!el) return;
  el.textContent = msg;
  el.className = `show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ''), kind === 'error' ? 8000 : 3000);
}

export function saveFile(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Answers that may arrive out of order (a slow request overtaken by a later
// one): turns() hands out turns; a turn's current() says whether it is still
// the latest, cancel() makes every turn handed out stale.
export function turns() {
  let n = 0;
  return {
    next() {
      const mine = ++n;
      return () => mine === n;
    },
    cancel() {
      n++;
    },
  };
}
