// The pages a mail's link opens (/verify-email, /confirm-email,
// /undo-email-change).  The link's token rides in the fragment, which no
// server log or Referer sees; this script takes it out of the address
// bar at once, says what the button will do, and only the button posts
// it, as JSON, to the API the page names (data-api on <main>): a mail
// scanner that opens the link runs no click, and a token is good once.
// The API's answer fills the elements marked data-field, or its detail
// is shown.  Same origin only, no inline script or style (the pages'
// Content-Security-Policy); nothing is stored in the browser.
'use strict';

(function () {
	const main = document.querySelector('main[data-api]');
	if (main === null)
		return;
	const api = main.dataset.api;
	const $ = (id) => document.getElementById(id);
	const show = (id, on) => {
		const e = $(id);
		if (e !== null)
			e.hidden = !on;
	};

	// A token is 43 characters of base64url; anything else is a link
	// cut short by a mail program.
	const token = new URLSearchParams(location.hash.slice(1)).get('token');
	if (location.hash !== '')
		history.replaceState(null, '', location.pathname);
	if (token === null || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
		show('missing', true);
		return;
	}
	show('ask', true);

	const button = $('go');
	const fail = (text) => {
		const e = $('error');
		e.textContent = text;
		e.hidden = false;
	};
	// A link that can never work again is not offered a second time.
	const final = new Set(['unknown', 'used', 'replaced', 'expired',
	    'address_changed', 'disabled']);

	button.addEventListener('click', async () => {
		let res, body = null;

		button.disabled = true;
		show('error', false);
		show('working', true);
		try {
			res = await fetch(api, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ token }),
				credentials: 'same-origin',
				cache: 'no-store',
				referrerPolicy: 'no-referrer',
			});
			body = await res.json().catch(() => null);
		} catch (e) {
			show('working', false);
			fail('The service could not be reached. Check the ' +
			    'connection, then try again.');
			button.disabled = false;
			return;
		}
		show('working', false);
		if (res.ok && body !== null) {
			for (const e of document.querySelectorAll('[data-field]')) {
				const v = body[e.dataset.field];
				e.textContent = v === undefined || v === null ?
				    '' : String(v);
			}
			show('ask', false);
			show('done', true);
			return;
		}
		fail(body !== null && typeof body.detail === 'string' ?
		    body.detail : `The request failed (HTTP ${res.status}).`);
		if (body === null || !final.has(body.reason))
			button.disabled = false;
	});
})();
