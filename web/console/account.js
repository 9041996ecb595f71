// The account: sign-up, profile, password, two-step sign-in (TOTP),
// sessions, and deleting the account.
import * as auth from './auth.js';
import { api, get, post, patch, del, enc } from './api.js';
import { h, clear, field, form, section, button, notice, when } from './ui.js';
import * as qr from './qr.js';

// Sign-up through the JSON API, then the provider's sign-in page with the
// new username filled in.
export async function signup() {
	return section('Create an account',
	    form({ id: 'signup-form' }, [
		field('Username', 'username', { autocomplete: 'username', required: true,
		    minlength: 3, maxlength: 40 }),
		field('E-mail', 'email', { type: 'email', autocomplete: 'email', required: true }),
		field('Password (12 characters or more)', 'password', { type: 'password',
		    autocomplete: 'new-password', required: true, minlength: 12 }),
		h('div.actions', h('button', { type: 'submit' }, 'Create the account'),
		    h('a.button.secondary', { href: '#/' }, 'Cancel')),
	    ], async (v) => {
		await api('POST', '/api/v1/auth/register', { anonymous: true,
		    json: { username: v.username, email: v.email, password: v.password } });
		notice('Account created: sign in with it now.');
		await auth.signIn({ hint: v.username, back: '#/' });
	    }));
}

export async function page() {
	const { user } = await get('/api/v1/auth/me');
	return h('div.stack', h('h1', 'Account'),
	    profile(user), password(), totp(user), sessions(), apps(), remove(user));
}

function profile(user) {
	return section('Profile', h('p.small', `Signed up ${when(user.created_at)} · role ${user.role}`),
	    form({ id: 'profile-form' }, [
		field('Username', 'username', { value: user.username, autocomplete: 'username' }),
		field('E-mail', 'email', { type: 'email', value: user.email, autocomplete: 'email' }),
		h('div.actions', h('button', { type: 'submit' }, 'Save')),
	    ], async (v, f) => {
		const change = {};
		if (v.username !== user.username)
			change.username = v.username;
		if (v.email !== user.email)
			change.email = v.email;
		if (Object.keys(change).length === 0) {
			notice('Nothing to change.');
			return;
		}
		const out = await patch('/api/v1/auth/me', change);
		Object.assign(user, out?.user ?? change);
		notice('Profile saved.');
		f.querySelector('[name=username]').value = user.username;
	    }));
}

function password() {
	return section('Password', h('p.small', 'Changing it ends your other sessions.'),
	    form({ id: 'password-form' }, [
		field('Current password', 'current_password', { type: 'password', autocomplete: 'current-password' }),
		field('New password', 'new_password', { type: 'password', autocomplete: 'new-password' }),
		h('div.actions', h('button', { type: 'submit' }, 'Change the password')),
	    ], async (v, f) => {
		await post('/api/v1/auth/me/password', v);
		f.reset();
		notice('Password changed; your other sessions have ended.');
	    }));
}

// Enrolment: a secret and its otpauth URI as a QR code, confirmed with a
// code and the password; then the recovery codes, shown this once.  The
// user's totp_enabled says which way it is; an older server without it
// leaves both ways offered.
function totp(user) {
	const body = h('div');
	const show = (state) => {
		const start = button('Set up two-step sign-in', async () => {
			const t = await post('/api/v1/auth/me/totp');
			clear(body, enrol(t, body, show));
		}, { id: 'totp-start' });
		const off = form({ id: 'totp-off-form' }, [
			h('p.small', 'Turn it off: your password and a current code.'),
			field('Password', 'password', { type: 'password', autocomplete: 'current-password' }),
			field('Code', 'code', { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6 }),
			h('div.actions', h('button.danger', { type: 'submit' }, 'Turn two-step sign-in off')),
		], async (v) => {
			await del('/api/v1/auth/me/totp', v);
			notice('Two-step sign-in is off.');
			show('off');
		});
		const text = {
			on: 'Two-step sign-in is on.',
			session: 'This session signed in with a code: two-step sign-in is on.',
			off: 'Two-step sign-in is off: sign-in asks for the password only.',
			unknown: 'Ask for a code from an authenticator app at each sign-in.',
		}[state];
		clear(body, h('p#totp-state', text),
		    state === 'on' || state === 'session' ? null : h('div.actions', start),
		    state === 'off' ? null : h('details', h('summary', 'Turn it off'), off));
	};
	if (typeof user.totp_enabled === 'boolean')
		show(user.totp_enabled ? 'on' : 'off');
	else
		show((auth.idClaims()?.amr ?? []).includes('otp') ? 'session' : 'unknown');
	return section('Two-step sign-in', body);
}

