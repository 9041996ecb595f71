// gatehouse console: the single-page app at /.  Plain ES modules, no
// build step; nginx serves them as they are (docs/console.md).
import * as auth from './auth.js';
import { h, clear, notice, showError } from './ui.js';
import * as account from './account.js';
import * as media from './media.js';
import * as payments from './payments.js';
import * as admin from './admin.js';

const view = () => document.getElementById('view');

// Routes on the fragment: #/media/ID and the like.
const routes = [
	[/^$/, home],
	[/^signup$/, account.signup],
	[/^account$/, account.page],
	[/^media$/, media.gallery],
	[/^media\/stats$/, media.stats],
	[/^media\/([0-9a-f-]{36})$/, media.item],
	[/^payments$/, payments.list],
	[/^payments\/(pay_[A-Za-z0-9_-]+)$/, payments.detail],
	[/^admin$/, admin.users],
];
const open = new Set(['', 'signup']);

let rendering = 0;

export async function route() {
	const path = location.hash.replace(/^#\/?/, '');
	const n = ++rendering;
	const root = view();
	for (const [re, fn] of routes) {
		const m = re.exec(path);
		if (m === null)
			continue;
		if (!open.has(path) && !auth.signedIn()) {
			signedOutPage(root, 'Sign in to see this page.');
			return;
		}
		markNav(path);
		clear(root, h('p.loading', 'Loading…'));
		try {
			const out = await fn(...m.slice(1));
			if (n === rendering)
				clear(root, out);
		} catch (e) {
			if (n !== rendering)
				return;
			if (e instanceof auth.SignedOut) {
				shell();
				signedOutPage(root, e.detail);
				return;
			}
			clear(root, h('section.card', h('h2', 'Something went wrong'),
			    h('p.form-error', { role: 'alert' }, e.detail ?? e.message)));
		}
		document.title = `${root.querySelector('h1, h2')?.textContent ?? 'console'} · gatehouse`;
		return;
	}
	clear(root, h('section.card', h('h2', 'No such page'), h('p', h('a', { href: '#/' }, 'Home'))));
}

function markNav(path) {
	for (const a of document.querySelectorAll('#nav a')) {
		const to = a.getAttribute('href').replace(/^#\//, '');
		a.toggleAttribute('aria-current', to !== '' && (path === to || path.startsWith(`${to}/`)));
	}
}

function signedOutPage(root, why) {
	clear(root, h('section.card.hero',
	    h('h1', 'gatehouse console'),
	    why ? h('p.note', why) : null,
	    h('p', 'Accounts, media and payments of this gatehouse, from your browser.'),
	    h('div.actions',
		h('button#signin', { type: 'button', on: { click: () => auth.signIn({ back: location.hash }) } }, 'Sign in'),
		h('a.button.secondary#to-signup', { href: '#/signup' }, 'Create an account')),
	    h('p.small', 'You sign in on gatehouse\'s own sign-in page; this console never sees your password.')));
}

async function home() {
	if (!auth.signedIn()) {
		const box = h('div');
		signedOutPage(box);
		return box.firstChild;
	}
	const id = auth.idClaims() ?? {};
	return h('section.card.hero',
	    h('h1', `Hello, ${id.preferred_username ?? 'there'}`),
	    h('ul.tiles',
		h('li', h('a', { href: '#/media' }, h('strong', 'Media'), h('span', 'Upload, browse and share files'))),
		h('li', h('a', { href: '#/payments' }, h('strong', 'Payments'), h('span', 'Create and follow payments'))),
		h('li', h('a', { href: '#/account' }, h('strong', 'Account'), h('span', 'Profile, password, two-step sign-in, sessions'))),
		auth.isAdmin() ? h('li', h('a', { href: '#/admin' }, h('strong', 'Admin'), h('span', 'Users and roles'))) : null));
}

// The header: who is signed in, the menu, sign-out.
function shell() {
	const signed = auth.signedIn();
	document.getElementById('nav').hidden = !signed;
	document.getElementById('nav-admin').hidden = !auth.isAdmin();
	document.getElementById('signout').hidden = !signed;
	document.getElementById('who').textContent = signed ?
	    (auth.idClaims()?.preferred_username ?? '') : '';
}

// Each service's health, as a dot with words for screen readers.
async function health() {
	const box = document.getElementById('health');
	const parts = await Promise.all(['auth', 'payment', 'media'].map(async (s) => {
		let state = 'down';
		try {
			const r = await fetch(`/api/v1/${s}/health`, { cache: 'no-store' });
			state = r.ok ? 'up' : 'degraded';
		} catch {
			state = 'down';
		}
		return h(`span.svc.${state}`, { title: `${s}: ${state}`, dataset: { service: s, state } },
		    h('span.dot', { 'aria-hidden': 'true' }), `${s} ${state}`);
	}));
	clear(box, parts);
	box.dataset.state = parts.every((p) => p.dataset.state === 'up') ? 'up' : 'degraded';
}

async function boot() {
	document.getElementById('signout').addEventListener('click', () => auth.signOut());
	health();
	setInterval(health, 60000);
	try {
		await auth.setup();
	} catch (e) {
		clear(view(), h('section.card', h('h1', 'gatehouse console'),
		    h('p.form-error', { role: 'alert' }, e.message),
		    e.origin ? h('p', h('a', { href: `${e.origin}/` }, `${e.origin}/`)) : null));
		return;
	}
	const url = new URL(location.href);
	if (url.pathname === '/callback') {
		try {
			const back = await auth.callback(url.searchParams);
			history.replaceState(null, '', `/${back}`);
		} catch (e) {
			history.replaceState(null, '', '/');
			shell();
			signedOutPage(view(), e.detail ?? e.message);
			window.addEventListener('hashchange', route);
			return;
		}
	} else if (url.search !== '') {
		// Back from the provider's logout (?state=...): nothing to keep.
		history.replaceState(null, '', `/${url.hash}`);
	}
	if (auth.signedIn()) {
		try {
			await auth.accessToken();
		} catch (e) {
			if (!(e instanceof auth.SignedOut))
				showError(document.body, e);
			else
				notice(e.detail, 'error');
		}
	}
	shell();
	window.addEventListener('hashchange', route);
	await route();
}

boot();
