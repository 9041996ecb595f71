// Media: upload (picked or dropped, with a progress bar), the gallery of
// thumbnails, an item's page, share links, and the stats as charts.
import * as auth from './auth.js';
import * as dpop from './dpop.js';
import { ApiError, api, authHeaders, get, post, patch, put, del, enc } from './api.js';
import { h, clear, field, form, section, button, notice, bytes, when, showError } from './ui.js';
import { bars } from './chart.js';

// A page of the gallery: each thumbnail is a request, and nginx limits
// them (GH_RATE, a burst of 20 by default).
const PAGE = 12;

// Thumbnails and files fetched with the token become blob: URLs, kept for
// the life of the page (a thumbnail's bytes never change).
const blobs = new Map();

async function blobUrl(path) {
	if (!blobs.has(path)) {
		const p = api('GET', path, { blob: true }).then((b) => URL.createObjectURL(b));
		blobs.set(path, p);
		p.catch(() => blobs.delete(path));
	}
	return blobs.get(path);
}

// Thumbnails load as they scroll into view.
const seen = new IntersectionObserver((entries) => {
	for (const e of entries) {
		if (!e.isIntersecting)
			continue;
		seen.unobserve(e.target);
		const box = e.target;
		blobUrl(box.dataset.src).then((u) => {
			box.replaceWith(h('img.thumb', { src: u, alt: box.dataset.alt,
			    width: box.dataset.w, height: box.dataset.h }));
		}, () => {
			box.textContent = 'no preview';
		});
	}
}, { rootMargin: '200px' });

function thumb(item) {
	if (item.thumbnail === null || item.thumbnail === undefined)
		return h('span.thumb-missing', { 'aria-hidden': 'true' }, item.type.split('/')[0]);
	// A placeholder until it scrolls into view and its bytes are here.
	const box = h('span.thumb-missing.thumb-wait', { dataset: { src: item.thumbnail.url,
	    alt: item.title || item.filename || 'thumbnail', w: item.thumbnail.width,
	    h: item.thumbnail.height } }, '…');
	seen.observe(box);
	return box;
}

function card(item) {
	return h('li.tile', { dataset: { id: item.id } },
	    h('a', { href: `#/media/${item.id}` }, thumb(item),
		h('span.tile-title', item.title || item.filename || item.id.slice(0, 8)),
		h('span.small', `${item.type} · ${bytes(item.size)}${item.visibility === 'public' ? ' · public' : ''}`)));
}

function uploader(onDone) {
	const input = h('input#upload-file', { type: 'file', name: 'file', multiple: true });
	const list = h('ul#uploads.list');
	const title = field('Title (optional; the file name otherwise)', 'title', { maxlength: 200 });
	const vis = field('Visibility', 'visibility', { tag: 'select', options: [['private', 'Only me'], ['public', 'Everyone signed in']] });
	const drop = h('div#dropzone.dropzone', { tabindex: 0 },
	    h('p', 'Drop files here, or ', h('label.linklike', { for: 'upload-file' }, 'pick them'), '.'),
	    input);
	const box = section('Upload', drop, h('div.row-fields', title, vis), list);
	const send = async (files) => {
		for (const f of files) {
			const bar = h('progress', { max: f.size || 1, value: 0, 'aria-label': `upload of ${f.name}` });
			const state = h('span.small', 'waiting');
			const li = h('li.upload', { dataset: { name: f.name } }, h('strong', f.name), bar, state);
			list.prepend(li);
			try {
				const v = { title: box.querySelector('[name=title]').value,
				    visibility: box.querySelector('[name=visibility]').value };
				state.textContent = 'sending';
				const item = await upload(f, v, bar, state);
				li.classList.add('done');
				state.textContent = 'stored';
				onDone(item);
			} catch (e) {
				li.classList.add('failed');
				state.textContent = e.detail ?? e.message;
				showError(li.closest('section'), e);
			}
		}
	};
	input.addEventListener('change', () => {
		send([...input.files]);
		input.value = '';
	});
	drop.addEventListener('dragover', (e) => {
		e.preventDefault();
		drop.classList.add('over');
	});
	drop.addEventListener('dragleave', () => drop.classList.remove('over'));
	drop.addEventListener('drop', (e) => {
		e.preventDefault();
		drop.classList.remove('over');
		send([...(e.dataTransfer?.files ?? [])]);
	});
	return box;
}

