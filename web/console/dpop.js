// DPoP (RFC 9449): the console's key pair and the proofs it signs.
//
// The private key is made non-extractable by WebCrypto and kept in
// IndexedDB, which stores the CryptoKey object itself: no script, ours
// or an injected one, can ever read its bytes, so a refresh or access
// token taken from this page is worth nothing anywhere else.

const DB = 'gatehouse-console';
const STORE = 'keys';
const NAME = 'dpop';

let pair = null;
let jwk = null;
// Seconds to add to this machine's clock to get the server's (from the
// Date of an answer): a proof's iat must be within GH_DPOP_WINDOW of it.
let skew = 0;
// Server-provided nonces (RFC 9449 8, 9; GH_DPOP_NONCE): the last one
// each server handed out, by what it guards (the token endpoint, or the
// API of auth, payments or media), put in each proof to it.
const nonces = new Map();

function nonceScope(u) {
	return u.pathname.endsWith('/oauth/token') ? 'token' :
	    (u.pathname.split('/')[3] ?? '');
}

// headers: anything with get(name), the Headers of a fetch or a wrapper
// of an XMLHttpRequest's.
export function learnNonce(url, headers) {
	const n = headers.get('DPoP-Nonce');
	if (n)
		nonces.set(nonceScope(new URL(url, location.href)), n);
}

export function b64url(bytes) {
	let s = '';
	for (const b of new Uint8Array(bytes))
		s += String.fromCharCode(b);
	return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const utf8 = (s) => new TextEncoder().encode(s);

export function randomToken(n = 32) {
	return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

export async function sha256(s) {
	return b64url(await crypto.subtle.digest('SHA-256', utf8(s)));
}

function db() {
	return new Promise((resolve, reject) => {
		const r = indexedDB.open(DB, 1);
		r.onupgradeneeded = () => r.result.createObjectStore(STORE);
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

async function tx(mode, fn) {
	const d = await db();
	try {
		return await new Promise((resolve, reject) => {
			const t = d.transaction(STORE, mode);
			const r = fn(t.objectStore(STORE));
			t.oncomplete = () => resolve(r?.result);
			t.onerror = () => reject(t.error);
			t.onabort = () => reject(t.error);
		});
	} finally {
		d.close();
	}
}

// The key pair, made on first use.
export async function key() {
	if (pair !== null)
		return pair;
	let p = await tx('readonly', (s) => s.get(NAME));
	if (p === undefined) {
		p = await crypto.subtle.generateKey({ name: 'ECDSA',
		    namedCurve: 'P-256' }, false, ['sign', 'verify']);
		await tx('readwrite', (s) => s.put(p, NAME));
	}
	const full = await crypto.subtle.exportKey('jwk', p.publicKey);
	jwk = { kty: full.kty, crv: full.crv, x: full.x, y: full.y };
	pair = p;
	return pair;
}

// A new key next time: on sign-out, so nothing bound to the old one can
// be used again from this browser.
export async function forget() {
	pair = null;
	jwk = null;
	await tx('readwrite', (s) => s.delete(NAME));
}

export function learnClock(res) {
	const d = Date.parse(res.headers.get('Date') ?? '');
	if (!Number.isNaN(d))
		skew = Math.round((d - Date.now()) / 1000);
}

// A proof for one request: htm, htu (no query, no fragment) and, with an
// access token, ath (its SHA-256).
export async function proof(method, url, accessToken) {
	const k = await key();
	const u = new URL(url, location.href);
	const claims = {
		jti: randomToken(16),
		htm: method,
		htu: u.origin + u.pathname,
		iat: Math.floor(Date.now() / 1000) + skew,
	};
	if (accessToken)
		claims.ath = await sha256(accessToken);
	const nonce = nonces.get(nonceScope(u));
	if (nonce)
		claims.nonce = nonce;
	const head = b64url(utf8(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk })));
	const body = b64url(utf8(JSON.stringify(claims)));
	const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' },
	    k.privateKey, utf8(`${head}.${body}`));
	return `${head}.${body}.${b64url(sig)}`;
}
