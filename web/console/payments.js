// Payments: create (with an Idempotency-Key the page makes and keeps until
// the payment is surely made), the list with filters and pages, a
// payment's detail with its ledger, cancel; for admins status changes and
// refunds.
import * as auth from './auth.js';
import { ApiError, api, get, post, enc } from './api.js';
import { h, clear, field, form, section, button, notice, money, toMinor, when } from './ui.js';

const PENDING = 'gh.console.payment';
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK'];
const STATUSES = ['pending', 'processing', 'succeeded', 'failed', 'canceled', 'partially_refunded', 'refunded'];

function status(s) {
	return h(`span.status.s-${s}`, s.replace('_', ' '));
}

function row(p) {
	return h('li.row.payment', { dataset: { reference: p.reference, status: p.status } },
	    h('a', { href: `#/payments/${p.reference}` },
		h('strong', money(p.amount, p.currency)), ' ', status(p.status),
		h('span.small', ` ${p.description ?? ''} · ${when(p.created_at)}`),
		h('code.small.ref', p.reference)));
}

// The key belongs to one body: the same body again (a retry after a lost
// answer) goes with the same key, so the server makes the payment once; a
// changed body is another payment, with a new key.  Kept in sessionStorage
// so a reload in between still retries with it.
function keyFor(body) {
	const text = JSON.stringify(body);
	let p = null;
	try {
		p = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
	} catch {
		p = null;
	}
	if (p === null || p.body !== text) {
		p = { key: crypto.randomUUID(), body: text };
		sessionStorage.setItem(PENDING, JSON.stringify(p));
	}
	return p.key;
}

function create(onMade) {
	const keyLine = h('p.small#idempotency-key');
	const showKey = () => {
		const p = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
		keyLine.textContent = p ? `Retrying with Idempotency-Key ${p.key}` : '';
		keyLine.dataset.key = p?.key ?? '';
	};
	showKey();
	const f = form({ id: 'payment-form' }, [
		h('div.row-fields',
		    field('Amount', 'amount', { inputmode: 'decimal', placeholder: '19.99', required: true }),
		    field('Currency', 'currency', { tag: 'select', options: CURRENCIES })),
		field('Description', 'description', { maxlength: 500 }),
		keyLine,
		h('div.actions', h('button', { type: 'submit' }, 'Create the payment')),
	], async (v) => {
		const body = { amount: toMinor(v.amount, v.currency), currency: v.currency };
		if (v.description)
			body.description = v.description;
		const key = keyFor(body);
		showKey();
		let r;
		try {
			r = await api('POST', '/api/v1/payments', { json: body, full: true,
			    headers: { 'Idempotency-Key': key } });
		} catch (e) {
			// Refused for its content: this key was not used, but the
			// same body would be refused again; anything else may have
			// reached the server, so the key stays for the retry.
			if (e instanceof ApiError && [400, 415, 422].includes(e.status)) {
				sessionStorage.removeItem(PENDING);
				showKey();
			} else {
				e.detail = `${e.detail ?? e.message} — not sure it was made: create it again, ` +
				    'the same key makes sure it is made only once.';
			}
			throw e;
		}
		sessionStorage.removeItem(PENDING);
		showKey();
		f.reset();
		const replayed = r.headers.get('Idempotent-Replayed') === 'true';
		notice(replayed ? `Payment ${r.body.reference} was already made: this is its first answer again.` :
		    `Payment ${r.body.reference} created.`);
		onMade(r.body, replayed);
	});
	return section('New payment', f);
}

// The start of a day the person picked (YYYY-MM-DD), plus some days, as
// an RFC 3339 time: the day is theirs, in the browser's time zone, not
// UTC's (a payment made this evening in Auckland is today's there).  So
// "To" takes the whole of its day: the API's bound is the next day's
// start, which it excludes.
function dayStart(day, plus) {
	const [y, m, d] = day.split('-').map(Number);
	// setFullYear, not new Date(y, ...), which reads 0 to 99 as 19xx.
	const t = new Date(0);
	t.setFullYear(y, m - 1, d + plus);
	t.setHours(0, 0, 0, 0);
	return t.toISOString();
}