// XMLHttpRequest, not fetch: only it reports the upload's progress.  A
// server that asks for its DPoP nonce (the page had none of media's yet)
// is sent the file again once, with it.
function upload(file, v, bar, state, retried = false) {
	return new Promise((resolve, reject) => {
		authHeaders('POST', '/api/v1/media').then((hd) => {
			const fd = new FormData();
			if (v.title)
				fd.append('title', v.title);
			fd.append('visibility', v.visibility);
			fd.append('file', file, file.name);
			const x = new XMLHttpRequest();
			x.open('POST', '/api/v1/media');
			for (const [k, val] of Object.entries(hd))
				x.setRequestHeader(k, val);
			x.upload.addEventListener('progress', (e) => {
				if (!e.lengthComputable)
					return;
				bar.max = e.total;
				bar.value = e.loaded;
				state.textContent = `${Math.floor(e.loaded * 100 / e.total)} %`;
			});
			x.addEventListener('load', () => {
				let j = {};
				try {
					j = JSON.parse(x.responseText);
				} catch {
					j = { detail: `HTTP ${x.status}` };
				}
				dpop.learnNonce('/api/v1/media', { get: (k) => x.getResponseHeader(k) });
				if (x.status === 201)
					resolve(j);
				else if (x.status === 401 && !retried &&
				    /use_dpop_nonce/.test(x.getResponseHeader('WWW-Authenticate') ?? ''))
					upload(file, v, bar, state, true).then(resolve, reject);
				else
					reject(new ApiError(x.status, j));
			});
			x.addEventListener('error', () => reject(new Error('The upload was cut off (network).')));
			x.send(fd);
		}, reject);
	});
}

export async function gallery() {
	const grid = h('ul#gallery.tiles.gallery');
	const more = h('div.actions');
	const filters = form({ id: 'gallery-filter', class: 'inline' }, [
		field('Whose', 'owner', { tag: 'select', options: [['', 'Mine and public'], ['me', 'Mine']] }),
		field('Type', 'type', { tag: 'select', options: [['', 'Any'], 'image', 'video', 'audio', 'application'] }),
		h('button.secondary', { type: 'submit' }, 'Show'),
	], async (v) => {
		query = { owner: v.owner, type: v.type };
		clear(grid);
		await page(null);
	});
	let query = {};
	const page = async (cursor) => {
		const r = await get('/api/v1/media', { limit: PAGE, cursor, ...query });
		grid.append(...r.data.map(card));
		if (grid.children.length === 0)
			grid.append(h('li.small.empty', 'No media yet: upload something.'));
		clear(more, r.has_more ? button('More', async () => page(r.next_cursor), { class: 'secondary' }) : null);
	};
	await page(null);
	const up = uploader((item) => {
		grid.querySelector('.empty')?.remove();
		grid.prepend(card(item));
	});
	return h('div.stack', h('div.title-row', h('h1', 'Media'), h('a.button.secondary', { href: '#/media/stats' }, 'Stats')),
	    up, section('Gallery', filters, grid, more));
}

function player(item, src) {
	const kind = item.type.split('/')[0];
	if (kind === 'video')
		return h('video.preview', { src, controls: true, preload: 'metadata' });
	if (kind === 'audio')
		return h('audio.preview', { src, controls: true, preload: 'metadata' });
	if (kind === 'image')
		return h('img.preview', { src, alt: item.title || 'image' });
	return null;
}

