// The browser console (web/) clicked end to end in Debian's Chromium,
// driven by playwright-core (no browser is downloaded), against the
// running stack.  A screenshot of each page goes to CONSOLE_SHOTS.  Prints
// one JSON summary that tests/integration/t_console.sh checks; exits
// nonzero when a step cannot be done at all.
//
// Settings (environment): CONSOLE_URL (https://localhost:PORT),
// CONSOLE_SHOTS, CONSOLE_USER, CONSOLE_PASSWORD (the account signed up
// here), CONSOLE_ADMIN, CONSOLE_ADMIN_PASSWORD (an admin made by the
// suite), CONSOLE_FILES (a folder with small.png, big.pdf, clip.webm and
// tone.ogg),
// CONSOLE_VICTIM (a user the admin finds and disables), CONSOLE_DOOMED (a
// username to sign up and delete), CONSOLE_PARTS (which parts:
// auth,account,media,payments,admin,delete,phone by default; nonce, with
// the servers asking for DPoP nonces, only when named),
// OIDC_CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { launch } from '../oidc/chromium.mjs';
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
const PARTS = new Set((process.env.CONSOLE_PARTS ||
    'auth,account,media,payments,admin,delete,phone').split(','));

const out = { steps: [] };
let current = null;
let shots2fa = 0;

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

const period = () => Math.floor(Date.now() / 1000 / 30);
const lastStep = new Map();	/* each secret's last period used */

// RFC 6238, HMAC-SHA1, 30 s, 6 digits, of the period `at`.
function totpAt(secret, at) {
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(at));
	const mac = createHmac('sha1', base32(secret)).update(msg).digest();
	const off = mac[19] & 0xf;
	return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// A code the server has not seen: it takes each period's once, and the
// next period's too; past that, wait for the clock.
async function totp(secret) {
	let at = Math.max(period(), (lastStep.get(secret) ?? 0) + 1);
	while (at > period() + 1)
		await new Promise((r) => setTimeout(r, 1000));
	lastStep.set(secret, at);
	return totpAt(secret, at);
}

async function shot(page, name) {
	await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
	out.steps.push(name);
}

// Everything the page says went wrong: script errors, CSP violations and
// console errors (a refused request, or the connection the test cuts on
// purpose, logs one: those are counted apart).
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
		else if (/Failed to load resource: (the server responded with a status of|net::ERR_CONNECTION_RESET)/.test(t))
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
		await shot(page, `provider-totp-${++shots2fa}`);
		if (typeof secret === 'object')
			await page.fill('#recovery_code', secret.recovery);
		else
			await page.fill('#totp', await totp(secret));
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
	await page.fill('#totp-confirm-form [name=code]', await totp(secret));
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

// A second browser signed in: another session to see and end.
async function secondBrowser(browser, password, secret) {
	const p = await newPage(browser, 'second');
	await p.goto(`${BASE}/`);
	await p.click('#signin');
	await providerSignIn(p, USER, password, secret);
	return p;
}

async function accountPart(browser, page, secret) {
	const NEW_PASSWORD = `${PASSWORD} renewed`;
	await page.goto(`${BASE}/#/account`);
	await page.locator('#profile-form').waitFor();
	// Profile: a bad e-mail named at its field; a new username saved, then
	// the old one again.
	await page.fill('#profile-form [name=email]', 'nope');
	await page.click('#profile-form button[type=submit]');
	out.profile_bad_detail = await formError(page, '#profile-form');
	out.profile_bad_errors = await fieldErrors(page, '#profile-form');
	await shot(page, '09-profile-error');
	await page.fill('#profile-form [name=email]', `${USER}@example.com`);
	await page.fill('#profile-form [name=username]', `${USER}x`);
	await page.click('#profile-form button[type=submit]');
	await page.locator('.notice', { hasText: 'Profile saved' }).waitFor();
	out.renamed = await page.evaluate(async (u) => {
		const m = await import('/console/api.js');
		return (await m.get('/api/v1/auth/me')).user.username === u;
	}, `${USER}x`);
	await page.fill('#profile-form [name=username]', USER);
	await page.click('#profile-form button[type=submit]');
	await page.locator('.notice', { hasText: 'Profile saved' }).nth(1).waitFor();

	// Password: a wrong current one (403) and a short new one (422, at
	// its field), then the change.
	await page.fill('#password-form [name=current_password]', 'not the password at all');
	await page.fill('#password-form [name=new_password]', NEW_PASSWORD);
	await page.click('#password-form button[type=submit]');
	out.password_wrong_detail = await formError(page, '#password-form');
	await page.fill('#password-form [name=current_password]', PASSWORD);
	await page.fill('#password-form [name=new_password]', 'short');
	await page.click('#password-form button[type=submit]');
	out.password_short_detail = await formError(page, '#password-form');
	out.password_short_errors = await fieldErrors(page, '#password-form');
	await shot(page, '10-password-errors');

	// Sessions: a second browser's appears and is ended from here.
	// (It signs in with a recovery code: each works once.)
	const other = await secondBrowser(browser, PASSWORD, { recovery: out.recovery_codes[0] });
	await page.reload();
	await page.locator('#sessions li').nth(1).waitFor();
	out.sessions_listed = await page.locator('#sessions li').count();
	out.sessions_current = await page.locator('#sessions li[data-current=true]').count();
	await shot(page, '11-sessions');
	out.ended_session = await page.getAttribute('#sessions li[data-current=false]', 'data-session');
	await page.click('#sessions li[data-current=false] button');
	await page.locator('.notice', { hasText: 'Session ended' }).waitFor();
	await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 1);
	// The other browser learns it at its next call: signed out.
	await other.goto(`${BASE}/#/account`);
	await other.locator('#signin').waitFor();
	out.other_signed_out = await other.locator('.note').textContent().catch(() => null);
	await other.context().close();

	await page.fill('#password-form [name=current_password]', PASSWORD);
	await page.fill('#password-form [name=new_password]', NEW_PASSWORD);
	await page.click('#password-form button[type=submit]');
	await page.locator('.notice', { hasText: 'Password changed' }).waitFor();
	out.password_changed = true;

	// End every session: signed out here too, then in again.
	const back = page.waitForURL((u) => u.pathname === '/' && !u.search);
	await page.click('#logout-all');
	await back;
	await page.locator('#signin').waitFor();
	out.logout_all_storage = await page.evaluate(() => Object.keys(sessionStorage));
	await page.click('#signin');
	await providerSignIn(page, USER, NEW_PASSWORD, secret);
	out.signed_in_new_password = (await page.textContent('#who')) === USER;
	return NEW_PASSWORD;
}

