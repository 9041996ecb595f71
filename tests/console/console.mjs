// The browser console (web/) clicked end to end in Debian's Chromium,
// driven by playwright-core (no browser is downloaded), against the
// running stack.  A screenshot of each page goes to CONSOLE_SHOTS.  Prints
// one JSON summary that tests/integration/t_console.sh checks; exits
// nonzero when a step cannot be done at all.
//
// Settings (environment): CONSOLE_URL (https://localhost:PORT),
// CONSOLE_SHOTS, CONSOLE_USER, CONSOLE_PASSWORD (the account signed up
// here), CONSOLE_ADMIN, CONSOLE_ADMIN_PASSWORD (an admin made by the
// suite), CONSOLE_FILES (a folder with small.png and big.pdf),
// CONSOLE_PARTS (which parts: auth,account,media,payments,admin,phone;
// all by default), OIDC_CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import jsQR from 'jsqr';

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};
const BASE = env('CONSOLE_URL');
const SHOTS = env('CONSOLE_SHOTS');
const USER = env('CONSOLE_USER');
const PASSWORD = env('CONSOLE_PASSWORD');
const PARTS = new Set((process.env.CONSOLE_PARTS || 'auth,account,media,payments,admin,phone').split(','));

const out = { steps: [] };
let current = null;

function base32(s) {
	const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = 0, acc = 0;
	const o = [];
	for (const ch of s.replace(/=+$/, '').toUpperCase()) {
		acc = (acc << 5) | abc.indexOf(ch);
		bits += 5;
		if (bits >= 8) {
			o.push((acc >>> (bits - 8)) & 0xff);
			bits -= 8;
		}
	}
	return Buffer.from(o);
}

// RFC 6238, HMAC-SHA1, 30 s, 6 digits; step 1 is the next period's code
// (a code is accepted once, and the window takes the next one too).
function totp(secret, step = 0) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + step));
	const mac = createHmac('sha1', base32(secret)).update(msg).digest();
	const off = mac[19] & 0xf;
	return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

async function shot(page, name) {
	await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
	out.steps.push(name);
}

// Everything the page says went wrong: script errors, CSP violations and
// console errors (a failed request the test caused on purpose logs one:
// those are counted apart).
function watch(page, tag) {
	const bag = { errors: [], csp: [], failed: [] };
	out[`${tag}_log`] = bag;
	page.on('pageerror', (e) => bag.errors.push(String(e.message ?? e)));
	page.on('console', (m) => {
		if (m.type() !== 'error')
			return;
		const t = m.text();
		if (/Content Security Policy/i.test(t))
			bag.csp.push(t);
		else if (/Failed to load resource: the server responded with a status of/.test(t))
			bag.failed.push(t);
		else
			bag.errors.push(t);
	});
	return bag;
}

async function newPage(browser, tag, opts = {}) {
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true, ...opts });
	ctx.setDefaultTimeout(15000);
	await ctx.addInitScript(() => {
		window.__csp = [];
		document.addEventListener('securitypolicyviolation', (e) =>
		    window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
	});
	const page = await ctx.newPage();
	watch(page, tag);
	current = page;
	return page;
}

// Field errors shown next to their inputs: {name: text}.
async function fieldErrors(page, formSel) {
	return page.$$eval(`${formSel} .field-error:not([hidden])`, (ps) =>
	    Object.fromEntries(ps.map((p) => [p.dataset.for, p.textContent])));
}

async function formError(page, formSel) {
	const l = page.locator(`${formSel} .form-error`);
	await l.waitFor({ state: 'visible' });
	return l.textContent();
}

// The provider's sign-in page, then (with a secret) its code page.
async function providerSignIn(page, login, password, secret) {
	await page.locator('#password').waitFor();
	out.provider_login_prefilled ??= await page.inputValue('#login');
	if (login !== null)
		await page.fill('#login', login);
	await page.fill('#password', password);
	await page.click('button[type=submit]');
	if (secret) {
		await page.locator('#totp').waitFor();
		await shot(page, 'provider-totp');
		await page.fill('#totp', totp(secret, 1));
		await page.click('button[type=submit]');
	}
	await page.waitForURL((u) => u.pathname === '/' && !u.search);
	await page.locator('#signout').waitFor({ state: 'visible' });
}