// The file to show or play: owners and admins get a signed link, which
// the browser fetches in ranges as it plays; others (a public item of
// someone else) the bytes with the token, as a blob.
async function source(item, mine) {
	if (mine) {
		try {
			const l = await post(`/api/v1/media/${item.id}/links`, { expires_in: 3600 });
			return l.url;
		} catch (e) {
			if (!(e instanceof ApiError) || e.status !== 503)
				throw e;
		}
	}
	return blobUrl(item.url);
}

export async function item(id) {
	const it = await get(`/api/v1/media/${id}`);
	const me = auth.claims()?.sub;
	const mine = it.owner === me || auth.isAdmin();
	const kind = it.type.split('/')[0];
	const preview = h('div.preview-box');
	if (['image', 'video', 'audio'].includes(kind)) {
		source(it, mine).then((src) => clear(preview, player(it, src)),
		    (e) => clear(preview, h('p.form-error', e.detail ?? e.message)));
	} else {
		clear(preview, it.thumbnail ? thumb(it) : h('span.thumb-missing', it.type));
	}
	const head = h('div.title-row', h('h1#item-title', it.title || it.filename || 'Untitled'),
	    h('a.button.secondary', { href: '#/media' }, 'Back'));
	return h('div.stack', head,
	    h('section.card', preview,
		h('p', it.description || ''),
		h('dl.facts',
		    h('dt', 'Type'), h('dd', it.type), h('dt', 'Size'), h('dd', bytes(it.size)),
		    it.width ? [h('dt', 'Pixels'), h('dd', `${it.width} × ${it.height}`)] : null,
		    h('dt', 'Visibility'), h('dd#item-visibility', it.visibility),
		    h('dt', 'Uploaded'), h('dd', when(it.created_at)),
		    h('dt', 'SHA-256'), h('dd', h('code.wrap', it.sha256))),
		h('div.actions', button('Download', () => download(it, mine), { id: 'download' }))),
	    social(it), tags(it, mine), comments(it, me),
	    mine ? share(it) : null, mine ? edit(it, head) : null, mine ? remove(it) : null);
}

async function download(it, mine) {
	let href;
	if (mine) {
		try {
			const l = await post(`/api/v1/media/${it.id}/links`, { expires_in: 60 });
			href = `${l.url}&download=1`;
		} catch (e) {
			if (!(e instanceof ApiError) || e.status !== 503)
				throw e;
		}
	}
	if (href === undefined)
		href = await blobUrl(it.url);
	const a = h('a', { href, download: it.filename || 'download' });
	document.body.append(a);
	a.click();
	a.remove();
}

function social(it) {
	const likeBox = h('div.likes');
	const rateBox = h('div.rating');
	const showLikes = (l) => clear(likeBox,
	    button(l.liked_by_me ? '♥ Liked' : '♡ Like', async () => {
		if (l.liked_by_me) {
			await del(`/api/v1/media/${it.id}/likes`);
			showLikes(await get(`/api/v1/media/${it.id}/likes`));
		} else {
			showLikes(await post(`/api/v1/media/${it.id}/likes`));
		}
	    }, { id: 'like', 'aria-pressed': l.liked_by_me ? 'true' : 'false' }),
	    h('span#like-count', { dataset: { count: l.count } }, `${l.count} ${l.count === 1 ? 'like' : 'likes'}`));
	const showRating = (r) => clear(rateBox,
	    h('span.stars', { role: 'group', 'aria-label': 'your rating' },
		[1, 2, 3, 4, 5].map((n) => button(n <= (r.mine ?? 0) ? '★' : '☆', async () => {
			showRating(await put(`/api/v1/media/${it.id}/rating`, { stars: n }));
		}, { class: 'star', 'aria-label': `${n} star${n > 1 ? 's' : ''}`,
		    'aria-pressed': r.mine === n ? 'true' : 'false', dataset: { stars: n } }))),
	    h('span#rating-average', r.count === 0 ? 'not rated yet' :
		`${Number(r.average).toFixed(1)} from ${r.count}`),
	    r.mine ? button('withdraw', async () => {
		await del(`/api/v1/media/${it.id}/rating`);
		showRating(await get(`/api/v1/media/${it.id}/rating`));
	    }, { class: 'linklike' }) : null);
	get(`/api/v1/media/${it.id}/likes`).then(showLikes, (e) => clear(likeBox, e.detail));
	get(`/api/v1/media/${it.id}/rating`).then(showRating, (e) => clear(rateBox, e.detail));
	return section('Likes and rating', likeBox, rateBox);
}

