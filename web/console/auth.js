// Signing in: the console is a first-party public OAuth client of
// gatehouse's own provider, through the authorization code flow with PKCE
// (S256), every token bound to the console's DPoP key.
//
// Where the tokens live (docs/console.md says why):
//   access token   in this module's memory only;
//   refresh token  in sessionStorage (this tab, gone when it closes), so a
//                  reload stays signed in; it is bound to the DPoP key, whose
//                  private half cannot leave the browser, so a copy of it is
//                  useless to anyone else;
//   ID token       in sessionStorage: who signed in, and the hint that
//                  RP-initiated logout needs; it opens nothing.
import * as dpop from './dpop.js';

const PKCE = 'gh.console.pkce';
const RT = 'gh.console.rt';
const IDT = 'gh.console.idt';
const SCOPE = 'openid profile email offline_access';

let config = null;
let meta = null;
let access = null;
let refreshing = null;

export class SignedOut extends Error {
	constructor(why) {
		super(why);
		this.detail = why;
	}
}

function oauthError(res, j) {
	const why = j.error_description ?? j.error ?? `HTTP ${res.status}`;
	return Object.assign(new Error(why), { detail: why, oauth: j.error,
	    status: res.status });
}

async function getJSON(path) {
	const res = await fetch(path, { cache: 'no-store' });
	dpop.learnClock(res);
	if (!res.ok)
		throw Object.assign(new Error(`${path}: HTTP ${res.status}`), { status: res.status });
	return res.json();
}

// The console's client (console.json, written when it was registered) and
// the provider's metadata.
export async function setup() {
	let c;
	try {
		c = await getJSON('/console.json');
	} catch (e) {
		throw Object.assign(new Error('This console has no OAuth client yet. ' +
		    'On a server, run gatehouse-first-run with GH_PUBLIC_URL set; ' +
		    'locally, script/server registers one.'), { setup: true });
	}
	if (typeof c.client_id !== 'string' || typeof c.redirect_uri !== 'string')
		throw Object.assign(new Error('console.json names no client_id and redirect_uri'), { setup: true });
	const want = new URL(c.redirect_uri).origin;
	if (want !== location.origin)
		throw Object.assign(new Error(`This console is registered at ${want}; open it there.`),
		    { setup: true, origin: want });
	meta = await getJSON('/.well-known/openid-configuration');
	config = c;
}

export function signedIn() {
	return access !== null || sessionStorage.getItem(RT) !== null;
}

// To the provider's sign-in page; back at /callback.
export async function signIn({ hint, back = location.hash } = {}) {
	const verifier = dpop.randomToken(32);
	const state = dpop.randomToken(16);
	const nonce = dpop.randomToken(16);
	sessionStorage.setItem(PKCE, JSON.stringify({ state, verifier, nonce, back }));
	const u = new URL(meta.authorization_endpoint);
	const q = {
		response_type: 'code', client_id: config.client_id,
		redirect_uri: config.redirect_uri, scope: SCOPE, state, nonce,
		code_challenge: await dpop.sha256(verifier),
		code_challenge_method: 'S256',
	};
	if (hint)
		q.login_hint = hint;
	for (const [k, v] of Object.entries(q))
		u.searchParams.set(k, v);
	location.assign(u.toString());
}

async function token(form) {
	let res, j;
	for (let tries = 0; ; tries++) {
		res = await fetch(meta.token_endpoint, {
			method: 'POST',
			headers: {
				'Content-Type': 'application/x-www-form-urlencoded',
				DPoP: await dpop.proof('POST', meta.token_endpoint),
			},
			body: new URLSearchParams({ client_id: config.client_id, ...form }),
			cache: 'no-store',
		});
		dpop.learnClock(res);
		dpop.learnNonce(meta.token_endpoint, res.headers);
		j = await res.json().catch(() => ({}));
		// The provider asks for its nonce (RFC 9449 8) before it looks
		// at the code or the refresh token: send it again, once.
		if (res.status !== 400 || j.error !== 'use_dpop_nonce' || tries > 0)
			break;
	}
	if (!res.ok)
		throw oauthError(res, j);
	if (j.token_type !== 'DPoP')
		throw new Error('the provider did not bind the token to this browser\'s key');
	return j;
}

