// Checks the exchanges the integration suite recorded against an OpenAPI
// 3.0 document: each answer's status must be one the operation lists, its
// content type one the response lists, the headers the response names
// must hold to their schemas (and be there when required), and a JSON
// body must be valid against its schema.  A path or method the document
// does not describe is a mismatch too; EXCLUDED below is everything that
// is not the API, in one place, each with its reason.
//
// The suite's req (tests/integration/lib.sh) writes one line per exchange
// to INDEX: case, method, effective URL, and the prefix of the headers
// (PREFIX.h, as curl -D wrote them) and body (PREFIX.b) files.
//
// usage: node check.mjs SPEC INDEX NGINX-ERRORS-CONF
// Prints each mismatch as "    FAIL case: spec: METHOD URL -> STATUS: why",
// one summary line, and exits 1 on any mismatch.
import { readFileSync } from 'node:fs';
import { bundle, createConfig } from '@redocly/openapi-core';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

// What the suite reaches that is not the API: whatever is outside /api/
// and the three documents under /.well-known/ is a static file nginx
// serves (the console from web/, the API reference and the spec under
// /docs/, the pages a mail's link opens, the media bytes of
// X-Accel-Redirect under /_media/).
//
// Not recorded at all, so not here: the requests openid-client makes
// from Node.js itself (tests/oidc/rp.mjs, dpop.mjs: the library checks
// the OAuth answers itself; what Chromium gets is recorded, by
// tests/oidc/chromium.mjs, as curl's is by req); the few
// curl calls a case kills or gives many URLs (t_console's rate limit of
// static files, t_media's and t_housekeeping's abandoned uploads); the
// http:// port (nginx's redirect and ACME files); hand-made requests over
// openssl s_client (malformed HTTP, slow clients).
const API = /^\/(api\/|\.well-known\/(jwks\.json|openid-configuration|oauth-authorization-server)$)/;
const STATIC = 'static files nginx serves (web/, /docs/, mail link pages, /_media/)';
const NO_ANSWER = 'no answer (the client gave up or was refused)';

// Answers no operation can list, which the spec's introduction describes:
// nginx's own errors (gatehouse-errors.conf: any path, a rate limit, a
// body over nginx's limit, a worker gone, a refused CORS preflight),
// told by their fixed detail, and its CORS preflights (generic() below);
// and a service router's 404 for a path it has not and 405 (with Allow)
// for a method a path has not.  Each must still be a valid Problem.
const GENERIC = [
	['nginx', (r, b) => nginxDetails.has(b.detail)],
	['router 404', (r, b) => r.status === '404' && b.detail === 'no such resource'],
	['router 405', (r, b) => r.status === '405' && r.headers.allow &&
	    / is not allowed here; allowed: /.test(b.detail)],
];

