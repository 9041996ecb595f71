// A real browser (Debian's Chromium, driven by playwright-core; no
// browser is downloaded) through gatehouse's sign-in, two-step and
// consent pages; then a second app through the provider session (consent
// only); then the sign-in page inside another site's iframe, which must not
// render.  A screenshot of each page goes to OIDC_SHOTS.  Prints one JSON
// summary; exits nonzero on any failure.
//
// Settings (environment): OIDC_ISSUER, OIDC_SPA_ID, OIDC_SPA_REDIRECT,
// OIDC_WEB_ID, OIDC_WEB_REDIRECT, OIDC_LOGIN, OIDC_PASSWORD,
// OIDC_TOTP_SECRET (base32, from the otpauth URI), OIDC_SHOTS,
// OIDC_CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { launch } from './chromium.mjs';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};
const ISSUER = env('OIDC_ISSUER');
const SHOTS = env('OIDC_SHOTS');
const b64url = (b) => Buffer.from(b).toString('base64url');

function base32(s) {
	const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = 0, acc = 0;
	const out = [];
	for (const ch of s.replace(/=+$/, '').toUpperCase()) {
		const v = abc.indexOf(ch);
		if (v < 0)
			throw new Error('not base32');
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			out.push((acc >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(out);
}

// RFC 6238: HMAC-SHA1, 30 s steps, 6 digits.
function totp(secret, now = Date.now()) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
	const mac = createHmac('sha1', base32(secret)).update(msg).digest();
	const off = mac[19] & 0xf;
	const bin = mac.readUInt32BE(off) & 0x7fffffff;
	return String(bin % 1000000).padStart(6, '0');
}

function authUrl(client, redirect, scope, extra = {}) {
	const verifier = b64url(randomBytes(32));
	const u = new URL(ISSUER + '/api/v1/auth/oauth/authorize');
	const q = {
		response_type: 'code', client_id: client, redirect_uri: redirect,
		scope, state: b64url(randomBytes(12)), nonce: b64url(randomBytes(12)),
		code_challenge: b64url(createHash('sha256').update(verifier).digest()),
		code_challenge_method: 'S256', ...extra,
	};
	for (const [k, v] of Object.entries(q))
		u.searchParams.set(k, v);
	return { url: u.toString(), verifier, state: q.state };
}

// Serves nothing at the redirect URI: the navigation is caught and its
// URL kept.
async function catchRedirect(ctx, redirect) {
	let hit;
	const got = new Promise((resolve) => { hit = resolve; });
	await ctx.route((u) => u.href.startsWith(redirect + '?'), (route) => {
		hit(route.request().url());
		route.fulfill({ status: 200, contentType: 'text/plain', body: 'caught' });
	});
	return got;
}

async function shot(page, name) {
	await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

const within = (p, ms, what) => Promise.race([p, new Promise((_, no) =>
    setTimeout(() => no(new Error(`timed out: ${what}`)), ms))]);

let current, lastPost;

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const out = {};
	const browser = await launch(chromium, 'OIDC_CHROMIUM');
	try {
		const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
		ctx.setDefaultTimeout(15000);
		const page = await ctx.newPage();
		current = page;
		page.on('request', async (r) => {
			if (r.method() === 'POST')
				lastPost = await r.allHeaders();
		});

		// 1. Sign in, the code, consent, allow.
		const spaRedirect = env('OIDC_SPA_REDIRECT');
		const a = authUrl(env('OIDC_SPA_ID'), spaRedirect, 'openid profile email');
		const caught = catchRedirect(ctx, spaRedirect);
		const res = await page.goto(a.url);
		out.signin_csp = res.headers()['content-security-policy'] ?? null;
		await page.locator('#password').waitFor();
		await shot(page, '1-signin');
		await page.fill('#login', env('OIDC_LOGIN'));
		await page.fill('#password', env('OIDC_PASSWORD'));
		await page.click('button[type=submit]');
		await page.locator('#totp').waitFor();
		await shot(page, '2-totp');
		await page.fill('#totp', totp(env('OIDC_TOTP_SECRET')));
		await page.click('button[type=submit]');
		await page.locator('button[value=allow]').waitFor();
		out.consent_title = await page.title();
		out.consent_scopes = await page.locator('li').allInnerTexts();
		await shot(page, '3-consent');
		await page.click('button[value=allow]');
		const back = new URL(await within(caught, 15000, 'redirect'));
		await shot(page, '4-redirect');
		out.first = {
			code: back.searchParams.has('code'),
			state_ok: back.searchParams.get('state') === a.state,
			iss: back.searchParams.get('iss'),
		};
		// The code works at the token endpoint; the ID token says otp.
		const tok = await fetch(ISSUER + '/api/v1/auth/oauth/token', {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: new URLSearchParams({
				grant_type: 'authorization_code', client_id: env('OIDC_SPA_ID'),
				code: back.searchParams.get('code'), redirect_uri: spaRedirect,
				code_verifier: a.verifier,
			}),
		});
		const tj = await tok.json();
		out.first.token_status = tok.status;
		out.first.amr = tj.id_token ? JSON.parse(Buffer.from(
		    tj.id_token.split('.')[1], 'base64url')).amr : null;

		// 2. A second app: the provider session; consent only.
		const webRedirect = env('OIDC_WEB_REDIRECT');
		const b = authUrl(env('OIDC_WEB_ID'), webRedirect, 'openid email');
		const caught2 = catchRedirect(ctx, webRedirect);
		await page.goto(b.url);
		await page.locator('button[value=allow]').waitFor();
		out.second_password_asked = await page.locator('#password').count() > 0;
		await shot(page, '5-second-consent');
		await page.click('button[value=allow]');
		const back2 = new URL(await within(caught2, 15000, 'second redirect'));
		out.second = { code: back2.searchParams.has('code'),
		    state_ok: back2.searchParams.get('state') === b.state };

		// 3. Another site frames the sign-in page: it must not render.
		const framed = authUrl(env('OIDC_SPA_ID'), spaRedirect, 'openid',
		    { prompt: 'login' }).url;
		const evil = await ctx.newPage();
		const frameRes = evil.waitForResponse((r) => r.url() === framed);
		await evil.setContent(`<h1>Another site</h1><iframe id="f" src="${
		    framed.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}" width="600" height="400"></iframe>`);
		const fr = await within(frameRes, 15000, 'frame response');
		out.frame_csp = fr.headers()['content-security-policy'] ?? null;
		out.frame_xfo = fr.headers()['x-frame-options'] ?? null;
		await evil.waitForTimeout(500);
		const frame = evil.frames().find((f) => f !== evil.mainFrame());
		let rendered = false;
		if (frame) {
			rendered = await frame.evaluate(() =>
			    document.querySelector('#password') !== null).catch(() => false);
			out.frame_url = frame.url();
		}
		out.frame_rendered = rendered;
		await shot(evil, '6-framed');
		out.ok = true;
	} catch (e) {
		// What the page said, for the log.
		if (current) {
			await shot(current, 'error').catch(() => {});
			e.page = await current.locator('body').innerText().catch(() => null);
			e.post = lastPost;
			e.cookies = await current.context().cookies().catch(() => null);
		}
		throw e;
	} finally {
		await browser.close();
	}
	return out;
}

main().then((out) => {
	console.log(JSON.stringify(out));
}, (e) => {
	console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e),
	    page: e?.page?.slice(0, 500) ?? null, post: e?.post ?? null,
	    cookies: e?.cookies?.map((c) => `${c.name} ${c.path} ${c.sameSite} ${c.secure}`) ?? null }));
	process.exitCode = 1;
});
