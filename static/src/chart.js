// chart: a horizontal bar chart drawn as SVG by hand — labels on the left,
// bars scaled to the largest value, the value at the end of each bar.
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