const [specPath, indexPath, nginxErrors] = process.argv.slice(2);
if (!specPath || !indexPath || !nginxErrors || process.argv.length !== 5) {
	console.error('usage: node check.mjs SPEC INDEX NGINX-ERRORS-CONF');
	process.exit(2);
}
const nginxDetails = new Set([...readFileSync(nginxErrors, 'utf8')
    .matchAll(/"detail":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`)));

const config = await createConfig({});
const { bundle: doc, problems } = await bundle({
	ref: specPath, config, dereference: true,
});
if (problems.some((p) => p.severity === 'error')) {
	for (const p of problems)
		console.error(`openapi-check: ${specPath}: ${p.message}`);
	process.exit(2);
}
const spec = doc.parsed;

// OpenAPI 3.0's schema object is a superset of a subset of JSON Schema
// draft 4/5: nullable (which Ajv knows), example, xml and friends (which
// Ajv is told to leave alone), and formats of its own.
const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'])
	ajv.addFormat(f, true);
const compiled = new WeakMap();
function validator(schema) {
	let v = compiled.get(schema);
	if (v === undefined) {
		v = ajv.compile(schema);
		compiled.set(schema, v);
	}
	return v;
}

// Templated paths as patterns, tried segment by segment literal first
// (as the routers do), so that /api/v1/media/stats is not taken for
// /api/v1/media/{id}, nor /api/v1/media/tags/likes for .../{id}/likes.
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const isParam = (seg) => seg.startsWith('{');
const routes = Object.keys(spec.paths).map((p) => ({
	template: p,
	segs: p.split('/'),
	re: new RegExp('^' + p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
	    .replace(/\\?\{[^}]+\\?\}/g, '[^/]*') + '$'),
})).sort((a, b) => {
	for (let i = 0; i < Math.min(a.segs.length, b.segs.length); i++) {
		const d = isParam(a.segs[i]) - isParam(b.segs[i]);
		if (d !== 0)
			return d;
	}
	return 0;
});

function route(pathname) {
	return routes.find((r) => r.re.test(pathname));
}

// The last response in a curl -D file (an interim 100 Continue may come
// first): its status and its headers, names in lower case.
function parseHeaders(text) {
	const blocks = text.replace(/\r/g, '').split(/\n\n+/)
	    .filter((b) => /^HTTP\//.test(b));
	if (blocks.length === 0)
		return null;
	const lines = blocks[blocks.length - 1].split('\n');
	const status = lines[0].split(' ')[1];
	const headers = {};
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		if (i <= 0)
			continue;
		const name = l.slice(0, i).trim().toLowerCase();
		(headers[name] ||= []).push(l.slice(i + 1).trim());
	}
	return { status, headers };
}

function mediaMatch(pattern, type) {
	if (pattern === '*/*' || pattern === type)
		return true;
	return pattern.endsWith('/*') &&
	    type.startsWith(pattern.slice(0, pattern.length - 1));
}

function ajvErrors(errors) {
	return errors.slice(0, 5).map((e) =>
	    `${e.instancePath || '(body)'} ${e.message}` +
	    (e.params && e.params.additionalProperty ?
	    ` (${e.params.additionalProperty})` : '')).join('; ');
}

// A header's value as its schema's type.
function headerValue(schema, v) {
	if (schema && (schema.type === 'integer' || schema.type === 'number') &&
	    /^-?[0-9]+(\.[0-9]+)?$/.test(v))
		return Number(v);
	return v;
}

// Every mismatch of one exchange with the operation, as strings.
function checkOperation(method, url, rec) {
	const out = [];
	const op = route(url.pathname);
	if (!op)
		return [`the spec has no path ${url.pathname}`];
	const item = spec.paths[op.template];
	const m = method.toLowerCase();
	const operation = item[m] || (m === 'head' ? item.get : undefined);
	if (!operation || !METHODS.includes(m))
		return [`the spec has no ${method} on ${op.template}`];
	const responses = operation.responses || {};
	const res = responses[rec.status] ||
	    responses[rec.status[0] + 'XX'] || responses.default;
	if (!res)
		return [`status ${rec.status} is not one of ${op.template}'s (` +
		    `${Object.keys(responses).join(', ')})`];
	for (const [name, h] of Object.entries(res.headers || {})) {
		const got = rec.headers[name.toLowerCase()];
		if (!got) {
			if (h.required)
				out.push(`no ${name} header, which the spec requires`);
			continue;
		}
		if (h.schema && !validator(h.schema)(headerValue(h.schema, got[0])))
			out.push(`header ${name}: '${got[0]}': ` +
			    ajvErrors(validator(h.schema).errors));
	}
	const ctype = (rec.headers['content-type'] || [''])[0]
	    .split(';')[0].trim().toLowerCase();
	const content = res.content || {};
	const types = Object.keys(content);
	if (m === 'head' || rec.status === '304')
		return out;
	if (types.length === 0) {
		if (rec.body.length > 0)
			out.push(`a body (${ctype || 'no content type'}, ` +
			    `${rec.body.length} bytes) where the spec describes none`);
		return out;
	}
	const type = types.find((t) => mediaMatch(t.toLowerCase(), ctype));
	if (!type) {
		out.push(`content type '${ctype}' is not one of ${types.join(', ')}`);
		return out;
	}
	const schema = content[type].schema;
	if (!schema || !/^application\/(.+\+)?json$/.test(ctype))
		return out;
	let body;
	try {
		body = JSON.parse(rec.body.toString('utf8'));
	} catch (e) {
		out.push(`the body is not JSON: ${e.message}`);
		return out;
	}
	const v = validator(schema);
	if (!v(body))
		out.push(`body: ${ajvErrors(v.errors)}`);
	return out;
}

// The generic answer an exchange is, if it is one, by GENERIC's name.
// nginx answers a CORS preflight of a listed origin itself, on any path:
// 204, no body, the origin allowed back.
function generic(method, rec) {
	if (method === 'OPTIONS' && rec.status === '204' && rec.body.length === 0 &&
	    rec.headers['access-control-allow-origin'])
		return 'CORS preflight';
	const ctype = (rec.headers['content-type'] || [''])[0].split(';')[0].trim();
	if (ctype !== 'application/problem+json')
		return null;
	let body;
	try {
		body = JSON.parse(rec.body.toString('utf8'));
	} catch {
		return null;
	}
	const g = GENERIC.find(([, test]) => test(rec, body));
	if (!g || String(body.status) !== rec.status ||
	    !validator(spec.components.schemas.Problem)(body))
		return null;
	return g[0];
}

let checked = 0, failed = 0;
const excluded = new Map();
const generics = new Map();
const failedCases = new Set();
const seen = new Set();
const count = (map, k) => map.set(k, (map.get(k) || 0) + 1);
const lines = readFileSync(indexPath, 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
	const [kase, method, href, prefix] = line.split('\t');
	// As sent: not through new URL(), which would take %2E%2E for a dot
	// segment and the path for another one.
	const m = /^[a-z]+:\/\/[^/?#]*([^?#]*)(\?[^#]*)?/i.exec(href);
	const url = { pathname: m ? m[1] || '/' : href, search: m && m[2] || '' };
	if (!API.test(url.pathname)) {
		count(excluded, STATIC);
		continue;
	}
	let rec;
	try {
		rec = parseHeaders(readFileSync(prefix + '.h', 'utf8'));
		if (rec)
			rec.body = readFileSync(prefix + '.b');
	} catch {
		rec = null;
	}
	if (!rec) {
		count(excluded, NO_ANSWER);
		continue;
	}
	checked++;
	let whys = checkOperation(method, url, rec);
	if (whys.length > 0) {
		const g = generic(method, rec);
		if (g) {
			count(generics, g);
			whys = [];
		}
	}
	// The spec's introduction: every answer carries one.
	if (!/^[0-9a-f]{32}$/.test((rec.headers['x-request-id'] || [''])[0]))
		whys.push('no X-Request-Id of 32 hex digits, which every answer has');
	for (const why of whys) {
		// One line for a mismatch however often a case repeats it.
		const key = `${kase} ${method} ${route(url.pathname)?.template} ${rec.status} ${why}`;
		if (seen.has(key))
			continue;
		seen.add(key);
		failed++;
		failedCases.add(kase);
		console.log(`    FAIL ${kase}: spec: ${method} ${url.pathname}${url.search}` +
		    ` -> ${rec.status}: ${why}`);
	}
}
for (const k of failedCases)
	console.log(`FAIL ${k} (its answers do not match docs/openapi.yaml)`);
const list = (map) => [...map].map(([why, n]) => `${n} ${why}`).join(', ');
console.log(`openapi-check: ${checked} exchanges checked against docs/openapi.yaml` +
    (generics.size ? ` (${list(generics)} generic errors)` : '') +
    `, ${failed} mismatches in ${failedCases.size} cases` +
    (excluded.size ? `; not checked: ${list(excluded)}` : ''));
process.exit(failed > 0 ? 1 : 0);