function enrol(t, body, show) {
	return [
		h('p', 'Scan this with your authenticator app, or type the key.'),
		h('figure.qr-box', qr.svg(t.otpauth_uri, { label: 'QR code of the otpauth URI' }),
		    h('figcaption', h('code#totp-secret', t.secret))),
		h('p.small', h('a#totp-uri', { href: t.otpauth_uri }, 'Open in an authenticator app on this device')),
		form({ id: 'totp-confirm-form' }, [
			field('The 6-digit code it shows', 'code', { inputmode: 'numeric',
			    autocomplete: 'one-time-code', maxlength: 6 }),
			field('Your password', 'password', { type: 'password', autocomplete: 'current-password' }),
			h('div.actions', h('button', { type: 'submit' }, 'Turn it on')),
		], async (v) => {
			const out = await post('/api/v1/auth/me/totp/confirm', v);
			clear(body, recovery(out.recovery_codes ?? [], () => show('on')));
		}),
	];
}

// Shown once: nothing keeps them, here or at the server (only their hashes).
function recovery(codes, done) {
	const list = h('ol#recovery-codes.codes', codes.map((c) => h('li', h('code', c))));
	return [
		h('p.ok', { role: 'status' }, 'Two-step sign-in is on.'),
		h('p', 'These recovery codes each sign you in once without the app. ',
		    h('strong', 'They are shown only now:'), ' write them down or keep them in a password manager.'),
		list,
		h('div.actions',
		    button('Copy them', async () => {
			await navigator.clipboard.writeText(codes.join('\n'));
			notice('Copied.');
		    }),
		    button('I have kept them', async () => done(), { id: 'recovery-done' })),
	];
}

function sessions() {
	const list = h('ul#sessions.list');
	const load = async () => {
		const { sessions: all } = await get('/api/v1/auth/sessions');
		clear(list, all.map((s) => h('li.row', { dataset: { session: s.id, current: s.current } },
		    h('div', h('strong', s.current ? 'This browser' : (s.user_agent || 'unknown client')),
			h('span.small', ` since ${when(s.created_at)}, last used ${when(s.last_used_at)}`,
			    s.ip ? ` from ${s.ip}` : '')),
		    s.current ? null : button('End', async () => {
			await del(`/api/v1/auth/sessions/${enc(s.id)}`);
			notice('Session ended.');
			await load();
		    }, { class: 'secondary' }))));
	};
	const box = section('Sessions', list,
	    h('div.actions', button('End every session, this one too', async () => {
		await post('/api/v1/auth/logout-all');
		await auth.signOut();
	    }, { class: 'danger', id: 'logout-all' })));
	load().catch((e) => clear(list, h('li.form-error', e.detail ?? e.message)));
	return box;
}

function apps() {
	const list = h('ul.list');
	const load = async () => {
		const { data } = await get('/api/v1/auth/me/apps');
		clear(list, data.length === 0 ? h('li.small', 'No other application has access.') :
		    data.map((a) => h('li.row', h('div', h('strong', a.name),
			h('span.small', ` ${a.scopes.join(', ')} · since ${when(a.granted_at)}`)),
		    button('Take back', async () => {
			await del(`/api/v1/auth/me/apps/${enc(a.client_id)}`);
			await load();
		    }, { class: 'secondary' }))));
	};
	load().catch((e) => clear(list, h('li.form-error', e.detail ?? e.message)));
	return section('Applications you allowed', list);
}

// Media live in their own database, which auth's DELETE /me does not
// reach: the password is checked first (changing nothing), then the
// media and their files go, then the account.  A wrong password stops
// at the first step, with nothing deleted anywhere.
function remove(user) {
	return section('Delete the account',
	    h('p', 'Everything goes: your media and their files, comments, likes, and the account itself. This cannot be undone.'),
	    form({ id: 'delete-form' }, [
		field(`Type your username (${user.username}) to confirm`, 'confirm', { autocomplete: 'off' }),
		field('Password', 'password', { type: 'password', autocomplete: 'current-password' }),
		h('div.actions', h('button.danger', { type: 'submit' }, 'Delete my account')),
	    ], async (v) => {
		if (v.confirm !== user.username)
			throw { detail: 'The username does not match.', errors: [{ field: 'confirm',
			    detail: `type ${user.username}` }] };
		if (!v.password)
			throw { detail: 'The password is needed.', errors: [{ field: 'password', detail: 'required' }] };
		await post('/api/v1/auth/me/password/verify', { password: v.password });
		const m = await del('/api/v1/media/users/me');
		try {
			await del('/api/v1/auth/me', { password: v.password });
		} catch (e) {
			e.detail = `${e.detail} (your ${m.items} media items are deleted; the account is not: ` +
			    'try again)';
			throw e;
		}
		await auth.dropLocal();
		location.assign('/#/');
		location.reload();
	    }));
}