const FILES = process.env.CONSOLE_FILES;

// The bar's values as the page set them.
async function recordProgress(page) {
	await page.evaluate(() => {
		window.__progress = [];
		new MutationObserver((ms) => {
			for (const m of ms) {
				if (m.target.tagName === 'PROGRESS')
					window.__progress.push([m.target.value, m.target.max]);
			}
		}).observe(document.getElementById('uploads'), { subtree: true, attributes: true,
		    attributeFilter: ['value'] });
	});
}

async function uploadDone(page, name) {
	const li = page.locator(`#uploads li[data-name="${name}"]`);
	await li.and(page.locator('.done, .failed')).waitFor({ timeout: 60000 });
	return { done: await li.evaluate((e) => e.classList.contains('done')),
	    state: await li.locator('span.small').textContent() };
}

async function mediaPart(page) {
	await page.goto(`${BASE}/#/media`);
	await page.locator('#gallery').waitFor();
	await shot(page, '12-gallery-empty');
	await recordProgress(page);

	// Picked: a PNG (a thumbnail is made of it).
	await page.setInputFiles('#upload-file', `${FILES}/small.png`);
	out.upload_png = await uploadDone(page, 'small.png');
	const tile = page.locator('#gallery li.tile').first();
	await tile.locator('img.thumb').waitFor();
	await page.waitForFunction(() => {
		const i = document.querySelector('#gallery img.thumb');
		return i && i.complete && i.naturalWidth > 0;
	});
	out.thumb = await tile.locator('img.thumb').evaluate((i) => ({
		blob: i.src.startsWith('blob:'), w: i.naturalWidth, h: i.naturalHeight }));

	// A large one at a throttled 4 MB/s: the bar moves.
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 5,
	    downloadThroughput: -1, uploadThroughput: 4 * 1024 * 1024 });
	await page.evaluate(() => { window.__progress = []; });
	await page.setInputFiles('#upload-file', `${FILES}/big.pdf`);
	await page.waitForFunction(() => window.__progress.some(([v, m]) => v > 0 && v < m));
	await shot(page, '13-upload-progress');
	out.upload_big = await uploadDone(page, 'big.pdf');
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0,
	    downloadThroughput: -1, uploadThroughput: -1 });
	const prog = await page.evaluate(() => window.__progress);
	out.progress_steps = new Set(prog.filter(([v, m]) => v > 0 && v < m).map(([v]) => v)).size;
	out.progress_last = prog.at(-1) ?? null;

	// Dropped: a file dragged onto the drop zone.
	const png = (await import('node:fs')).readFileSync(`${FILES}/small.png`).toString('base64');
	const dt = await page.evaluateHandle((b64) => {
		const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
		const d = new DataTransfer();
		d.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
		return d;
	}, png);
	await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: dt });
	out.upload_drop = await uploadDone(page, 'dropped.png');
	// Not a type gatehouse takes: refused, its detail shown, nothing stored.
	await page.setInputFiles('#upload-file', { name: 'notes.txt', mimeType: 'text/plain',
	    buffer: Buffer.from('just some words, not a picture\n') });
	out.upload_bad = await uploadDone(page, 'notes.txt');
	out.upload_bad_detail = await page.locator('#uploads ~ * .form-error, section .form-error').first().textContent();
	if (FILES && (await import('node:fs')).existsSync(`${FILES}/clip.webm`)) {
		await page.setInputFiles('#upload-file', `${FILES}/clip.webm`);
		out.upload_video = await uploadDone(page, 'clip.webm');
	}
	if (FILES && (await import('node:fs')).existsSync(`${FILES}/tone.ogg`)) {
		await page.setInputFiles('#upload-file', `${FILES}/tone.ogg`);
		out.upload_audio = await uploadDone(page, 'tone.ogg');
	}
	await shot(page, '14-gallery');
	out.gallery_tiles = await page.locator('#gallery li.tile').count();
}

