// A real browser (Debian's Chromium, driven by playwright-core) opens a
// link taken from a real mail (/verify-email#token=..., or another page
// of web/account), reads what the page says it will do, clicks, and
// reads the answer; then opens the same link again, where the API's
// detail must show and no second try be offered; then the page without
// a whole token.  Screenshots go to LINK_SHOTS.  Prints one JSON
// summary; exits nonzero on any failure.
//
// Settings (environment): LINK_URL, LINK_SHOTS, LINK_CHROMIUM (default
// /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { launch } from './chromium.mjs';
import { mkdirSync } from 'node:fs';

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};
const LINK = env('LINK_URL');
const SHOTS = env('LINK_SHOTS');

async function shot(page, name) {
	await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const out = { console: [], posts: [] };
	const browser = await launch(chromium, 'LINK_CHROMIUM');
	try {
		const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
		ctx.setDefaultTimeout(15000);
		const page = await ctx.newPage();
		// A blocked inline script or style, or a script error, shows
		// here: the page must need neither.
		page.on('console', (m) => {
			// An API's 4xx is logged as a failed load: expected.
			if ((m.type() === 'error' || m.type() === 'warning') &&
			    !m.text().startsWith('Failed to load resource'))
				out.console.push(m.text());
		});
		page.on('pageerror', (e) => out.console.push(String(e)));
		page.on('request', (r) => {
			if (r.method() === 'POST')
				out.posts.push({
					url: r.url(),
					content_type: r.headers()['content-type'] ?? null,
					body: r.postData(),
					referer: r.headers()['referer'] || null,
				});
		});

		// 1. The link from the mail: what the page says, then the click.
		const res = await page.goto(LINK);
		out.status = res.status();
		out.csp = res.headers()['content-security-policy'] ?? null;
		out.frame_options = res.headers()['x-frame-options'] ?? null;
		await page.locator('#go').waitFor({ state: 'visible' });
		out.url_after_load = page.url();
		out.title = await page.title();
		out.ask = await page.locator('#ask').innerText();
		out.button = await page.locator('#go').innerText();
		out.posts_before_click = out.posts.length;
		await shot(page, '1-ask');
		await page.click('#go');
		await page.locator('#done').waitFor({ state: 'visible' });
		out.done = await page.locator('#done').innerText();
		out.ask_hidden = await page.locator('#ask').isHidden();
		await shot(page, '2-done');

		// 2. The same link again (a new document, not a fragment change).
		await page.goto('about:blank');
		await page.goto(LINK);
		await page.locator('#go').waitFor({ state: 'visible' });
		await page.click('#go');
		await page.locator('#error').waitFor({ state: 'visible' });
		out.again_error = await page.locator('#error').innerText();
		out.again_button_disabled = await page.locator('#go').isDisabled();
		out.again_done_hidden = await page.locator('#done').isHidden();
		await shot(page, '3-again');

		// 3. A link cut short by a mail program.
		const u = new URL(LINK);
		await page.goto('about:blank');
		await page.goto(`${u.origin}${u.pathname}#token=cut-short`);
		await page.locator('#missing').waitFor({ state: 'visible' });
		out.short_missing = true;
		out.short_ask_hidden = await page.locator('#ask').isHidden();
		await shot(page, '4-short');
	} finally {
		await browser.close();
	}
	console.log(JSON.stringify(out));
}

main().catch((e) => {
	console.error(e.stack || String(e));
	process.exit(1);
});
