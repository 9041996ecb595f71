// Calls to gatehouse's API: each with the access token as
// "Authorization: DPoP" and a fresh proof; every error as an ApiError that
// carries the problem's detail and errors[] (RFC 9457), which the forms
// show next to their fields.
import * as auth from './auth.js';
import * as dpop from './dpop.js';

export class ApiError extends Error {
	constructor(status, problem) {
		const detail = problem.detail ?? problem.error_description ??
		    problem.title ?? `HTTP ${status}`;
		super(detail);
		this.status = status;
		this.detail = detail;
		this.errors = Array.isArray(problem.errors) ? problem.errors : [];
		this.problem = problem;
	}
}

// A few requests at a time: nginx limits each client's rate and the
// number of requests it has in progress.
const MAX_AT_ONCE = 4;
let running = 0;
const waiting = [];

async function limited(fn) {
	if (running >= MAX_AT_ONCE)
		await new Promise((resolve) => waiting.push(resolve));
	running++;
	try {
		return await fn();
	} finally {
		running--;
		waiting.shift()?.();
	}
}

export async function problemOf(res) {
	let p = {};
	try {
		p = await res.json();
	} catch {
		p = { detail: `${res.status} ${res.statusText || 'error'}` };
	}
	return new ApiError(res.status, p);
}

// The headers that authenticate one request (for XMLHttpRequest uploads).
export async function authHeaders(method, path) {
	const at = await auth.accessToken();
	return { Authorization: `DPoP ${at}`, DPoP: await dpop.proof(method, path, at) };
}

function withQuery(path, query) {
	if (!query)
		return path;
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) {
		if (v !== undefined && v !== null && v !== '')
			q.set(k, String(v));
	}
	const s = q.toString();
	return s === '' ? path : `${path}?${s}`;
}

// api(method, path, {json, query, headers, body, full, anonymous}):
// the parsed body (null for 204), or with full {status, headers, body}.
export async function api(method, path, opts = {}) {
	const url = withQuery(path, opts.query);
	let nonceTries = 0;
	for (let attempt = 0; ; attempt++) {
		const headers = { ...(opts.headers ?? {}) };
		let body = opts.body;
		if (opts.json !== undefined) {
			headers['Content-Type'] = 'application/json';
			body = JSON.stringify(opts.json);
		}
		if (!opts.anonymous)
			Object.assign(headers, await authHeaders(method, path));
		const res = await limited(() => fetch(url, { method, headers, body,
		    cache: 'no-store' }));
		dpop.learnNonce(url, res.headers);
		// The server asks for its nonce (RFC 9449 9): refused before
		// anything was done, so sent again with the one it gave, once.
		if (res.status === 401 && !opts.anonymous && nonceTries++ === 0 &&
		    /use_dpop_nonce/.test(res.headers.get('WWW-Authenticate') ?? '')) {
			attempt--;
			continue;
		}
		// An access token refused as expired or ended: refresh once (a
		// refused refresh means the session is over: SignedOut).
		if (res.status === 401 && !opts.anonymous && attempt === 0 &&
		    /invalid_token/.test(res.headers.get('WWW-Authenticate') ?? '')) {
			await auth.refresh();
			continue;
		}
		if (!res.ok && res.status !== 304)
			throw await problemOf(res);
		let out = null;
		if (opts.blob)
			out = await res.blob();
		else if (res.status !== 204 && res.status !== 304 &&
		    /json/.test(res.headers.get('Content-Type') ?? ''))
			out = await res.json();
		return opts.full ? { status: res.status, headers: res.headers, body: out } : out;
	}
}

export const get = (path, query, o = {}) => api('GET', path, { ...o, query });
export const post = (path, json, o = {}) => api('POST', path, { ...o, json });
export const patch = (path, json, o = {}) => api('PATCH', path, { ...o, json });
export const put = (path, json, o = {}) => api('PUT', path, { ...o, json });
export const del = (path, json, o = {}) => api('DELETE', path, { ...o, json });

export const enc = encodeURIComponent;
