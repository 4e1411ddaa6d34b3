// chart: bar charts drawn as SVG by hand — horizontal bars (labels on the
// left, bars scaled to the largest value, the value at the end of each bar)
// and columns for a series in time (labels under, values over them).
const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// rows: [{label, value, color}]; format(value) -> text
export function barChart(rows, format, title) {
  const rowH = 22;
  const labelW = 92;
  const valueW = 70;
  const width = 320;
  const barW = width - labelW - valueW;
  const height = Math.max(rows.length, 1) * rowH + 4;
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'chart' });
  if (title) svg.append(el('title', {}, title));
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = Math.max((r.value / max) * barW, r.value > 0 ? 1.5 : 0);
    svg.append(el('text', { x: labelW - 6, y: y + rowH / 2 + 4, 'text-anchor': 'end', class: 'chart-label' }, r.label));
    svg.append(el('rect', { x: labelW, y: y + 3, width: w.toFixed(1), height: rowH - 6, rx: 2, fill: r.color || '#4a7ab5' }));
    svg.append(el('text', { x: labelW + w + 4, y: y + rowH / 2 + 4, class: 'chart-value' }, format(r.value)));
  });
  return svg;
}

// rows: [{label, value, color}] left to right (value null: not yet, drawn
// as nothing); format(value) -> text. Each column is a <rect> with
// data-index and data-value, for scripts.
export function columnChart(rows, format, title) {
  const width = 320;
  const top = 14;
  const plotH = 96;
  const height = top + plotH + 18;
  const colW = width / Math.max(rows.length, 1);
  const max = Math.max(...rows.map((r) => r.value || 0), 0) || 1;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', class: 'chart columns' });
  if (title) svg.append(el('title', {}, title));
  svg.append(el('line', { x1: 0, x2: width, y1: top + plotH + 0.5, y2: top + plotH + 0.5, stroke: '#bbb' }));
  rows.forEach((r, i) => {
    const x = i * colW;
    const v = r.value || 0;
    const hgt = Math.max((v / max) * plotH, v > 0 ? 1.5 : 0);
    svg.append(el('rect', {
      x: (x + colW * 0.18).toFixed(1), y: (top + plotH - hgt).toFixed(1), width: (colW * 0.64).toFixed(1), height: hgt.toFixed(1),
      rx: 1.5, fill: r.color || '#4a7ab5', 'data-index': i, 'data-value': r.value === null ? '' : v,
    }));
    if (v > 0) {
      svg.append(el('text', { x: (x + colW / 2).toFixed(1), y: (top + plotH - hgt - 3).toFixed(1), 'text-anchor': 'middle', class: 'chart-value' }, format(v)));
    }
    svg.append(el('text', { x: (x + colW / 2).toFixed(1), y: height - 5, 'text-anchor': 'middle', class: 'chart-label' }, r.label));
  });
  return svg;
}