async function authPart(browser) {
	const page = await newPage(browser, 'user');
	const r = await page.goto(`${BASE}/`);
	out.csp = r.headers()['content-security-policy'] ?? null;
	await page.locator('#health .svc.up').nth(2).waitFor();
	out.health = await page.$$eval('#health .svc', (s) => s.map((e) => `${e.dataset.service}:${e.dataset.state}`));
	await page.locator('#signin').waitFor();
	await shot(page, '01-signed-out');

	// Sign-up: bad fields first, each named next to its input.
	await page.click('#to-signup');
	await page.locator('#signup-form').waitFor();
	await page.fill('#signup-form [name=username]', 'x');
	await page.fill('#signup-form [name=email]', 'not-an-email');
	await page.fill('#signup-form [name=password]', 'short');
	await page.click('#signup-form button[type=submit]');
	out.signup_detail = await formError(page, '#signup-form');
	out.signup_errors = await fieldErrors(page, '#signup-form');
	await shot(page, '02-signup-errors');
	await page.fill('#signup-form [name=username]', USER);
	await page.fill('#signup-form [name=email]', `${USER}@example.com`);
	await page.fill('#signup-form [name=password]', PASSWORD);
	await page.click('#signup-form button[type=submit]');
	// The provider's page, the new username filled in from login_hint.
	await page.waitForURL((u) => u.pathname === '/api/v1/auth/oauth/authorize');
	await shot(page, '03-provider-signin');
	await providerSignIn(page, null, PASSWORD);
	await page.locator('h1', { hasText: `Hello, ${USER}` }).waitFor();
	out.signed_in_as = await page.textContent('#who');
	await shot(page, '04-home');

	// What the browser keeps: the DPoP-bound refresh token and the ID
	// token in this tab's sessionStorage, no access token anywhere.
	const store = () => page.evaluate(() => ({
		session: Object.keys(sessionStorage).sort(),
		local: Object.keys(localStorage),
		hasAccess: JSON.stringify({ ...sessionStorage }).includes('"typ":"at+jwt"'),
	}));
	out.storage = await store();
	// A reload stays signed in (a refresh with a DPoP proof).
	const refreshed = page.waitForResponse((x) => x.url().endsWith('/oauth/token') &&
	    x.request().method() === 'POST');
	await page.reload();
	const tr = await refreshed;
	out.reload_token_status = tr.status();
	out.reload_token_dpop = 'dpop' in tr.request().headers();
	const tj = await tr.json();
	out.reload_token_type = tj.token_type;
	await page.locator('#signout').waitFor({ state: 'visible' });
	out.reload_signed_in = (await page.textContent('#who')) === USER;
	return page;
}

// TOTP: the QR code read back by a decoder from the page's own SVG, a code
// from its secret, then the recovery codes, shown once.
async function totpPart(page) {
	await page.goto(`${BASE}/#/account`);
	await page.click('#totp-start');
	await page.locator('svg.qr').waitFor();
	await shot(page, '05-totp-qr');
	const secret = (await page.textContent('#totp-secret')).trim();
	const uri = await page.getAttribute('#totp-uri', 'href');
	const d = await page.getAttribute('svg.qr path', 'd');
	const vb = (await page.getAttribute('svg.qr', 'viewBox')).split(' ').map(Number);
	out.qr_decoded = decodePath(d, vb[2]) === uri;
	out.qr_uri_secret = new URL(uri).searchParams.get('secret') === secret;
	// A wrong code first: named at its field, or said in the detail.
	await page.fill('#totp-confirm-form [name=code]', '12345');
	await page.fill('#totp-confirm-form [name=password]', PASSWORD);
	await page.click('#totp-confirm-form button[type=submit]');
	out.totp_bad_detail = await formError(page, '#totp-confirm-form');
	out.totp_bad_errors = await fieldErrors(page, '#totp-confirm-form');
	await page.fill('#totp-confirm-form [name=code]', totp(secret));
	await page.click('#totp-confirm-form button[type=submit]');
	await page.locator('#recovery-codes li').first().waitFor();
	out.recovery_codes = await page.$$eval('#recovery-codes code', (c) => c.map((e) => e.textContent));
	await shot(page, '06-recovery-codes');
	await page.click('#recovery-done');
	out.recovery_gone = await page.locator('#recovery-codes').count() === 0;
	return secret;
}

// The modules of the SVG path (M x y h1v1h-1z per dark module) as pixels,
// for jsQR.
function decodePath(d, n) {
	const scale = 4, w = n * scale;
	const px = new Uint8ClampedArray(w * w * 4).fill(255);
	for (const m of d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
		const x = Number(m[1]), y = Number(m[2]);
		for (let dy = 0; dy < scale; dy++) {
			for (let dx = 0; dx < scale; dx++) {
				const o = ((y * scale + dy) * w + x * scale + dx) * 4;
				px[o] = px[o + 1] = px[o + 2] = 0;
			}
		}
	}
	return jsQR(px, w, w)?.data ?? null;
}

async function signOutIn(page, secret) {
	const back = page.waitForURL((u) => u.pathname === '/' && !u.search);
	await page.click('#signout');
	await back;
	await page.locator('#signin').waitFor();
	out.after_signout_storage = await page.evaluate(() => Object.keys(sessionStorage));
	await shot(page, '07-signed-out-again');
	await page.click('#signin');
	// The provider session ended: the password is asked again, then the code.
	await providerSignIn(page, USER, PASSWORD, secret);
	out.second_signin = (await page.textContent('#who')) === USER;
	await page.goto(`${BASE}/#/account`);
	await page.locator('#sessions li').first().waitFor();
	out.totp_on_text = await page.locator('text=two-step sign-in is on').count() > 0;
	await shot(page, '08-account');
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const browser = await chromium.launch({
		executablePath: process.env.OIDC_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
	});
	try {
		if (PARTS.has('auth')) {
			const page = await authPart(browser);
			const secret = await totpPart(page);
			await signOutIn(page, secret);
			out.user_csp_events = await page.evaluate(() => window.__csp);
		}
		out.ok = true;
	} catch (e) {
		if (current) {
			await shot(current, 'error').catch(() => {});
			e.page = await current.locator('body').innerText().catch(() => null);
			e.url = current.url();
		}
		throw e;
	} finally {
		await browser.close();
	}
}

main().then(() => {
	console.log(JSON.stringify(out));
}, (e) => {
	out.ok = false;
	out.error = String(e?.message ?? e);
	out.page = e?.page?.slice(0, 800) ?? null;
	out.url = e?.url ?? null;
	console.log(JSON.stringify(out));
	process.exitCode = 1;
});
