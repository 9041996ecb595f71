// A QR code encoder (ISO/IEC 18004): byte mode, versions 1 to 40, the
// four error correction levels, the mask of least penalty.  Small enough to
// read; its unit test (tests/console/qr.test.mjs) checks the Reed-Solomon
// code and the format bits against the standard's worked values and has
// every version decoded by an independent decoder.
//
// encode(text, level) -> {version, size, modules}: modules[y][x] true = dark.

// Error correction codewords per block, and blocks, by level and version.
const ECC_PER_BLOCK = {
	L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
	M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
	Q: [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
	H: [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
};
const BLOCKS = {
	L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
	M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
	Q: [0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
	H: [0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
};
// The two bits a level has in the format information.
const LEVEL_BITS = { L: 1, M: 0, Q: 3, H: 2 };

// Modules that carry data (and error correction) in a version.
export function rawModules(ver) {
	let n = (16 * ver + 128) * ver + 64;
	if (ver >= 2) {
		const align = Math.floor(ver / 7) + 2;
		n -= (25 * align - 10) * align - 55;
		if (ver >= 7)
			n -= 36;
	}
	return n;
}

export function dataCodewords(ver, level) {
	return Math.floor(rawModules(ver) / 8) -
	    ECC_PER_BLOCK[level][ver] * BLOCKS[level][ver];
}

// GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1.
function mul(x, y) {
	let z = 0;
	for (let i = 7; i >= 0; i--) {
		z = (z << 1) ^ ((z >>> 7) * 0x11d);
		z ^= ((y >>> i) & 1) * x;
	}
	return z;
}

// The generator polynomial of degree n (its leading 1 left out).
function divisor(n) {
	const r = new Array(n).fill(0);
	r[n - 1] = 1;
	let root = 1;
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			r[j] = mul(r[j], root);
			if (j + 1 < n)
				r[j] ^= r[j + 1];
		}
		root = mul(root, 2);
	}
	return r;
}

// The n error correction codewords of a block of data codewords.
export function reedSolomon(data, n) {
	const div = divisor(n);
	const r = new Array(n).fill(0);
	for (const b of data) {
		const f = b ^ r.shift();
		r.push(0);
		for (let i = 0; i < n; i++)
			r[i] ^= mul(div[i], f);
	}
	return r;
}

// The 15 format bits of a level and mask, BCH(15,5) coded and masked.
export function formatBits(level, mask) {
	const d = (LEVEL_BITS[level] << 3) | mask;
	let r = d;
	for (let i = 0; i < 10; i++)
		r = (r << 1) ^ ((r >>> 9) * 0x537);
	return ((d << 10) | r) ^ 0x5412;
}

// The 18 version bits (versions 7 and up), BCH(18,6) coded.
export function versionBits(ver) {
	let r = ver;
	for (let i = 0; i < 12; i++)
		r = (r << 1) ^ ((r >>> 11) * 0x1f25);
	return (ver << 12) | r;
}

// Data codewords: mode (byte), count, the bytes, terminator, padding.
export function codewords(bytes, ver, level) {
	const cap = dataCodewords(ver, level) * 8;
	const bits = [];
	const put = (v, n) => {
		for (let i = n - 1; i >= 0; i--)
			bits.push((v >>> i) & 1);
	};
	put(4, 4);
	put(bytes.length, ver < 10 ? 8 : 16);
	for (const b of bytes)
		put(b, 8);
	put(0, Math.min(4, cap - bits.length));
	put(0, (8 - bits.length % 8) % 8);
	const out = [];
	for (let i = 0; i < bits.length; i += 8)
		out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
	for (let pad = 0xec; out.length < cap / 8; pad ^= 0xec ^ 0x11)
		out.push(pad);
	return out;
}

// Blocks with their error correction, interleaved.
export function interleave(data, ver, level) {
	const nblocks = BLOCKS[level][ver];
	const ecc = ECC_PER_BLOCK[level][ver];
	const raw = Math.floor(rawModules(ver) / 8);
	const nshort = nblocks - raw % nblocks;
	const shortLen = Math.floor(raw / nblocks);
	const blocks = [];
	for (let i = 0, k = 0; i < nblocks; i++) {
		const d = data.slice(k, k + shortLen - ecc + (i < nshort ? 0 : 1));
		k += d.length;
		const e = reedSolomon(d, ecc);
		if (i < nshort)
			d.push(0);
		blocks.push(d.concat(e));
	}
	const out = [];
	for (let i = 0; i < blocks[0].length; i++) {
		for (let j = 0; j < nblocks; j++) {
			if (i !== shortLen - ecc || j >= nshort)
				out.push(blocks[j][i]);
		}
	}
	return out;
}

function alignmentPositions(ver, size) {
	if (ver === 1)
		return [];
	const n = Math.floor(ver / 7) + 2;
	const step = Math.floor((ver * 8 + n * 3 + 5) / (n * 4 - 4)) * 2;
	const out = [6];
	for (let pos = size - 7; out.length < n; pos -= step)
		out.splice(1, 0, pos);
	return out;
}

class Grid {
	constructor(ver) {
		this.size = ver * 4 + 17;
		this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
		this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
	}

	set(x, y, dark) {
		this.dark[y][x] = dark;
		this.fixed[y][x] = true;
	}
}

function drawFormat(g, level, mask) {
	const bits = formatBits(level, mask);
	const bit = (i) => ((bits >>> i) & 1) !== 0;
	const s = g.size;
	for (let i = 0; i <= 5; i++)
		g.set(8, i, bit(i));
	g.set(8, 7, bit(6));
	g.set(8, 8, bit(7));
	g.set(7, 8, bit(8));
	for (let i = 9; i < 15; i++)
		g.set(14 - i, 8, bit(i));
	for (let i = 0; i < 8; i++)
		g.set(s - 1 - i, 8, bit(i));
	for (let i = 8; i < 15; i++)
		g.set(8, s - 15 + i, bit(i));
	g.set(8, s - 8, true);
}

function drawFunctionPatterns(g, ver, level) {
	const s = g.size;
	for (let i = 0; i < s; i++) {
		g.set(6, i, i % 2 === 0);
		g.set(i, 6, i % 2 === 0);
	}
	for (const [cx, cy] of [[3, 3], [s - 4, 3], [3, s - 4]]) {
		for (let dy = -4; dy <= 4; dy++) {
			for (let dx = -4; dx <= 4; dx++) {
				const d = Math.max(Math.abs(dx), Math.abs(dy));
				const x = cx + dx, y = cy + dy;
				if (x >= 0 && x < s && y >= 0 && y < s)
					g.set(x, y, d !== 2 && d !== 4);
			}
		}
	}
	const pos = alignmentPositions(ver, s);
	const n = pos.length;
	for (let i = 0; i < n; i++) {
		for (let j = 0; j < n; j++) {
			if ((i === 0 && j === 0) || (i === 0 && j === n - 1) ||
			    (i === n - 1 && j === 0))
				continue;
			for (let dy = -2; dy <= 2; dy++) {
				for (let dx = -2; dx <= 2; dx++)
					g.set(pos[i] + dx, pos[j] + dy,
					    Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
			}
		}
	}
	drawFormat(g, level, 0);
	if (ver >= 7) {
		const bits = versionBits(ver);
		for (let i = 0; i < 18; i++) {
			const dark = ((bits >>> i) & 1) !== 0;
			const a = s - 11 + i % 3, b = Math.floor(i / 3);
			g.set(a, b, dark);
			g.set(b, a, dark);
		}
	}
}

// The zigzag of two-module columns, right to left, skipping the timing
// column.
function drawData(g, cw) {
	const s = g.size;
	let i = 0;
	for (let right = s - 1; right >= 1; right -= 2) {
		if (right === 6)
			right = 5;
		for (let v = 0; v < s; v++) {
			for (let j = 0; j < 2; j++) {
				const x = right - j;
				const y = ((right + 1) & 2) === 0 ? s - 1 - v : v;
				if (!g.fixed[y][x] && i < cw.length * 8) {
					g.dark[y][x] = ((cw[i >>> 3] >>> (7 - (i & 7))) & 1) !== 0;
					i++;
				}
			}
		}
	}
}

const MASKS = [
	(x, y) => (x + y) % 2 === 0,
	(x, y) => y % 2 === 0,
	(x) => x % 3 === 0,
	(x, y) => (x + y) % 3 === 0,
	(x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
	(x, y) => (x * y) % 2 + (x * y) % 3 === 0,
	(x, y) => ((x * y) % 2 + (x * y) % 3) % 2 === 0,
	(x, y) => ((x + y) % 2 + (x * y) % 3) % 2 === 0,
];

function applyMask(g, m) {
	for (let y = 0; y < g.size; y++) {
		for (let x = 0; x < g.size; x++) {
			if (!g.fixed[y][x] && MASKS[m](x, y))
				g.dark[y][x] = !g.dark[y][x];
		}
	}
}

// The standard's penalty: runs of five or more, 2x2 blocks, finder-like
// patterns, and the balance of dark and light.
export function penalty(dark) {
	const s = dark.length;
	let p = 0;
	const line = (get) => {
		let run = 1;
		for (let i = 1; i <= s; i++) {
			if (i < s && get(i) === get(i - 1)) {
				run++;
				continue;
			}
			if (run >= 5)
				p += 3 + run - 5;
			run = 1;
		}
		const pat = [true, false, true, true, true, false, true];
		for (let i = 0; i + 7 <= s; i++) {
			if (!pat.every((v, k) => get(i + k) === v))
				continue;
			const light = (a, b) => {
				for (let k = a; k < b; k++) {
					if (k >= 0 && k < s && get(k))
						return false;
				}
				return true;
			};
			if (light(i - 4, i) || light(i + 7, i + 11))
				p += 40;
		}
	};
	for (let y = 0; y < s; y++)
		line((x) => dark[y][x]);
	for (let x = 0; x < s; x++)
		line((y) => dark[y][x]);
	let n = 0;
	for (let y = 0; y < s; y++) {
		for (let x = 0; x < s; x++) {
			if (dark[y][x])
				n++;
			if (x + 1 < s && y + 1 < s && dark[y][x] === dark[y][x + 1] &&
			    dark[y][x] === dark[y + 1][x] && dark[y][x] === dark[y + 1][x + 1])
				p += 3;
		}
	}
	const k = Math.ceil(Math.abs(n * 20 - s * s * 10) / (s * s)) - 1;
	return p + Math.max(0, k) * 10;
}

export function encode(text, level = 'M', forceMask = -1) {
	const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
	if (!(level in BLOCKS))
		throw new Error(`level ${level}: L, M, Q or H`);
	let ver = 1;
	while (ver <= 40 && 4 + (ver < 10 ? 8 : 16) + bytes.length * 8 >
	    dataCodewords(ver, level) * 8)
		ver++;
	if (ver > 40)
		throw new Error('too long for a QR code');
	const cw = interleave(codewords(bytes, ver, level), ver, level);
	let best = null;
	for (let m = 0; m < 8; m++) {
		if (forceMask >= 0 && m !== forceMask)
			continue;
		const g = new Grid(ver);
		drawFunctionPatterns(g, ver, level);
		drawData(g, cw);
		applyMask(g, m);
		drawFormat(g, level, m);
		const score = penalty(g.dark);
		if (best === null || score < best.score)
			best = { score, mask: m, grid: g };
	}
	return { version: ver, size: best.grid.size, mask: best.mask, modules: best.grid.dark };
}

// The dark modules as one SVG path, with a quiet zone of four modules.
export function svgPath(qr, border = 4) {
	const d = [];
	for (let y = 0; y < qr.size; y++) {
		for (let x = 0; x < qr.size; x++) {
			if (qr.modules[y][x])
				d.push(`M${x + border} ${y + border}h1v1h-1z`);
		}
	}
	return d.join('');
}

export function svg(text, { level = 'M', border = 4, label = 'QR code' } = {}) {
	const qr = encode(text, level);
	const n = qr.size + border * 2;
	const ns = 'http://www.w3.org/2000/svg';
	const el = document.createElementNS(ns, 'svg');
	el.setAttribute('viewBox', `0 0 ${n} ${n}`);
	el.setAttribute('role', 'img');
	el.setAttribute('aria-label', label);
	el.setAttribute('shape-rendering', 'crispEdges');
	el.classList.add('qr');
	const bg = document.createElementNS(ns, 'rect');
	bg.setAttribute('width', n);
	bg.setAttribute('height', n);
	bg.setAttribute('fill', '#fff');
	const p = document.createElementNS(ns, 'path');
	p.setAttribute('d', svgPath(qr, border));
	p.setAttribute('fill', '#000');
	el.append(bg, p);
	return el;
}
