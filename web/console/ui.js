// DOM helpers of the console.  Everything is built with createElement and
// textContent: no HTML is ever parsed from a string, so nothing a user or
// the API wrote can become markup (and the CSP needs no 'unsafe-inline').

// h('tag.class#id', {attrs, on: {event: fn}}, ...children)
export function h(spec, attrs, ...kids) {
	const m = /^([a-z0-9-]+)((?:[.#][A-Za-z0-9_-]+)*)$/.exec(spec);
	if (m === null)
		throw new Error(`bad element spec ${spec}`);
	const el = document.createElement(m[1]);
	for (const part of m[2].match(/[.#][^.#]+/g) ?? []) {
		if (part[0] === '.')
			el.classList.add(part.slice(1));
		else
			el.id = part.slice(1);
	}
	if (attrs !== null && attrs !== undefined && (typeof attrs !== 'object' ||
	    attrs instanceof Node || Array.isArray(attrs))) {
		kids.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs ?? {})) {
		if (k === 'on') {
			for (const [ev, fn] of Object.entries(v))
				el.addEventListener(ev, fn);
		} else if (k === 'dataset') {
			Object.assign(el.dataset, v);
		} else if (v === true) {
			el.setAttribute(k, '');
		} else if (v !== false && v !== null && v !== undefined) {
			if (k === 'value' || k === 'checked' || k === 'selected')
				el[k] = v;
			else
				el.setAttribute(k, String(v));
		}
	}
	append(el, kids);
	return el;
}

function append(el, kids) {
	for (const k of kids.flat(Infinity)) {
		if (k === null || k === undefined || k === false)
			continue;
		el.append(k instanceof Node ? k : document.createTextNode(String(k)));
	}
}

export function clear(el, ...kids) {
	el.replaceChildren();
	append(el, kids);
	return el;
}

// A labelled input.  The error paragraph after it is where an API error
// naming this field goes (see showError).
export function field(label, name, attrs = {}) {
	const id = `f-${name}-${++field.n}`;
	const tag = attrs.tag ?? 'input';
	delete attrs.tag;
	const options = attrs.options;
	delete attrs.options;
	const input = h(tag, { id, name, 'aria-describedby': `${id}-err`, ...attrs });
	if (options !== undefined) {
		for (const o of options) {
			const [v, t] = Array.isArray(o) ? o : [o, o];
			input.append(h('option', { value: v }, t));
		}
		if (attrs.value !== undefined)
			input.value = attrs.value;
	}
	return h('div.field', h('label', { for: id }, label), input,
	    h('p.field-error', { id: `${id}-err`, 'data-for': name, hidden: true }));
}
field.n = 0;

// A form whose submit runs fn(values, form) with the button disabled while
// it runs; an error thrown is shown in the form, next to its fields.
export function form(attrs, kids, fn) {
	const f = h('form', { novalidate: true, ...attrs });
	f.append(h('p.form-error', { role: 'alert', hidden: true }));
	append(f, kids);
	f.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const buttons = f.querySelectorAll('button');
		clearErrors(f);
		buttons.forEach((b) => { b.disabled = true; });
		try {
			await fn(values(f), f, ev.submitter);
		} catch (e) {
			showError(f, e);
		} finally {
			buttons.forEach((b) => { b.disabled = false; });
		}
	});
	return f;
}

export function values(f) {
	const out = {};
	for (const el of f.elements) {
		if (!el.name)
			continue;
		if (el.type === 'checkbox')
			out[el.name] = el.checked;
		else if (el.type === 'file')
			out[el.name] = el.files;
		else
			out[el.name] = el.value;
	}
	return out;
}

export function clearErrors(root) {
	for (const p of root.querySelectorAll('.field-error, .form-error')) {
		p.textContent = '';
		p.hidden = true;
	}
	for (const el of root.querySelectorAll('[aria-invalid]'))
		el.removeAttribute('aria-invalid');
}

// The problem's detail at the top of the container; each errors[] entry
// next to the input of its field, or in the detail when no input has that
// name (so nothing the API said is ever hidden).
export function showError(root, e) {
	const top = root.querySelector(':scope > .form-error') ??
	    root.querySelector('.form-error');
	const detail = e?.detail ?? e?.message ?? String(e);
	const loose = [];
	for (const fe of e?.errors ?? []) {
		const name = fe.field ?? (fe.pointer ?? '').replace(/^#\//, '');
		const p = [...root.querySelectorAll('.field-error')].find((x) =>
		    x.dataset.for === name);
		if (p === undefined) {
			loose.push(`${name}: ${fe.detail}`);
			continue;
		}
		p.textContent = fe.detail;
		p.hidden = false;
		p.previousElementSibling?.setAttribute('aria-invalid', 'true');
	}
	if (top !== null) {
		top.textContent = loose.length > 0 ? `${detail} (${loose.join('; ')})` : detail;
		top.hidden = false;
	} else {
		notice(detail, 'error');
	}
}

// A short message in the page's notice area.
export function notice(text, kind = 'info') {
	const area = document.getElementById('notices');
	const n = h(`p.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' },
	    text, h('button.close', { type: 'button', 'aria-label': 'dismiss',
	    on: { click: () => n.remove() } }, '×'));
	area.append(n);
	if (kind !== 'error')
		setTimeout(() => n.remove(), 6000);
}

export function button(label, fn, attrs = {}) {
	const b = h('button', { type: 'button', ...attrs }, label);
	b.addEventListener('click', async () => {
		b.disabled = true;
		try {
			await fn(b);
		} catch (e) {
			const box = b.closest('section, form, .card') ?? document.body;
			showError(box, e);
		} finally {
			b.disabled = false;
		}
	});
	return b;
}

export function section(title, ...kids) {
	return h('section.card', h('h2', title), h('p.form-error', { role: 'alert', hidden: true }), kids);
}

export function bytes(n) {
	if (n < 1024)
		return `${n} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let v = n, u = -1;
	do {
		v /= 1024;
		u++;
	} while (v >= 1024 && u < units.length - 1);
	return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function when(iso) {
	if (!iso)
		return '';
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// The number of minor units a currency has (2 for EUR, 0 for JPY).
export function currencyDigits(cur) {
	try {
		return new Intl.NumberFormat('en', { style: 'currency', currency: cur })
		    .resolvedOptions().maximumFractionDigits;
	} catch {
		return 2;
	}
}

export function money(minor, cur) {
	const d = currencyDigits(cur);
	const s = (BigInt(minor) < 0n ? '-' : '') + absDecimal(BigInt(minor), d);
	return `${s} ${cur}`;
}

function absDecimal(v, d) {
	const t = (v < 0n ? -v : v).toString().padStart(d + 1, '0');
	return d === 0 ? t : `${t.slice(0, -d)}.${t.slice(-d)}`;
}

// "19.99" in EUR: 1999.  Throws a field error the form shows at amount.
export function toMinor(text, cur, name = 'amount') {
	const d = currencyDigits(cur);
	const m = /^\s*(\d+)(?:[.,](\d*))?\s*$/.exec(text);
	const bad = (why) => Object.assign(new Error(`${name}: ${why}`), {
	    detail: `${name}: ${why}`, errors: [{ field: name, detail: why }] });
	if (m === null)
		throw bad('a number, like 19.99');
	const frac = m[2] ?? '';
	if (frac.length > d)
		throw bad(d === 0 ? `${cur} has no minor unit` :
		    `${cur} has ${d} decimals at most`);
	const v = BigInt(m[1] + frac.padEnd(d, '0'));
	if (v > BigInt(Number.MAX_SAFE_INTEGER))
		throw bad('too large');
	return Number(v);
}