// An item's page: preview, like, rating, comment, tags, share link, edit.
async function itemPart(page) {
	await page.goto(`${BASE}/#/media`);
	const tile = page.locator('#gallery li.tile', { hasText: 'small.png' }).first();
	await tile.waitFor();
	out.item_id = await tile.getAttribute('data-id');
	await tile.locator('a').click();
	await page.locator('#item-title').waitFor();
	await page.waitForFunction(() => {
		const i = document.querySelector('img.preview');
		return i && i.complete && i.naturalWidth > 0;
	});
	out.preview_src_signed = /\/file\?exp=\d+&sig=/.test(await page.getAttribute('img.preview', 'src'));
	// Like, and the count.
	await page.locator('#like').waitFor();
	await page.click('#like');
	await page.locator('#like[aria-pressed=true]').waitFor();
	out.like_count = await page.getAttribute('#like-count', 'data-count');
	// Unliked: the button and the count say so, and so does the API;
	// then liked again (the suite finds that like in the database).
	await page.click('#like');
	await page.locator('#like[aria-pressed=false]').waitFor();
	out.unlike_count = await page.getAttribute('#like-count', 'data-count');
	out.unlike_text = await page.textContent('#like');
	out.unlike_api = await page.evaluate(async (id) => {
		const m = await import('/console/api.js');
		const l = await m.get(`/api/v1/media/${id}/likes`);
		return { count: l.count, mine: l.liked_by_me };
	}, out.item_id);
	await shot(page, '15a-unliked');
	await page.click('#like');
	await page.locator('#like[aria-pressed=true]').waitFor();
	out.like_again_count = await page.getAttribute('#like-count', 'data-count');
	// Rating.
	await page.click('button.star[data-stars="4"]');
	await page.locator('button.star[data-stars="4"][aria-pressed=true]').waitFor();
	out.rating_text = await page.textContent('#rating-average');
	// A comment: empty is refused at its field, then one is posted.
	await page.click('#comment-form button[type=submit]');
	out.comment_bad_detail = await formError(page, '#comment-form');
	out.comment_bad_errors = await fieldErrors(page, '#comment-form');
	await page.fill('#comment-form [name=body]', 'What a nice one!');
	await page.click('#comment-form button[type=submit]');
	await page.locator('#comments li', { hasText: 'What a nice one!' }).waitFor();
	// Another, edited, then deleted.
	await page.fill('#comment-form [name=body]', 'A typo here');
	await page.click('#comment-form button[type=submit]');
	const second = page.locator('#comments li', { hasText: 'A typo here' });
	await second.locator('button', { hasText: 'Edit' }).click();
	await page.fill('.comment-edit [name=body]', 'No typo now');
	await page.click('.comment-edit button[type=submit]');
	const edited = page.locator('#comments li', { hasText: 'No typo now' });
	await edited.waitFor();
	out.comment_edited = await edited.locator('.small').textContent();
	await edited.locator('button', { hasText: 'Delete' }).click();
	await edited.waitFor({ state: 'detached' });
	out.comments = await page.$$eval('#comments .comment-body', (c) => c.map((e) => e.textContent));
	out.comment_count = await page.textContent('#comment-count');
	// Tags: a bad one named at its field, then a good one.
	await page.fill('#tag-form [name=tag]', 'a/b');
	await page.click('#tag-form button[type=submit]');
	await formError(page, '#tag-form');
	out.tag_bad_errors = await fieldErrors(page, '#tag-form');
	await page.fill('#tag-form [name=tag]', 'Summer');
	await page.click('#tag-form button[type=submit]');
	await page.locator('#tags li.chip', { hasText: 'Summer' }).waitFor();
	await page.fill('#tag-form [name=tag]', 'beach');
	await page.click('#tag-form button[type=submit]');
	await page.locator('#tags li.chip', { hasText: 'beach' }).waitFor();
	await page.click('#tags button[aria-label="remove tag beach"]');
	await page.locator('#tags li.chip', { hasText: 'beach' }).waitFor({ state: 'detached' });
	out.tags = await page.$$eval('#tags li.chip span', (c) => c.map((e) => e.textContent));
	// A share link, opened without a token.
	await page.click('#share-form button[type=submit]');
	await page.locator('#share-url').waitFor();
	out.share_url = await page.inputValue('#share-url');
	// Edit: a title too long is named; then a new title, public.
	// A control character in the title is named at its field (the input
	// itself caps the length, so that one never reaches the server).
	await page.fill('#edit-form [name=title]', 'bell\u0007title');
	await page.click('#edit-form button[type=submit]');
	await formError(page, '#edit-form');
	out.edit_bad_errors = await fieldErrors(page, '#edit-form');
	await page.fill('#edit-form [name=title]', 'Holiday');
	await page.selectOption('#edit-form [name=visibility]', 'public');
	await page.click('#edit-form button[type=submit]');
	await page.locator('#item-title', { hasText: 'Holiday' }).waitFor();
	out.visibility = await page.textContent('#item-visibility');
	// Download: the file itself, through a short signed link.
	const dl = page.waitForEvent('download');
	await page.click('#download');
	const d = await dl;
	out.download_name = d.suggestedFilename();
	out.download_size = (await (await import('node:fs/promises')).stat(await d.path())).size;
	await shot(page, '15-item');
}

