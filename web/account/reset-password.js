// The reset page (/reset-password): with the token of a mail's link
// (#token=...), the new password, twice; without one, a form that asks
// for a link.  Everything goes to the API as JSON, on this origin only
// (the page's CSP allows nothing else); what the API says is shown as
// text, never as markup: its detail at the top, each bad field next to
// its input.
'use strict';

(() => {
	const $ = (id) => document.getElementById(id);

	function say(el, text) {
		el.textContent = text || '';
		el.hidden = !text;
	}

	function clear(form) {
		for (const p of form.querySelectorAll('.field-error'))
			say(p, '');
		say($('status'), '');
		say($('message'), '');
	}

	function sentence(s) {
		return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
	}

	// POSTs data as JSON; {status, body}, status 0 when nothing answered.
	async function post(path, data) {
		let res;
		try {
			res = await fetch(path, {
				method: 'POST',
				headers: {
					'Content-Type': 'application/json',
					'Accept': 'application/json',
				},
				body: JSON.stringify(data),
				credentials: 'same-origin',
				cache: 'no-store',
				redirect: 'error',
			});
		} catch (e) {
			return { status: 0, body: { detail: 'the server could not ' +
			    'be reached; check the connection and try again' } };
		}
		try {
			return { status: res.status, body: await res.json() };
		} catch (e) {
			return { status: res.status, body: { detail:
			    `unexpected answer from the server (HTTP ${res.status})` } };
		}
	}

	// A problem: its detail at the top, each field's error by its input.
	function problem(body, fields) {
		let first = null;
		for (const e of Array.isArray(body.errors) ? body.errors : []) {
			const el = fields[e.field];
			if (el && typeof e.detail === 'string') {
				say(el, sentence(e.detail) + '.');
				first = first || el;
			}
		}
		say($('status'), sentence(body.detail ||
		    'the request failed; try again') + '.');
		const input = first && document.querySelector(
		    `[aria-describedby="${first.id}"]`);
		if (input)
			input.focus();
	}

	// The token leaves the address bar (and the history) at once; the
	// page keeps it.
	const token = new URLSearchParams(location.hash.slice(1)).get('token');
	if (location.hash)
		history.replaceState(null, '', location.pathname);

	function asking() {
		const form = $('request-form');
		form.hidden = false;
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clear(form);
			const button = form.querySelector('button');
			button.disabled = true;
			const r = await post('/api/v1/auth/password/forgot',
			    { login: $('login').value.trim() });
			button.disabled = false;
			if (r.status === 202) {
				say($('message'), sentence(r.body.detail) + '. ' +
				    `It works for ${r.body.valid_minutes} minutes, ` +
				    'once. Nothing came? Look in the spam folder, ' +
				    'or ask again in a few minutes.');
				return;
			}
			problem(r.body, { login: $('login-error') });
		});
		$('login').focus();
	}

	function resetting() {
		const form = $('reset-form');
		$('title').textContent = 'Choose a new password';
		form.hidden = false;
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			clear(form);
			const pw = $('password').value;
			if (pw !== $('confirm').value) {
				say($('confirm-error'), 'The two passwords differ.');
				$('confirm').focus();
				return;
			}
			const button = form.querySelector('button');
			button.disabled = true;
			const r = await post('/api/v1/auth/password/reset',
			    { token, password: pw });
			button.disabled = false;
			if (r.status === 200) {
				form.hidden = true;
				say($('message'), 'Your password was changed' +
				    (r.body.username ? ` (account ${r.body.username})` :
				    '') + '. Every session of the account was signed ' +
				    'out: sign in again with the new password.');
				return;
			}
			problem(r.body, { password: $('password-error') });
		});
		$('password').focus();
	}

	if (token)
		resetting();
	else
		asking();
})();
