// A relying party built on openid-client (a certified OpenID Connect RP
// library) against gatehouse: discovery, the code flow with PKCE for a
// public client (a single-page app's configuration) and for a
// confidential one (a server-side app's), ID token validation by the
// library, UserInfo, refresh, revocation and introspection; then two
// forgeries the library must refuse.  The sign-in and consent forms are
// followed with fetch, cookies kept by hand, as a browser without
// JavaScript would.  Prints one JSON summary; exits nonzero on any failure.
//
// Settings (environment): OIDC_ISSUER, OIDC_SPA_ID, OIDC_SPA_REDIRECT,
// OIDC_WEB_ID, OIDC_WEB_SECRET, OIDC_WEB_REDIRECT, OIDC_LOGIN,
// OIDC_PASSWORD.  Trust for the stack's certificate: NODE_EXTRA_CA_CERTS.
import { Issuer, TokenSet, generators, errors } from 'openid-client';

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};

const ISSUER = env('OIDC_ISSUER');
const ORIGIN = new URL(ISSUER).origin;

// A cookie jar for one host: name → value; expired cookies removed.
class Jar {
	constructor() { this.c = new Map(); }
	take(res) {
		for (const line of res.headers.getSetCookie()) {
			const [pair, ...attrs] = line.split(';');
			const i = pair.indexOf('=');
			const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
			const gone = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
			if (gone || value === '')
				this.c.delete(name);
			else
				this.c.set(name, value);
		}
	}
	header() { return [...this.c].map(([k, v]) => `${k}=${v}`).join('; '); }
	has(name) { return this.c.has(name); }
}

const unhtml = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

// The first post form of a page: its action and its fields.
function parseForm(html) {
	const m = html.match(/<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i);
	if (!m)
		return null;
	const fields = {};
	for (const tag of m[2].matchAll(/<input\b[^>]*>/gi)) {
		const name = tag[0].match(/\bname="([^"]*)"/);
		const value = tag[0].match(/\bvalue="([^"]*)"/);
		if (name)
			fields[unhtml(name[1])] = value ? unhtml(value[1]) : '';
	}
	const buttons = [...m[2].matchAll(/<button\b[^>]*name="([^"]*)"[^>]*value="([^"]*)"/gi)]
	    .map((b) => [unhtml(b[1]), unhtml(b[2])]);
	return { action: unhtml(m[1]), fields, buttons };
}

async function get(jar, url) {
	const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
	jar.take(res);
	return res;
}

