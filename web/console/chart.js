// A horizontal bar chart in SVG: one row per item, the label, the bar and
// the value.  Presentation attributes only (no style attribute), so the
// page's CSP holds; it scales with the width of its container.
const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs, text) {
	const e = document.createElementNS(NS, tag);
	for (const [k, v] of Object.entries(attrs))
		e.setAttribute(k, String(v));
	if (text !== undefined)
		e.textContent = text;
	return e;
}

// rows: [{label, value, text}], text being how the value is written.
export function bars(rows, { title, empty = 'Nothing yet.' } = {}) {
	const row = 28, labelW = 150, valueW = 90, barW = 260;
	const width = labelW + barW + valueW;
	const height = Math.max(1, rows.length) * row + 8;
	const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img',
	    class: 'chart', 'aria-label': title ?? 'chart',
	    preserveAspectRatio: 'xMinYMin meet' });
	if (title)
		svg.append(el('title', {}, title));
	if (rows.length === 0) {
		svg.append(el('text', { x: 0, y: 20, class: 'chart-empty' }, empty));
		return svg;
	}
	const max = Math.max(...rows.map((r) => r.value), 1);
	rows.forEach((r, i) => {
		const y = i * row + 4;
		const w = Math.max(r.value > 0 ? 2 : 0, Math.round(r.value / max * barW));
		const g = el('g', { class: 'chart-row' });
		g.append(el('title', {}, `${r.label}: ${r.text ?? r.value}`));
		g.append(el('text', { x: labelW - 8, y: y + row / 2 + 4,
		    'text-anchor': 'end', class: 'chart-label' }, clip(r.label, 20)));
		g.append(el('rect', { x: labelW, y: y + 4, width: w, height: row - 10,
		    rx: 3, class: 'chart-bar', 'data-value': r.value }));
		g.append(el('text', { x: labelW + w + 6, y: y + row / 2 + 4,
		    class: 'chart-value' }, r.text ?? String(r.value)));
		svg.append(g);
	});
	return svg;
}

function clip(s, n) {
	return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
