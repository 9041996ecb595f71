// Debian's Chromium, launched the one way every browser test here does:
// headless, the system's binary (playwright-core downloads none), and
// without the sandbox only as root, where Chromium refuses to start with
// it.  The caller hands in playwright-core's `chromium` (this module
// imports nothing from npm, so tests/console, with packages of its own,
// shares it).
// GH_CHROMIUM names another binary; so does the variable the caller names,
// the one each script read before.
//
// Under the integration suite (GH_EXCHANGES_DIR and GH_EXCHANGES_CASE,
// set by tests/integration/lib.sh), every answer the browser gets from
// the API is recorded the way the suite's req records curl's, for
// tools/openapi-check to hold against docs/openapi.yaml.
import { appendFileSync, writeFileSync } from 'node:fs';

const API = /^\/(api\/|\.well-known\/)/;
let seq = 0;

// A promise that gives up: value after ms.
const within = (p, ms, value) => Promise.race([p,
    new Promise((resolve) => setTimeout(resolve, ms, value).unref())]);

async function record(r) {
	const dir = process.env.GH_EXCHANGES_DIR;
	const u = new URL(r.url());
	if (!API.test(u.pathname))
		return;
	const prefix = `${dir}/browser.${process.pid}.${++seq}`;
	const headers = await r.headersArray();
	const type = headers.find((h) => h.name.toLowerCase() === 'content-type');
	// Only a JSON body is checked against a schema: the bytes of a file
	// (a video the page streams may never end) are not read, and a body
	// the browser does not give within seconds is not waited for.
	let body = Buffer.alloc(0);
	if (type && /json/i.test(type.value)) {
		body = await within(r.body().catch(() => null), 5000, null);
		if (body === null)
			return;
	}
	const head = [`HTTP/1.1 ${r.status()} ${r.statusText()}`,
	    ...headers.map(({ name, value }) => `${name}: ${value}`)];
	writeFileSync(`${prefix}.h`, `${head.join('\r\n')}\r\n\r\n`);
	writeFileSync(`${prefix}.b`, body);
	appendFileSync(`${dir}/index`, `${process.env.GH_EXCHANGES_CASE}\t` +
	    `${r.request().method()}\t${r.url()}\t${prefix}\n`);
}

export async function launch(chromium, variable) {
	const browser = await chromium.launch({
		executablePath: (variable && process.env[variable]) ||
		    process.env.GH_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
	});
	if (process.env.GH_EXCHANGES_DIR && process.env.GH_EXCHANGES_CASE) {
		// The records are written before the browser goes (a context
		// closed sooner loses those of its answers still being read).
		const pending = new Set();
		const settle = () => within(Promise.all(pending), 10000);
		const newContext = browser.newContext.bind(browser);
		const closeBrowser = browser.close.bind(browser);
		browser.newContext = async (...a) => {
			const ctx = await newContext(...a);
			ctx.on('response', (r) => {
				const p = record(r).catch(() => {});
				pending.add(p);
				p.finally(() => pending.delete(p));
			});
			return ctx;
		};
		browser.close = async (...a) => (await settle(), closeBrowser(...a));
	}
	return browser;
}
