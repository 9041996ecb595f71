// The API reference at /docs/ in a real browser (Debian's Chromium, driven
// by playwright-core; no browser is downloaded), used as a person would:
// the page loads with no CSP violation, no request to another origin and
// no console error but the 401s asked for below; "try it" on the ping,
// then GET /me without a token (401); a sign-up and a sign-in by "try
// it", the sign-in's access token pasted once in Authorize, then GET /me,
// the sessions and another service's payments (200); after a reload the
// token is still there; after Logout in the dialog and a reload it is
// gone (401).  Last, on purpose, what a page must not do (an image from
// elsewhere, an inline script, eval): the CSP must refuse each, which
// shows the checks above can fail.  A screenshot of each step goes to
// DOCS_SHOTS.  Prints one JSON summary; exits nonzero on failure.
//
// Settings (environment): DOCS_URL (the page), DOCS_SHOTS, DOCS_USER,
// DOCS_EMAIL, DOCS_PASSWORD, DOCS_CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { launch } from './chromium.mjs';
import { mkdirSync } from 'node:fs';

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};
const URL_ = env('DOCS_URL');
const ORIGIN = new URL(URL_).origin;
const SHOTS = env('DOCS_SHOTS');

let current;

async function shot(page, name) {
	await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });
}

// The opblock of one operation, by Swagger UI's id: operations-TAG-OPID.
const op = (page, tag, id) => page.locator(`#operations-${tag}-${id}`);

async function expand(block) {
	if (!(await block.evaluate((e) => e.classList.contains('is-open'))))
		await block.locator('.opblock-summary-control').click();
	await block.locator('.opblock-body').waitFor();
}

