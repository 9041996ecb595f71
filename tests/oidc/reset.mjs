// The password reset page (web/account/reset-password.html) in a real
// browser (Debian's Chromium, driven by playwright-core; no browser is
// downloaded), as a person uses it.  Prints one JSON summary; exits
// nonzero when the page could not be driven.  A screenshot of each step
// goes to RESET_SHOTS.
//
//   reset.mjs request PAGE_URL LOGIN   the page without a token: ask for
//                                      a link
//   reset.mjs reset LINK PASSWORD      the link from the mail: a mismatch,
//                                      a common password, then PASSWORD
//
// The summary has the API's status and what the page showed: message
// (success), detail (the error at the top), the errors by the inputs,
// and console_errors (a CSP violation is one).
import { chromium } from 'playwright-core';
import { launch } from './chromium.mjs';
import { mkdirSync } from 'node:fs';

const [mode, url, value] = process.argv.slice(2);
const SHOTS = process.env.RESET_SHOTS || '/tmp/reset-shots';

async function shot(page, name) {
	await page.screenshot({ path: `${SHOTS}/${mode}-${name}.png`,
	    fullPage: true });
}

// What the page shows in el, '' when hidden.
async function shown(page, sel) {
	const el = page.locator(sel);
	return await el.isVisible() ? (await el.innerText()).trim() : '';
}

// Submits the form and waits for the API's answer to path; its status.
async function submit(page, form, path) {
	const answer = page.waitForResponse((r) =>
	    new URL(r.url()).pathname === path, { timeout: 15000 });
	await page.click(`${form} button[type=submit]`);
	const r = await answer;
	// The page has written what it says once the button is back (the
	// form may be hidden by then).
	await page.waitForFunction((f) =>
	    !document.querySelector(`${f} button[type=submit]`).disabled, form);
	return r.status();
}

async function request(page, out) {
	await page.goto(url);
	await page.locator('#request-form').waitFor();
	out.reset_form_hidden = !await page.locator('#reset-form').isVisible();
	await shot(page, '1-form');
	await page.fill('#login', value);
	out.status = await submit(page, '#request-form',
	    '/api/v1/auth/password/forgot');
	await page.locator('#message').waitFor();
	out.message = await shown(page, '#message');
	await shot(page, '2-sent');
}

async function reset(page, out) {
	let posts = 0;
	page.on('request', (r) => {
		if (r.method() === 'POST')
			posts++;
	});
	await page.goto(url);
	await page.locator('#reset-form').waitFor();
	out.token_left_url = !page.url().includes('token');
	await shot(page, '1-form');
	// Two different passwords: caught on the page, nothing sent.
	await page.fill('#password', value);
	await page.fill('#confirm', value + 'x');
	await page.click('#reset-form button[type=submit]');
	await page.locator('#confirm-error').waitFor();
	out.mismatch_error = await shown(page, '#confirm-error');
	out.mismatch_posts = posts;
	await shot(page, '2-mismatch');
	// A common password: the API's words, by the input.
	await page.fill('#password', 'Password1234');
	await page.fill('#confirm', 'Password1234');
	out.weak_status = await submit(page, '#reset-form',
	    '/api/v1/auth/password/reset');
	out.weak_error = await shown(page, '#password-error');
	out.confirm_error_after = await shown(page, '#confirm-error');
	await shot(page, '3-weak');
	// The new one.
	await page.fill('#password', value);
	await page.fill('#confirm', value);
	out.status = await submit(page, '#reset-form',
	    '/api/v1/auth/password/reset');
	out.message = await shown(page, '#message');
	out.detail = await shown(page, '#status');
	out.form_hidden = !await page.locator('#reset-form').isVisible();
	await shot(page, '4-done');
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const out = { console_errors: [] };
	const browser = await launch(chromium, 'RESET_CHROMIUM');
	try {
		const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
		ctx.setDefaultTimeout(15000);
		const page = await ctx.newPage();
		// Not errors of the page: the browser's own look for
		// /favicon.ico, and the API's 4xx answers it is made to show.
		page.on('console', (m) => {
			const at = new URL(m.location().url || 'about:blank');
			if (m.type() === 'error' && at.pathname !== '/favicon.ico' &&
			    !at.pathname.startsWith('/api/v1/auth/password/'))
				out.console_errors.push(m.text());
		});
		page.on('pageerror', (e) => out.console_errors.push(String(e)));
		if (mode === 'request')
			await request(page, out);
		else if (mode === 'reset')
			await reset(page, out);
		else
			throw new Error(`unknown mode ${mode}`);
	} finally {
		await browser.close();
	}
	return out;
}

main().then((out) => {
	console.log(JSON.stringify(out));
}, (e) => {
	console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e) }));
	process.exitCode = 1;
});
