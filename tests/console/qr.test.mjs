// The console's QR encoder (web/console/qr.js) against known values and an
// independent decoder (jsQR): node --test tests/console/qr.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsQR from 'jsqr';
import * as qr from '../../web/console/qr.js';

// The standard's worked example (ISO/IEC 18004 annex I, and every
// tutorial after it): "HELLO WORLD" as version 1-M, whose 16 data
// codewords have these 10 error correction codewords.
test('Reed-Solomon codewords of the worked 1-M example', () => {
	const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17];
	assert.deepEqual(qr.reedSolomon(data, 10),
	    [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
});

// Table C.1 of the standard: the format information of a few level and
// mask pairs, after the 101010000010010 mask.
test('format information bits', () => {
	const want = {
		'L0': 0b111011111000100, 'L2': 0b111110110101010,
		'L7': 0b110100101110110,
		'M0': 0b101010000010010, 'M5': 0b100000011001110,
		'Q0': 0b011010101011111, 'H0': 0b001011010001001,
		'H7': 0b000100000111011,
	};
	for (const [k, v] of Object.entries(want))
		assert.equal(qr.formatBits(k[0], Number(k.slice(1))), v, k);
});

// Table D.1: the version information of versions 7 and 40.
test('version information bits', () => {
	assert.equal(qr.versionBits(7), 0b000111110010010100);
	assert.equal(qr.versionBits(40), 0b101000110001101001);
});

test('capacities: data codewords of a few versions', () => {
	// Table 7 of the standard.
	assert.equal(qr.dataCodewords(1, 'L'), 19);
	assert.equal(qr.dataCodewords(1, 'H'), 9);
	assert.equal(qr.dataCodewords(10, 'M'), 216);
	assert.equal(qr.dataCodewords(40, 'L'), 2956);
	assert.equal(qr.dataCodewords(40, 'H'), 1276);
});

// Renders the modules at 4 pixels each with a quiet zone, as RGBA.
function pixels(code, scale = 4, border = 4) {
	const n = (code.size + border * 2) * scale;
	const px = new Uint8ClampedArray(n * n * 4).fill(255);
	for (let y = 0; y < code.size; y++) {
		for (let x = 0; x < code.size; x++) {
			if (!code.modules[y][x])
				continue;
			for (let dy = 0; dy < scale; dy++) {
				for (let dx = 0; dx < scale; dx++) {
					const o = (((y + border) * scale + dy) * n +
					    (x + border) * scale + dx) * 4;
					px[o] = px[o + 1] = px[o + 2] = 0;
				}
			}
		}
	}
	return { px, n };
}

function decode(code) {
	const { px, n } = pixels(code);
	const r = jsQR(px, n, n, { inversionAttempts: 'dontInvert' });
	assert.ok(r, `version ${code.version} mask ${code.mask}: not decoded`);
	return r;
}

test('an otpauth URI decodes back to itself', () => {
	const uri = 'otpauth://totp/gatehouse:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=gatehouse&algorithm=SHA1&digits=6&period=30';
	const code = qr.encode(uri, 'M');
	const r = decode(code);
	assert.equal(r.data, uri);
	assert.equal(r.version, code.version);
});

test('every mask decodes', () => {
	for (let m = 0; m < 8; m++) {
		const code = qr.encode('gatehouse mask test', 'Q', m);
		assert.equal(code.mask, m);
		assert.equal(decode(code).data, 'gatehouse mask test');
	}
});

// The longest text of each version and level: every version's block
// structure, alignment patterns and version bits meet the decoder.
test('every version and level decodes, at its capacity', () => {
	for (const level of ['L', 'M', 'Q', 'H']) {
		for (let v = 1; v <= 40; v += (v < 12 ? 1 : 3)) {
			const len = qr.dataCodewords(v, level) - (v < 10 ? 2 : 3);
			const text = Array.from({ length: len }, (_, i) =>
			    String.fromCharCode(33 + (i * 7 + v) % 90)).join('');
			const code = qr.encode(text, level);
			assert.equal(code.version, v, `${level}: ${len} bytes`);
			assert.equal(decode(code).data, text, `${v}-${level}`);
		}
	}
});

test('UTF-8 and an empty text', () => {
	assert.equal(decode(qr.encode('café ✓', 'L')).data, 'café ✓');
	assert.equal(qr.encode('', 'L').version, 1);
});

test('too long is refused', () => {
	assert.throws(() => qr.encode('x'.repeat(2954), 'L'), /too long/);
	assert.throws(() => qr.encode('x', 'X'), /level/);
});