// "Try it out", then "Execute" (with BODY in the request body, when
// given); returns the status and the body Swagger UI shows, after a
// screenshot named NAME of the answer, when given.
async function tryIt(block, body, name) {
	await expand(block);
	const tryOut = block.locator('.try-out__btn');
	if ((await tryOut.innerText()).trim() === 'Try it out')
		await tryOut.click();
	if (body !== undefined)
		await block.locator('textarea.body-param__text').fill(body);
	const live = block.locator('.live-responses-table tbody .response-col_status');
	await block.locator('button.execute').click();
	await live.first().waitFor();
	const status = Number((await live.first().innerText()).trim());
	const text = await block.locator('.live-responses-table tbody ' +
	    '.response-col_description pre').first().innerText();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		/* not JSON: json stays null */
	}
	if (name) {
		await live.first().scrollIntoViewIfNeeded();
		await shot(block.page(), name);
	}
	// Clear, so that the next run's answer is not this one.
	await block.locator('button.btn-clear').click().catch(() => {});
	return { status, json };
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const out = {};
	// What the browser logs, as it comes (the probe's too).
	const errors = [], foreign = [];
	const browser = await launch(chromium, 'DOCS_CHROMIUM');
	try {
		const ctx = await browser.newContext({ ignoreHTTPSErrors: true,
		    viewport: { width: 1280, height: 900 } });
		ctx.setDefaultTimeout(15000);
		// Every violation the page meets, as the page sees it.
		await ctx.addInitScript(() => {
			window.__csp = [];
			document.addEventListener('securitypolicyviolation', (e) =>
			    window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));
		});
		const page = await ctx.newPage();
		current = page;
		// Chromium logs each 4xx the page fetches as an error, with
		// the URL: the anonymous GET /me's 401 is the one expected.
		page.on('console', (m) => {
			if (m.type() === 'error')
				errors.push(`${m.text().slice(0, 300)} @ ${
				    m.location()?.url ?? ''}`);
		});
		page.on('pageerror', (e) =>
		    errors.push(`uncaught: ${String(e).slice(0, 300)}`));
		// Every request to another origin, and how it ended.
		const elsewhere = (r) => !r.url().startsWith(ORIGIN + '/') &&
		    !r.url().startsWith('data:');
		ctx.on('requestfinished', (r) => {
			if (elsewhere(r))
				foreign.push(`${r.url().slice(0, 200)} sent`);
		});
		ctx.on('requestfailed', (r) => {
			if (elsewhere(r))
				foreign.push(`${r.url().slice(0, 200)} ${
				    r.failure()?.errorText}`);
		});

		// 1. The page and the spec.
		const res = await page.goto(URL_);
		out.status = res.status();
		out.csp = res.headers()['content-security-policy'] ?? null;
		await page.locator('.opblock').first().waitFor();
		out.title = (await page.locator('.info .title').innerText())
		    .split('\n')[0].trim();
		out.operations = await page.locator('.opblock').count();
		await shot(page, 'docs-1-loaded');

		// 2. "Try it" without a token.
		const ping = op(page, 'auth', 'getAuthPing');
		out.ping = await tryIt(ping, undefined, 'docs-2-ping');
		const me = op(page, 'auth', 'getAuthMe');
		out.me_anonymous = (await tryIt(me, undefined, 'docs-3-me-anonymous')).status;

		// 3. Sign up and sign in by "try it"; the token pasted once.
		const reg = await tryIt(op(page, 'auth', 'postAuthRegister'),
		    JSON.stringify({ username: env('DOCS_USER'),
		    email: env('DOCS_EMAIL'), password: env('DOCS_PASSWORD') }));
		out.register = reg.status;
		const login = await tryIt(op(page, 'auth', 'postAuthLogin'),
		    JSON.stringify({ login: env('DOCS_USER'),
		    password: env('DOCS_PASSWORD') }));
		out.login = login.status;
		const token = login.json?.access_token;
		if (!token)
			throw new Error(`no access_token from the sign-in (${login.status})`);
		await page.locator('.auth-wrapper button.authorize').click();
		const dialog = page.locator('.dialog-ux .modal-ux');
		// The dialog has a form per scheme (bearer, dpop): the bearer's.
		const bearer = dialog.locator('form',
		    { hasText: 'bearer (http, Bearer)' });
		await bearer.locator('input').fill(token);
		await shot(page, 'docs-4-authorize');
		await bearer.locator('button.authorize').click();
		await dialog.locator('button.btn-done').first().click();
		await dialog.waitFor({ state: 'detached' });
		const mine = await tryIt(me, undefined, 'docs-5-me');
		out.me = { status: mine.status, username: mine.json?.user?.username ?? null };
		// The same token for the other operations, another service's too.
		out.sessions = (await tryIt(op(page, 'auth', 'getAuthSessions'))).status;
		out.payments = (await tryIt(op(page, 'payment', 'getPayments'))).status;

		// 4. A reload keeps the token (persistAuthorization).
		await page.reload();
		await page.locator('.opblock').first().waitFor();
		const again = await tryIt(op(page, 'auth', 'getAuthMe'), undefined,
		    'docs-6-me-after-reload');
		out.me_after_reload = { status: again.status,
		    username: again.json?.user?.username ?? null };
		// Logout in the dialog forgets it, reloads included.
		await page.locator('.auth-wrapper button.authorize').click();
		await bearer.locator('button', { hasText: 'Logout' }).click();
		await dialog.locator('button.btn-done').first().click();
		await dialog.waitFor({ state: 'detached' });
		await page.reload();
		await page.locator('.opblock').first().waitFor();
		out.me_after_logout = (await tryIt(op(page, 'auth', 'getAuthMe'))).status;
		out.csp_violations = await page.evaluate(() => window.__csp);

		// 5. What the CSP must refuse, tried on purpose; what it logs is
		// the probe's, not the page's.
		out.console_errors = [...errors];
		out.foreign = [...foreign];
		out.probe = await page.evaluate(async () => {
			const r = {};
			const before = window.__csp.length;
			await new Promise((done) => {
				const img = new Image();
				img.onload = () => { r.image = 'loaded'; done(); };
				img.onerror = () => { r.image = 'refused'; done(); };
				img.src = 'https://cdn.example.invalid/pixel.png';
			});
			window.__inline = false;
			const s = document.createElement('script');
			s.textContent = 'window.__inline = true;';
			document.body.appendChild(s);
			r.inline_ran = window.__inline;
			try {
				r.eval = String(eval('1 + 1'));
			} catch (e) {
				r.eval = e.name;
			}
			await new Promise((done) => setTimeout(done, 200));
			r.violations = window.__csp.slice(before);
			return r;
		});
		await page.waitForTimeout(200);
		out.probe.console_errors = errors.slice(out.console_errors.length);
		out.probe.foreign = foreign.slice(out.foreign.length);
		out.ok = true;
	} catch (e) {
		if (current) {
			await shot(current, 'docs-error').catch(() => {});
			e.page = await current.locator('body').innerText().catch(() => null);
		}
		e.errors = errors;
		e.foreign = foreign;
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
	    console_errors: e?.errors ?? null, foreign: e?.foreign ?? null,
	    page: e?.page?.slice(0, 800) ?? null }));
	process.exitCode = 1;
});