async function videoPart(page) {
	await page.goto(`${BASE}/#/media`);
	const tile = page.locator('#gallery li.tile', { hasText: 'clip.webm' }).first();
	await tile.locator('a').click();
	const ranged = page.waitForResponse((r) => /\/file\?exp=/.test(r.url()) &&
	    r.request().headers().range !== undefined, { timeout: 15000 }).catch(() => null);
	await page.locator('video.preview').waitFor();
	await page.waitForFunction(() => {
		const v = document.querySelector('video.preview');
		return v && v.readyState >= 1 && v.duration > 0;
	});
	out.video_duration = await page.$eval('video.preview', (v) => v.duration);
	const r = await ranged;
	out.video_range_status = r ? r.status() : null;
	await shot(page, '16-video');
}

// An audio file's page: it plays (muted: no person clicked, and a
// headless browser may not play sound unasked), through the signed link,
// which the browser and a Range request read in parts (206).
async function audioPart(page) {
	await page.goto(`${BASE}/#/media`);
	const tile = page.locator('#gallery li.tile', { hasText: 'tone.ogg' }).first();
	out.audio_id = await tile.getAttribute('data-id');
	const ranged = page.waitForResponse((r) => /\/file\?exp=/.test(r.url()) &&
	    r.request().headers().range !== undefined, { timeout: 15000 }).catch(() => null);
	await tile.locator('a').click();
	await page.locator('audio.preview').waitFor();
	await page.waitForFunction(() => {
		const a = document.querySelector('audio.preview');
		return a && a.readyState >= 1 && a.duration > 0;
	});
	out.audio_src_signed = /\/file\?exp=\d+&sig=/.test(await page.getAttribute('audio.preview', 'src'));
	out.audio_duration = await page.$eval('audio.preview', (a) => Math.round(a.duration));
	const r = await ranged;
	out.audio_range_status = r ? r.status() : null;
	out.audio_played = await page.$eval('audio.preview', async (a) => {
		a.muted = true;
		await a.play();
		const t0 = a.currentTime;
		await new Promise((ok) => setTimeout(ok, 700));
		return { advanced: a.currentTime > t0, paused: a.paused, error: a.error?.code ?? null };
	});
	// A seek, then a range of its own: the bytes asked for and no more.
	out.audio_part = await page.$eval('audio.preview', async (a) => {
		a.pause();
		a.currentTime = 1.5;
		const res = await fetch(a.src, { headers: { Range: 'bytes=4-11' } });
		const b = new Uint8Array(await res.arrayBuffer());
		return { status: res.status, range: res.headers.get('Content-Range'),
		    length: b.length, type: res.headers.get('Content-Type') };
	});
	await shot(page, '16a-audio');
}

async function statsPart(page) {
	await page.goto(`${BASE}/#/media/stats`);
	await page.locator('svg.chart').first().waitFor();
	out.stats_total = await page.textContent('#stats-total');
	out.stats_bars = await page.$$eval('svg.chart', (cs) => cs.map((c) =>
	    c.querySelectorAll('.chart-bar').length));
	out.stats_labels = await page.$$eval('svg.chart:first-of-type .chart-label', (l) => l.map((e) => e.textContent));
	// A bad day count is named at its field.
	await page.fill('#stats-form [name=days]', '0');
	await page.click('#stats-form button[type=submit]');
	await formError(page, '#stats-form');
	out.stats_bad_errors = await fieldErrors(page, '#stats-form');
	await shot(page, '17-stats');
}

async function deleteItemPart(page) {
	await page.goto(`${BASE}/#/media`);
	const tile = page.locator('#gallery li.tile', { hasText: 'dropped.png' }).first();
	out.deleted_id = await tile.getAttribute('data-id');
	await tile.locator('a').click();
	await page.click('#delete-item');
	await page.click('#delete-yes');
	await page.waitForURL((u) => u.hash === '#/media');
	await page.locator('#gallery li.tile').first().waitFor();
	out.deleted_gone = await page.locator(`#gallery li[data-id="${out.deleted_id}"]`).count() === 0;
}

async function createPayment(page, amount, description) {
	await page.fill('#payment-form [name=amount]', amount);
	await page.selectOption('#payment-form [name=currency]', 'EUR');
	await page.fill('#payment-form [name=description]', description);
	await page.click('#payment-form button[type=submit]');
}