function keep(t) {
	access = { token: t.access_token, until: Date.now() + (t.expires_in - 60) * 1000 };
	if (t.refresh_token)
		sessionStorage.setItem(RT, t.refresh_token);
	if (t.id_token)
		sessionStorage.setItem(IDT, t.id_token);
}

export function decode(jwt) {
	try {
		const p = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
		return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(p),
		    (c) => c.charCodeAt(0))));
	} catch {
		return null;
	}
}

// Back from the provider: the state must be the one this tab sent, the
// issuer ours (RFC 9207), the ID token's nonce and audience ours.  The ID
// token comes straight from the token endpoint over TLS, which vouches
// for its issuer (OpenID Connect Core 3.1.3.7, 6).
export async function callback(params) {
	const saved = JSON.parse(sessionStorage.getItem(PKCE) ?? 'null');
	sessionStorage.removeItem(PKCE);
	if (saved === null || params.get('state') !== saved.state)
		throw new Error('This sign-in answer does not belong to a sign-in started in this tab; start again.');
	if (params.get('iss') !== meta.issuer)
		throw new Error('The sign-in answer came from another issuer.');
	if (params.has('error'))
		throw new Error(params.get('error_description') ?? params.get('error'));
	const t = await token({ grant_type: 'authorization_code',
	    code: params.get('code') ?? '', redirect_uri: config.redirect_uri,
	    code_verifier: saved.verifier });
	const id = decode(t.id_token ?? '');
	if (id === null || id.nonce !== saved.nonce || id.aud !== config.client_id ||
	    id.iss !== meta.issuer)
		throw new Error('The ID token is not the one this sign-in asked for.');
	keep(t);
	return saved.back ?? '';
}

function forgetTokens() {
	access = null;
	sessionStorage.removeItem(RT);
	sessionStorage.removeItem(IDT);
}

async function refreshNow() {
	const rt = sessionStorage.getItem(RT);
	if (rt === null)
		throw new SignedOut('You are signed out.');
	try {
		keep(await token({ grant_type: 'refresh_token', refresh_token: rt }));
	} catch (e) {
		if (e.oauth === 'invalid_grant' || e.oauth === 'invalid_dpop_proof') {
			forgetTokens();
			throw new SignedOut(`Your session has ended (${e.detail}); sign in again.`);
		}
		throw e;
	}
}

// One refresh at a time: two at once would present the same refresh
// token twice.
export function refresh() {
	if (refreshing === null)
		refreshing = refreshNow().finally(() => { refreshing = null; });
	return refreshing;
}

export async function accessToken() {
	if (access === null || Date.now() >= access.until)
		await refresh();
	return access.token;
}

export function claims() {
	return access === null ? null : decode(access.token);
}

export function idClaims() {
	return decode(sessionStorage.getItem(IDT) ?? '');
}

export function isAdmin() {
	return claims()?.role === 'admin';
}

// RP-initiated logout: the provider ends its session and this client's
// sessions of the user, then sends the browser back to /.  The key goes
// too.
export async function signOut() {
	const idt = sessionStorage.getItem(IDT);
	forgetTokens();
	await dpop.forget().catch(() => {});
	if (idt === null || meta === null) {
		location.assign('/');
		return;
	}
	const u = new URL(meta.end_session_endpoint);
	u.searchParams.set('id_token_hint', idt);
	u.searchParams.set('post_logout_redirect_uri', config.post_logout_redirect_uri ??
	    `${location.origin}/`);
	u.searchParams.set('state', dpop.randomToken(12));
	location.assign(u.toString());
}

// After the account is gone, or every session ended from here.
export async function dropLocal() {
	forgetTokens();
	await dpop.forget().catch(() => {});
}