function tags(it, mine) {
	const list = h('ul#tags.chips');
	const show = (names) => clear(list, names.length === 0 ? h('li.small', 'No tags.') :
	    names.map((t) => h('li.chip', h('span', t),
		mine ? button('×', async () => {
			await del(`/api/v1/media/${it.id}/tags/${enc(t)}`);
			show(await get(`/api/v1/media/${it.id}/tags`));
		}, { class: 'chip-x', 'aria-label': `remove tag ${t}` }) : null)));
	show(it.tags ?? []);
	return section('Tags', list, mine ? form({ id: 'tag-form', class: 'inline' }, [
		field('New tag', 'tag', { maxlength: 50 }),
		h('button', { type: 'submit' }, 'Add'),
	], async (v, f) => {
		if (v.tag.trim() === '')
			throw { detail: 'A tag needs a name.', errors: [{ field: 'tag', detail: 'empty' }] };
		show(await put(`/api/v1/media/${it.id}/tags/${enc(v.tag)}`));
		f.reset();
	}) : null);
}

function comments(it, me) {
	const list = h('ol#comments.comments');
	const more = h('div.actions');
	const count = h('span.small#comment-count');
	let total = 0;
	const showCount = (d) => {
		total += d;
		count.textContent = `${total} in all`;
	};
	const render = (c) => {
		const mine = c.user_id === me || auth.isAdmin();
		const li = h('li.comment', { dataset: { id: c.id } },
		    h('p.comment-body', c.body),
		    h('span.small', `${c.user_id === me ? 'you' : c.user_id.slice(0, 8)} · ${when(c.created_at)}`,
			c.edited || c.updated_at !== c.created_at ? ' (edited)' : ''),
		    mine ? h('span.comment-actions',
			button('Edit', async () => {
			    li.replaceWith(editComment(c, render));
			}, { class: 'linklike' }),
			button('Delete', async () => {
			    await del(`/api/v1/media/${it.id}/comments/${c.id}`);
			    li.remove();
			    showCount(-1);
			}, { class: 'linklike' })) : null);
		return li;
	};
	const load = async (cursor) => {
		const r = await get(`/api/v1/media/${it.id}/comments`, { limit: 20, cursor });
		list.append(...r.data.map(render));
		if (cursor === null)
			showCount(r.count ?? r.data.length);
		clear(more, r.has_more ? button('Older', () => load(r.next_cursor), { class: 'secondary' }) : null);
	};
	load(null).catch((e) => clear(list, h('li.form-error', e.detail ?? e.message)));
	return section('Comments', count, list, more, form({ id: 'comment-form' }, [
		field('Your comment', 'body', { tag: 'textarea', maxlength: 2000, rows: 3 }),
		h('div.actions', h('button', { type: 'submit' }, 'Comment')),
	], async (v, f) => {
		const c = await post(`/api/v1/media/${it.id}/comments`, { body: v.body });
		list.append(render(c));
		showCount(1);
		f.reset();
	}));

	function editComment(c, again) {
		const f = form({ class: 'comment-edit' }, [
			field('Comment', 'body', { tag: 'textarea', maxlength: 2000, rows: 3 }),
			h('div.actions', h('button', { type: 'submit' }, 'Save')),
		], async (v) => {
			const n = await patch(`/api/v1/media/${it.id}/comments/${c.id}`, { body: v.body });
			// Times are to the second: an edit within the second of
			// the comment has the same updated_at.
			wrap.replaceWith(again({ ...n, edited: true }));
		});
		f.querySelector('textarea').value = c.body;
		const wrap = h('li.comment', f);
		return wrap;
	}
}