async function paymentsPart(page) {
	await page.goto(`${BASE}/#/payments`);
	await page.locator('#payment-form').waitFor();
	await shot(page, '18-payments-empty');
	// Bad amounts: not a number and too many decimals (the page's own
	// check, at the field), then 0 (the API's 422, at the field).
	await createPayment(page, 'abc', 'bad');
	out.pay_bad_text = await formError(page, '#payment-form');
	out.pay_bad_text_errors = await fieldErrors(page, '#payment-form');
	await createPayment(page, '0', 'zero');
	await page.locator('#payment-form .form-error', { hasText: 'at least 1' }).waitFor();
	out.pay_zero_errors = await fieldErrors(page, '#payment-form');
	await shot(page, '19-payment-errors');

	await createPayment(page, '19.99', 'order one');
	await page.locator('#payments li', { hasText: 'order one' }).waitFor();
	out.pay_one_ref = await page.getAttribute('#payments li:has-text("order one")', 'data-reference');

	// The answer is lost on the way back (the server made the payment):
	// the page keeps the key, and the retry is answered the first answer.
	const keys = [];
	page.on('request', (r) => {
		if (r.method() === 'POST' && r.url().endsWith('/api/v1/payments'))
			keys.push(r.headers()['idempotency-key']);
	});
	let cut = true;
	await page.route('**/api/v1/payments', async (route) => {
		if (route.request().method() !== 'POST' || !cut)
			return route.continue();
		cut = false;
		const res = await route.fetch();
		out.lost_status = res.status();
		await route.abort('connectionreset');
	});
	await createPayment(page, '42.00', 'order two');
	out.lost_detail = await formError(page, '#payment-form');
	out.kept_key = await page.getAttribute('#idempotency-key', 'data-key');
	await shot(page, '20-payment-retry');
	await page.click('#payment-form button[type=submit]');
	await page.locator('.notice', { hasText: 'already made' }).waitFor();
	await page.unroute('**/api/v1/payments');
	out.retry_keys = keys.slice(0, 2);
	out.pay_two_ref = await page.getAttribute('#payments li:has-text("order two")', 'data-reference');
	out.key_after = await page.getAttribute('#idempotency-key', 'data-key');
	out.two_listed = await page.locator('#payments li', { hasText: 'order two' }).count();

	// Enough for a second page (the console's own API module, as the
	// page would, with fresh keys).
	await page.evaluate(async () => {
		const m = await import('/console/api.js');
		for (let i = 0; i < 10; i++) {
			await m.api('POST', '/api/v1/payments', { json: { amount: 100 + i,
			    currency: 'EUR', description: `bulk ${i}` },
			    headers: { 'Idempotency-Key': crypto.randomUUID() } });
		}
	});
	await page.reload();
	await page.locator('#payments li').first().waitFor();
	out.page1 = await page.locator('#payments li').count();
	await page.click('#page-next');
	await page.locator('#page-prev').waitFor();
	out.page2 = await page.$$eval('#payments li', (l) => l.map((e) => e.dataset.reference));
	await page.click('#page-prev');
	await page.locator('#page-prev').waitFor({ state: 'detached' });
	out.page1_again = await page.locator('#payments li').count();

	// Detail, ledger, cancel.
	await page.goto(`${BASE}/#/payments/${out.pay_one_ref}`);
	await page.locator('#ledger li').first().waitFor();
	out.pay_ref = await page.locator('#payment code').first().textContent();
	await page.fill('#cancel-form [name=reason]', 'changed my mind');
	await page.click('#cancel-form button[type=submit]');
	await page.locator('#payment-status', { hasText: 'canceled' }).waitFor({ state: 'attached' });
	await page.locator('#ledger li').nth(1).waitFor();
	out.cancel_ledger = await page.$$eval('#ledger li', (l) => l.map((e) => e.dataset.kind));
	await shot(page, '21-payment-canceled');
	// Filtered: only canceled ones.
	await page.goto(`${BASE}/#/payments`);
	await page.selectOption('#payment-filter [name=status]', 'canceled');
	await page.click('#payment-filter button[type=submit]');
	await page.waitForFunction(() => [...document.querySelectorAll('#payments li')].every((l) =>
	    l.dataset.status === 'canceled'));
	out.filtered = await page.$$eval('#payments li', (l) => l.map((e) => e.dataset.status));
	// Not an admin: the admin page says what the API said.
	await page.goto(`${BASE}/#/admin`);
	out.user_admin_page = await page.locator('.form-error').first().textContent();
}

// Two-step sign-in turned off: a wrong code and a wrong password each
// named at their field (nothing changes), then both right.
async function totpOffPart(page, password, secret) {
	await page.goto(`${BASE}/#/account`);
	await page.locator('#totp-off-form').waitFor({ state: 'attached' });
	await page.click('#totp-off-form >> xpath=ancestor::details/summary');
	const off = async (pw, code) => {
		await page.fill('#totp-off-form [name=password]', pw);
		await page.fill('#totp-off-form [name=code]', code);
		await page.click('#totp-off-form button[type=submit]');
	};
	// A code that is surely not the current one (nor the next's).
	const now = Math.floor(Date.now() / 30000);
	let wrong = '000000';
	while ([-1, 0, 1, 2].some((d) => totpAt(secret, now + d) === wrong))
		wrong = String(Number(wrong) + 1).padStart(6, '0');
	await off(password, wrong);
	out.totp_off_bad_code = await formError(page, '#totp-off-form');
	out.totp_off_bad_code_errors = await fieldErrors(page, '#totp-off-form');
	// (The password is checked first: this code is not spent.)
	await off('not the password', wrong);
	out.totp_off_bad_pw = await formError(page, '#totp-off-form');
	out.totp_off_bad_pw_errors = await fieldErrors(page, '#totp-off-form');
	await shot(page, '21a-totp-off-errors');
	await off(password, '12');
	await formError(page, '#totp-off-form');
	out.totp_off_short_errors = await fieldErrors(page, '#totp-off-form');
	await off(password, await totp(secret));
	await page.locator('#totp-state', { hasText: 'is off' }).waitFor();
	out.totp_off_text = await page.textContent('#totp-state');
	out.totp_off_start_again = await page.locator('#totp-start').isVisible();
	await shot(page, '21b-totp-off');
}