export async function list() {
	const items = h('ul#payments.list');
	const pager = h('div.actions');
	const admin = auth.isAdmin();
	let query = {};
	const cursors = [];
	const load = async (cursor) => {
		const r = await get('/api/v1/payments', { limit: 10, cursor, ...query });
		clear(items, r.data.length === 0 ? h('li.small.empty', 'No payments.') : r.data.map(row));
		clear(pager,
		    cursors.length > 0 ? button('Previous', async () => {
			cursors.pop();
			await load(cursors.at(-1));
		    }, { class: 'secondary', id: 'page-prev' }) : null,
		    r.has_more ? button('Next', async () => {
			cursors.push(r.next_cursor);
			await load(r.next_cursor);
		    }, { class: 'secondary', id: 'page-next' }) : null);
	};
	const filters = form({ id: 'payment-filter', class: 'inline' }, [
		field('Status', 'status', { tag: 'select', options: [['', 'any'], ...STATUSES] }),
		field('From', 'created_gte', { type: 'date' }),
		field('To (inclusive)', 'created_lt', { type: 'date' }),
		admin ? field('User id', 'user_id', { size: 36 }) : null,
		h('button.secondary', { type: 'submit' }, 'Show'),
	], async (v) => {
		if (v.created_gte && v.created_lt && v.created_lt < v.created_gte)
			throw { detail: 'The range ends before it starts.', errors: [{ field: 'created_lt',
			    detail: `must be ${v.created_gte} or later` }] };
		query = {
			status: v.status,
			created_gte: v.created_gte ? dayStart(v.created_gte, 0) : '',
			created_lt: v.created_lt ? dayStart(v.created_lt, 1) : '',
			user_id: v.user_id,
		};
		cursors.length = 0;
		await load(null);
	});
	await load(null);
	return h('div.stack', h('h1', 'Payments'),
	    create((p, replayed) => {
		if (!replayed || !items.querySelector(`[data-reference="${p.reference}"]`)) {
			items.querySelector('.empty')?.remove();
			items.prepend(row(p));
		}
	    }),
	    section(admin ? 'All payments' : 'Your payments', filters, items, pager));
}

function ledger(t, cur) {
	return h('ol#ledger.ledger', t.data.map((e) => h('li', { dataset: { kind: e.kind } },
	    h('strong', e.kind.replace('_', ' ')), ' ',
	    e.from_status ? [status(e.from_status), ' → '] : null, status(e.to_status),
	    e.amount ? h('span.amount', ` ${money(e.amount, cur)}`) : null,
	    h('span.small', ` by ${e.actor}${e.actor_id ? ` ${e.actor_id.slice(0, 12)}` : ''} · ${when(e.at)}`),
	    e.reason ? h('p.small', e.reason) : null)));
}

export async function detail(ref) {
	const [p, t] = await Promise.all([get(`/api/v1/payments/${enc(ref)}`),
	    get(`/api/v1/payments/${enc(ref)}/transactions`)]);
	const admin = auth.isAdmin();
	const open = p.status === 'pending' || p.status === 'processing';
	const refundable = p.status === 'succeeded' || p.status === 'partially_refunded';
	// The page again, as it is now.
	const again = async () => window.dispatchEvent(new HashChangeEvent('hashchange'));
	return h('div.stack',
	    h('div.title-row', h('h1', money(p.amount, p.currency)), h('a.button.secondary', { href: '#/payments' }, 'Back')),
	    h('section.card#payment',
		h('p', status(p.status), h('span#payment-status', { hidden: true }, p.status)),
		h('dl.facts',
		    h('dt', 'Reference'), h('dd', h('code', p.reference)),
		    h('dt', 'Description'), h('dd', p.description ?? '—'),
		    h('dt', 'Refunded'), h('dd#payment-refunded', money(p.refunded_amount ?? 0, p.currency)),
		    admin ? [h('dt', 'User'), h('dd', h('code', p.user_id))] : null,
		    h('dt', 'Created'), h('dd', when(p.created_at)),
		    h('dt', 'Changed'), h('dd', when(p.updated_at)))),
	    open ? section('Cancel', form({ id: 'cancel-form' }, [
		field('Reason (optional)', 'reason', { maxlength: 500 }),
		h('div.actions', h('button.danger', { type: 'submit' }, 'Cancel the payment')),
	    ], async (v) => {
		await post(`/api/v1/payments/${enc(p.reference)}/cancel`, v.reason ? { reason: v.reason } : {});
		notice('Canceled.');
		await again();
	    })) : null,
	    admin && open ? section('Change the status (admin)', form({ id: 'status-form' }, [
		field('New status', 'status', { tag: 'select', options: ['processing', 'succeeded', 'failed', 'canceled'] }),
		field('Reason (optional)', 'reason', { maxlength: 500 }),
		h('div.actions', h('button', { type: 'submit' }, 'Change')),
	    ], async (v) => {
		const body = { status: v.status };
		if (v.reason)
			body.reason = v.reason;
		await post(`/api/v1/payments/${enc(p.reference)}/status`, body);
		notice(`Now ${v.status}.`);
		await again();
	    })) : null,
	    admin && refundable ? section('Refund (admin)', form({ id: 'refund-form' }, [
		field(`Amount (empty: all that is left, ${money(p.amount - (p.refunded_amount ?? 0), p.currency)})`,
		    'amount', { inputmode: 'decimal' }),
		field('Reason (optional)', 'reason', { maxlength: 500 }),
		h('div.actions', h('button', { type: 'submit' }, 'Refund')),
	    ], async (v) => {
		const body = {};
		if (v.amount)
			body.amount = toMinor(v.amount, p.currency);
		if (v.reason)
			body.reason = v.reason;
		const r = await post(`/api/v1/payments/${enc(p.reference)}/refunds`, body);
		notice(`Refunded ${money(r.amount, p.currency)}.`);
		await again();
	    })) : null,
	    section('Ledger', ledger(t, p.currency)));
}