async function post(jar, url, form) {
	const res = await fetch(new URL(url, ORIGIN), {
		method: 'POST', redirect: 'manual',
		headers: { cookie: jar.header(), origin: ORIGIN,
		    'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(form).toString(),
	});
	jar.take(res);
	return res;
}

// Follows the provider's pages from the authorization URL to the 303 to
// redirectUri; returns the callback's parameters and the pages seen.
async function browse(jar, url, redirectUri) {
	const seen = [];
	let res = await get(jar, url);
	for (let step = 0; step < 4; step++) {
		if (res.status === 303 || res.status === 302) {
			const loc = res.headers.get('location');
			if (!loc.startsWith(redirectUri + '?'))
				throw new Error(`redirected elsewhere: ${loc}`);
			return { seen, location: loc };
		}
		if (res.status !== 200)
			throw new Error(`page answered ${res.status}`);
		const html = await res.text();
		const form = parseForm(html);
		if (!form)
			throw new Error('a page without a form');
		if ('password' in form.fields) {
			seen.push('signin');
			form.fields.login = env('OIDC_LOGIN');
			form.fields.password = env('OIDC_PASSWORD');
		} else if (form.buttons.some(([n, v]) => n === 'decision' && v === 'allow')) {
			seen.push('consent');
			form.fields.decision = 'allow';
		} else {
			throw new Error('an unexpected form');
		}
		res = await post(jar, form.action, form.fields);
	}
	throw new Error('too many pages');
}

async function codeFlow(client, jar, redirectUri, scope) {
	const code_verifier = generators.codeVerifier();
	const state = generators.state(), nonce = generators.nonce();
	const url = client.authorizationUrl({
		redirect_uri: redirectUri, scope,
		code_challenge: generators.codeChallenge(code_verifier),
		code_challenge_method: 'S256', state, nonce,
	});
	const { seen, location } = await browse(jar, url, redirectUri);
	const params = client.callbackParams(location);
	return { seen, params, checks: { code_verifier, state, nonce } };
}

// Expects fn to throw an openid-client RPError; its message, else throws.
async function refused(fn) {
	try {
		await fn();
	} catch (e) {
		if (e instanceof errors.RPError)
			return e.message;
		throw e;
	}
	throw new Error('the library accepted it');
}

async function main() {
	const out = {};
	const issuer = await Issuer.discover(ISSUER);
	out.issuer = issuer.issuer;

	// The single-page app: public, PKCE, no secret.
	const spaUri = env('OIDC_SPA_REDIRECT');
	const spa = new issuer.Client({
		client_id: env('OIDC_SPA_ID'),
		token_endpoint_auth_method: 'none',
		id_token_signed_response_alg: 'ES256',
		redirect_uris: [spaUri],
		response_types: ['code'],
	});
	const jar = new Jar();
	let f = await codeFlow(spa, jar, spaUri, 'openid profile email offline_access');
	const ts = await spa.callback(spaUri, f.params, f.checks);
	const claims = ts.claims();
	const info = await spa.userinfo(ts);
	const ts2 = await spa.refresh(ts);
	out.spa = {
		pages: f.seen, sub: claims.sub, aud: claims.aud,
		nonce_ok: claims.nonce === f.checks.nonce,
		amr: claims.amr, username: claims.preferred_username,
		userinfo_sub: info.sub, userinfo_email: info.email,
		scope: ts.scope, refreshed: ts2.refresh_token !== ts.refresh_token &&
		    typeof ts2.access_token === 'string',
		idp_cookie: jar.has('gh_idp'),
	};
	await spa.revoke(ts2.refresh_token, 'refresh_token');
	out.spa.after_revoke = await spa.refresh(ts2).then(() => 'accepted',
	    (e) => e.error ?? e.message);

	// The server-side app: confidential, client_secret_basic, PKCE too.
	// The provider session of the first flow spares the password.
	const webUri = env('OIDC_WEB_REDIRECT');
	const web = new issuer.Client({
		client_id: env('OIDC_WEB_ID'),
		client_secret: env('OIDC_WEB_SECRET'),
		token_endpoint_auth_method: 'client_secret_basic',
		id_token_signed_response_alg: 'ES256',
		redirect_uris: [webUri],
		response_types: ['code'],
	});
	f = await codeFlow(web, jar, webUri, 'openid email offline_access');
	const wts = await web.callback(webUri, f.params, f.checks);
	const before = await web.introspect(wts.access_token, 'access_token');
	const winfo = await web.userinfo(wts.access_token);
	const wts2 = await web.refresh(wts);
	await web.revoke(wts2.access_token, 'access_token');
	const after = await web.introspect(wts2.access_token, 'access_token');
	out.web = {
		pages: f.seen, sub: wts.claims().sub, aud: wts.claims().aud,
		userinfo_sub: winfo.sub,
		introspect_active: before.active, introspect_client: before.client_id,
		introspect_username: before.username,
		after_revoke_active: after.active,
	};

	// Forgeries: the library refuses them.
	f = await codeFlow(web, jar, webUri, 'openid');
	out.wrong_nonce = await refused(() => web.callback(webUri, f.params,
	    { ...f.checks, nonce: generators.nonce() }));
	const [h, p, s] = wts.id_token.split('.');
	const forged = JSON.parse(Buffer.from(p, 'base64url'));
	forged.sub = 'someone-else';
	const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`;
	out.tampered_id_token = await refused(() => web.validateIdToken(
	    new TokenSet({ ...wts, id_token: tampered }), undefined, 'token'));
	out.other_audience = await refused(() => spa.validateIdToken(
	    new TokenSet({ id_token: wts.id_token }), undefined, 'token'));
	out.ok = true;
	return out;
}

main().then((out) => {
	console.log(JSON.stringify(out));
}, (e) => {
	console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e),
	    detail: e?.error_description ?? e?.error ?? null }));
	process.exitCode = 1;
});