// A browser far east of UTC (UTC+14: its today starts at 10:00 UTC of
// the day before) filters the payments by its own days.
async function datesPart(browser, password, secret) {
	const page = await newPage(browser, 'dates', { timezoneId: 'Pacific/Kiritimati' });
	await page.goto(`${BASE}/`);
	await page.click('#signin');
	await providerSignIn(page, USER, password, secret);
	await page.goto(`${BASE}/#/payments`);
	await page.locator('#payments li').first().waitFor();
	const day = (plus) => page.evaluate((p) => {
		const t = new Date();
		t.setDate(t.getDate() + p);
		return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
	}, plus);
	const show = async (from, to) => {
		const answered = page.waitForResponse((r) => r.url().includes('/api/v1/payments?') &&
		    r.request().method() === 'GET');
		await page.fill('#payment-filter [name=created_gte]', from);
		await page.fill('#payment-filter [name=created_lt]', to);
		await page.click('#payment-filter button[type=submit]');
		const q = new URL((await answered).url()).searchParams;
		// The form's button is enabled again once the list is drawn.
		await page.locator('#payment-filter button[type=submit]:not([disabled])').waitFor();
		return { gte: q.get('created_gte'), lt: q.get('created_lt'),
		    shown: await page.locator('#payments li.payment').count(),
		    empty: await page.locator('#payments li.empty').count() === 1,
		    next: await page.locator('#page-next').count() === 1 };
	};
	out.dates_today = await show(await day(0), await day(0));
	out.dates_today_day = await day(0);
	await shot(page, '21c-payments-today');
	out.dates_tomorrow = await show(await day(1), '');
	out.dates_yesterday = await show('', await day(-1));
	out.dates_week = await show(await day(-7), await day(0));
	// A range that ends before it starts: named at its field, not asked.
	await page.fill('#payment-filter [name=created_gte]', await day(0));
	await page.fill('#payment-filter [name=created_lt]', await day(-1));
	await page.click('#payment-filter button[type=submit]');
	out.dates_backwards = await formError(page, '#payment-filter');
	out.dates_backwards_errors = await fieldErrors(page, '#payment-filter');
	await shot(page, '21d-payments-dates-error');
	await page.context().close();
}

async function adminPart(browser) {
	const page = await newPage(browser, 'admin');
	await page.goto(`${BASE}/`);
	await page.click('#signin');
	await providerSignIn(page, env('CONSOLE_ADMIN'), env('CONSOLE_ADMIN_PASSWORD'));
	out.admin_nav = await page.locator('#nav-admin').isVisible();
	await page.goto(`${BASE}/#/payments`);
	await page.locator('#payments li').first().waitFor();
	out.admin_sees_all = await page.locator('h2', { hasText: 'All payments' }).count() === 1;
	// A user id that is not one: the API's 422, at the field.
	await page.fill('#payment-filter [name=user_id]', 'not-a-uuid');
	await page.click('#payment-filter button[type=submit]');
	out.admin_filter_bad = await formError(page, '#payment-filter');
	out.admin_filter_bad_errors = await fieldErrors(page, '#payment-filter');
	await page.goto(`${BASE}/#/payments/${out.pay_two_ref}`);
	await page.locator('#status-form').waitFor();
	out.admin_ref = await page.locator('#payment code').first().textContent();
	for (const st of ['processing', 'succeeded']) {
		await page.selectOption('#status-form [name=status]', st);
		await page.click('#status-form button[type=submit]');
		await page.locator('#payment-status', { hasText: st }).waitFor({ state: 'attached' });
	}
	// Refunds: more than is left is refused (its detail shown), then part,
	// then the rest.
	await page.fill('#refund-form [name=amount]', '100.00');
	await page.click('#refund-form button[type=submit]');
	out.refund_too_much = await formError(page, '#refund-form');
	out.refund_too_much_errors = await fieldErrors(page, '#refund-form');
	await page.fill('#refund-form [name=amount]', '2.50');
	await page.click('#refund-form button[type=submit]');
	await page.locator('#payment-status', { hasText: 'partially_refunded' }).waitFor({ state: 'attached' });
	await page.click('#refund-form button[type=submit]');
	await page.locator('#payment-status', { hasText: /^refunded$/ }).waitFor({ state: 'attached' });
	out.admin_ledger = await page.$$eval('#ledger li', (l) => l.map((e) => e.dataset.kind));
	out.ledger_amounts = await page.$$eval('#ledger .amount', (l) => l.map((e) => e.textContent.trim()));
	out.refunded_text = await page.textContent('#payment-refunded');
	await shot(page, '22-admin-refund');

	// Users: search, make admin and back, disable.
	await page.goto(`${BASE}/#/admin`);
	await page.locator('#users li').first().waitFor();
	await page.fill('#user-search [name=q]', 'nobody-matches-this');
	await page.click('#user-search button[type=submit]');
	await page.locator('#users li', { hasText: 'No one matches' }).waitFor();
	await page.fill('#user-search [name=q]', env('CONSOLE_VICTIM'));
	await page.click('#user-search button[type=submit]');
	const row = page.locator(`#users li[data-username="${env('CONSOLE_VICTIM')}"]`);
	await row.waitFor();
	out.users_found = await page.locator('#users li.user').count();
	await row.locator('[data-action=role]').click();
	await row.locator('.role', { hasText: 'admin' }).waitFor();
	await row.locator('[data-action=role]').click();
	await row.locator('.role', { hasText: 'user' }).waitFor();
	await row.locator('[data-action=disable]').click();
	await row.locator('.status', { hasText: 'disabled' }).waitFor();
	await shot(page, '23-admin-users');
	return page;
}

