// Admin: users (search, role, disable).  The API refuses all of it to
// anyone else; the menu only hides it.
import * as auth from './auth.js';
import { get, patch, enc } from './api.js';
import { h, clear, field, form, section, button, notice, when } from './ui.js';

function user(u, me) {
	const self = u.id === me;
	const li = h('li.row.user', { dataset: { id: u.id, username: u.username } });
	const draw = () => clear(li,
	    h('div', h('strong', u.username), h('span.small', ` ${u.email} · since ${when(u.created_at)}`),
		u.disabled ? h('span.status.s-failed', 'disabled') : null,
		h('span.status.role', u.role)),
	    self ? h('span.small', 'you') : h('span.actions',
		button(u.role === 'admin' ? 'Make user' : 'Make admin', async () => {
			const out = await patch(`/api/v1/auth/admin/users/${enc(u.id)}`,
			    { role: u.role === 'admin' ? 'user' : 'admin' });
			Object.assign(u, out.user ?? out);
			notice(`${u.username} is now ${u.role}.`);
			draw();
		}, { class: 'secondary', dataset: { action: 'role' } }),
		button(u.disabled ? 'Enable' : 'Disable', async () => {
			const out = await patch(`/api/v1/auth/admin/users/${enc(u.id)}`,
			    { disabled: !u.disabled });
			Object.assign(u, out.user ?? out);
			notice(`${u.username} is ${u.disabled ? 'disabled: their sessions have ended' : 'enabled'}.`);
			draw();
		}, { class: u.disabled ? 'secondary' : 'danger', dataset: { action: 'disable' } })));
	draw();
	return li;
}

export async function users() {
	const me = auth.claims()?.sub;
	const list = h('ul#users.list');
	const more = h('div.actions');
	let q = '';
	const load = async (cursor) => {
		const r = await get('/api/v1/auth/admin/users', { limit: 20, cursor, q });
		if (!cursor)
			clear(list);
		list.append(...r.data.map((u) => user(u, me)));
		if (list.children.length === 0)
			list.append(h('li.small', 'No one matches.'));
		clear(more, r.has_more ? button('More', () => load(r.next_cursor), { class: 'secondary' }) : null);
	};
	await load(null);
	return h('div.stack', h('h1', 'Users'),
	    section('Find', form({ id: 'user-search', class: 'inline' }, [
		field('Part of a username or e-mail', 'q', { type: 'search', maxlength: 254 }),
		h('button', { type: 'submit' }, 'Search'),
	    ], async (v) => {
		q = v.q;
		await load(null);
	    }), list, more));
}