function share(it) {
	const out = h('div#share-out');
	return section('Share link', h('p.small', 'Anyone with the link can open the file until it expires, without signing in.'),
	    form({ id: 'share-form', class: 'inline' }, [
		field('Valid for', 'expires_in', { tag: 'select', options: [['3600', 'an hour'],
		    ['86400', 'a day'], ['604800', 'a week']] }),
		h('button', { type: 'submit' }, 'Make a link'),
	    ], async (v) => {
		const l = await post(`/api/v1/media/${it.id}/links`, { expires_in: Number(v.expires_in) });
		const url = new URL(l.url, location.origin).toString();
		const input = h('input#share-url', { type: 'text', readonly: true, value: url });
		clear(out, input, h('span.small', `until ${when(l.expires_at)}`),
		    button('Copy', async () => {
			await navigator.clipboard.writeText(url);
			notice('Link copied.');
		    }, { class: 'secondary' }));
		input.select();
	    }), out);
}

function edit(it, head) {
	return section('Edit', form({ id: 'edit-form' }, [
		field('Title', 'title', { value: it.title, maxlength: 200 }),
		field('Description', 'description', { tag: 'textarea', maxlength: 5000, rows: 3,
		    value: it.description }),
		field('Visibility', 'visibility', { tag: 'select', options: [['private', 'Only me'],
		    ['public', 'Everyone signed in']], value: it.visibility }),
		h('div.actions', h('button', { type: 'submit' }, 'Save')),
	], async (v) => {
		const n = await patch(`/api/v1/media/${it.id}`, v);
		Object.assign(it, n);
		head.querySelector('h1').textContent = n.title || n.filename || 'Untitled';
		document.getElementById('item-visibility').textContent = n.visibility;
		notice('Saved.');
	}));
}

function remove(it) {
	const box = h('div.actions');
	const ask = () => clear(box, button('Delete this item', async () => {
		clear(box, h('span', 'Delete it and its file? '),
		    button('Yes, delete', async () => {
			await del(`/api/v1/media/${it.id}`);
			blobs.delete(it.url);
			notice('Deleted.');
			location.hash = '#/media';
		    }, { class: 'danger', id: 'delete-yes' }),
		    button('No', async () => ask(), { class: 'secondary' }));
	}, { class: 'danger', id: 'delete-item' }));
	ask();
	return section('Delete', box);
}

export async function stats() {
	const box = h('div#stats');
	const load = async (scope, days) => {
		const s = await get('/api/v1/media/stats', { scope, days });
		const byDay = [...s.by_day].reverse();
		clear(box,
		    h('p#stats-total', `${s.total.count} files, ${bytes(s.total.bytes)} in all`),
		    h('h3', 'By type'),
		    bars(s.by_type.map((t) => ({ label: t.type, value: t.bytes,
			text: `${bytes(t.bytes)} · ${t.count}` })), { title: 'bytes by type' }),
		    h('h3', `By day, the last ${s.days} days`),
		    bars(byDay.map((d) => ({ label: d.day, value: d.count,
			text: `${d.count} · ${bytes(d.bytes)}` })), { title: 'files by day' }));
	};
	const controls = form({ id: 'stats-form', class: 'inline' }, [
		field('Days', 'days', { type: 'number', min: 1, max: 366, value: 30 }),
		auth.isAdmin() ? field('Whose', 'scope', { tag: 'select', options: [['me', 'Mine'], ['all', 'Everyone\'s']] }) : null,
		h('button.secondary', { type: 'submit' }, 'Show'),
	], async (v) => load(v.scope ?? 'me', v.days));
	await load('me', 30);
	return h('div.stack', h('div.title-row', h('h1', 'Media stats'), h('a.button.secondary', { href: '#/media' }, 'Back')),
	    section('Your files', controls, box));
}