// A second account, made and deleted from the console.
async function deleteAccountPart(browser) {
	const page = await newPage(browser, 'delete');
	const name = env('CONSOLE_DOOMED');
	await page.goto(`${BASE}/#/signup`);
	await page.fill('#signup-form [name=username]', name);
	await page.fill('#signup-form [name=email]', `${name}@example.com`);
	await page.fill('#signup-form [name=password]', PASSWORD);
	await page.click('#signup-form button[type=submit]');
	await providerSignIn(page, null, PASSWORD);
	await page.goto(`${BASE}/#/media`);
	await page.setInputFiles('#upload-file', `${FILES}/small.png`);
	out.doomed_upload = await uploadDone(page, 'small.png');
	out.doomed_uid = await page.evaluate(async () =>
	    (await import('/console/auth.js')).claims()?.sub);
	// Two-step sign-in on, then off again from the Account page; the
	// JSON sign-in asks for a code while it is on, and not after.
	const jsonLogin = () => page.evaluate(async ([login, password]) => {
		const r = await fetch('/api/v1/auth/login', { method: 'POST',
		    headers: { 'Content-Type': 'application/json' },
		    body: JSON.stringify({ login, password }) });
		const j = await r.json();
		return `${r.status} ${j.access_token ? 'token' : j.mfa_required ? 'mfa_required' : j.detail}`;
	}, [name, PASSWORD]);
	await page.goto(`${BASE}/#/account`);
	await page.click('#totp-start');
	await page.locator('#totp-secret').waitFor();
	const secret = (await page.textContent('#totp-secret')).trim();
	await page.fill('#totp-confirm-form [name=code]', await totp(secret));
	await page.fill('#totp-confirm-form [name=password]', PASSWORD);
	await page.click('#totp-confirm-form button[type=submit]');
	await page.locator('#recovery-codes li').first().waitFor();
	await page.click('#recovery-done');
	out.totp_on_login = await jsonLogin();
	await totpOffPart(page, PASSWORD, secret);
	out.totp_off_login = await jsonLogin();
	await page.goto(`${BASE}/#/account`);
	await page.fill('#delete-form [name=confirm]', 'someone else');
	await page.fill('#delete-form [name=password]', PASSWORD);
	await page.click('#delete-form button[type=submit]');
	await formError(page, '#delete-form');
	out.delete_bad_errors = await fieldErrors(page, '#delete-form');
	// A wrong password: named at its field, and nothing deleted anywhere
	// (no DELETE was even sent: the password is checked first).
	const deletes = [];
	page.on('request', (r) => {
		if (r.method() === 'DELETE')
			deletes.push(new URL(r.url()).pathname);
	});
	await page.fill('#delete-form [name=confirm]', name);
	await page.fill('#delete-form [name=password]', 'not my password at all');
	await page.click('#delete-form button[type=submit]');
	out.delete_wrong_pw = await formError(page, '#delete-form');
	out.delete_wrong_pw_errors = await fieldErrors(page, '#delete-form');
	out.delete_wrong_pw_deletes = [...deletes];
	out.delete_wrong_pw_left = await page.evaluate(async () => {
		const m = await import('/console/api.js');
		const media = await m.get('/api/v1/media', { owner: 'me' });
		const me = await m.get('/api/v1/auth/me');
		return { media: media.data.length, user: me.user.username };
	});
	await shot(page, '24-delete-wrong-password');
	await page.fill('#delete-form [name=password]', PASSWORD);
	await page.click('#delete-form button[type=submit]');
	await page.locator('#signin').waitFor();
	out.delete_deletes = deletes.slice(out.delete_wrong_pw_deletes.length);
	out.deleted_storage = await page.evaluate(() => Object.keys(sessionStorage));
	await page.context().close();
}

// A phone: every page fits its width.
// With the servers asking for DPoP nonces (GH_DPOP_NONCE=on): the admin
// signs in, reads, creates a payment and uploads; each server's first
// refusal is answered by the console sending again with its nonce.
async function noncePart(browser) {
	const page = await newPage(browser, 'nonce');
	const n = { challenges: {}, proofs: 0, proofs_with_nonce: 0, failed: [] };
	const scope = (u) => (u.pathname.endsWith('/oauth/token') ? 'token' :
	    u.pathname.split('/')[3]);
	page.on('request', (r) => {
		const p = r.headers().dpop;
		if (!p)
			return;
		n.proofs++;
		const claims = JSON.parse(Buffer.from(p.split('.')[1], 'base64url').toString());
		if (typeof claims.nonce === 'string')
			n.proofs_with_nonce++;
	});
	page.on('response', async (r) => {
		const u = new URL(r.url());
		if (!u.pathname.startsWith('/api/'))
			return;
		let asked = r.status() === 401 &&
		    /use_dpop_nonce/.test(r.headers()['www-authenticate'] ?? '');
		if (r.status() === 400 && scope(u) === 'token')
			asked = (await r.json().catch(() => ({}))).error === 'use_dpop_nonce';
		if (asked)
			n.challenges[scope(u)] = (n.challenges[scope(u)] ?? 0) + 1;
		else if (r.status() >= 400)
			n.failed.push(`${r.status()} ${u.pathname}`);
	});
	await page.goto(`${BASE}/`);
	await page.click('#signin');
	await providerSignIn(page, env('CONSOLE_ADMIN'), env('CONSOLE_ADMIN_PASSWORD'));
	await page.goto(`${BASE}/#/account`);
	await page.locator('#totp-state').waitFor();
	n.account = true;
	await page.goto(`${BASE}/#/payments`);
	await page.locator('#payment-form').waitFor();
	await createPayment(page, '3.21', 'with nonces');
	await page.locator('#payments li', { hasText: 'with nonces' }).waitFor();
	n.payment = true;
	await page.goto(`${BASE}/#/media`);
	await page.locator('#gallery').waitFor();
	await page.setInputFiles('#upload-file', `${FILES}/small.png`);
	n.upload = await uploadDone(page, 'small.png');
	await shot(page, '30-nonces');
	out.nonce = n;
}

async function phonePart(browser) {
	const page = await newPage(browser, 'phone', { viewport: { width: 390, height: 844 },
	    deviceScaleFactor: 2, isMobile: true, hasTouch: true });
	const overflow = (name) => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth,
	    inner: window.innerWidth })).then((w) => {
		if (w.scroll > w.inner)
			out.phone_overflow.push(`${name}: ${w.scroll} > ${w.inner}`);
	});
	out.phone_overflow = [];
	out.phone_viewport = page.viewportSize();
	await page.goto(`${BASE}/`);
	await page.locator('#signin').waitFor();
	await overflow('signed-out');
	await shot(page, 'phone-01-signed-out');
	// The sign-in page, with a wrong password's error on it.
	await page.click('#signin');
	await page.locator('#password').waitFor();
	await page.fill('#login', env('CONSOLE_ADMIN'));
	await page.fill('#password', 'not the password');
	await page.click('button[type=submit]');
	await page.locator('#password').waitFor();
	await page.waitForLoadState('networkidle').catch(() => {});
	out.phone_signin_error = await page.locator('.error, .form-error, [role=alert]').first().textContent().catch(() => null);
	await overflow('signin');
	await shot(page, 'phone-01a-signin');
	await providerSignIn(page, env('CONSOLE_ADMIN'), env('CONSOLE_ADMIN_PASSWORD'));
	const pages = [['home', '#/'], ['media', '#/media'], ['item', `#/media/${out.item_id}`],
	    ['stats', '#/media/stats'], ['payments', '#/payments'],
	    ['payment', `#/payments/${out.admin_ref}`], ['account', '#/account'], ['admin', '#/admin']];
	out.phone_pages = [];
	let n = 1;
	for (const [name, hash] of pages) {
		await page.goto(`${BASE}/${hash}`);
		await page.locator('main .card').first().waitFor();
		await page.waitForTimeout(300);
		await overflow(name);
		out.phone_pages.push(name);
		await shot(page, `phone-${String(++n).padStart(2, '0')}-${name}`);
	}
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const browser = await launch(chromium, 'OIDC_CHROMIUM');
	try {
		if (PARTS.has('auth')) {
			const page = await authPart(browser);
			const secret = await totpPart(page);
			await signOutIn(page, secret);
			let pw = PASSWORD;
			if (PARTS.has('account'))
				pw = await accountPart(browser, page, secret);
			if (PARTS.has('media')) {
				await mediaPart(page);
				await itemPart(page);
				if (out.upload_video?.done)
					await videoPart(page);
				if (out.upload_audio?.done)
					await audioPart(page);
				await statsPart(page);
				await deleteItemPart(page);
			}
			if (PARTS.has('payments'))
				await paymentsPart(page);
			if (PARTS.has('account') && PARTS.has('payments'))
				await datesPart(browser, pw, secret);
			out.user_csp_events = await page.evaluate(() => window.__csp);
		}
		if (PARTS.has('admin')) {
			const admin = await adminPart(browser);
			out.admin_csp_events = await admin.evaluate(() => window.__csp);
		}
		if (PARTS.has('delete'))
			await deleteAccountPart(browser);
		if (PARTS.has('phone'))
			await phonePart(browser);
		if (PARTS.has('nonce'))
			await noncePart(browser);
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
