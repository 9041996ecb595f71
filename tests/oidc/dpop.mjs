// DPoP (RFC 9449) against gatehouse, two ways.
//
//   node dpop.mjs rp KEYFILE CODE
//	The relying party: openid-client's own DPoP support exchanges the
//	code (the shell drove the browser part), then calls UserInfo,
//	refreshes, and reads payment and media with the bound token; it
//	also tries what the library lets a careless client do wrong.  The
//	P-256 key is made and written to KEYFILE (PEM) for the attacks.
//	Settings: OIDC_ISSUER, OIDC_SPA_ID, OIDC_SPA_REDIRECT,
//	OIDC_VERIFIER, OIDC_STATE, OIDC_NONCE.  Prints one JSON summary.
//
//   node dpop.mjs proofs KEYFILE HTM HTU ACCESS_TOKEN N
//	N good proofs, one a line (the bench's).
//
//   node dpop.mjs proof KEYFILE HTM HTU [ACCESS_TOKEN] [BENT]
//	Prints one proof made with node's crypto, by the key in KEYFILE
//	(made when missing), bent as BENT (JSON) says: {"typ": ..,
//	"alg": "none"|"HS256"|.., "private_jwk": true, "iat": offset,
//	"jti": .., "no_jti": true, "ath": .., "signer": KEYFILE2,
//	"htm": .., "htu": .., "nonce": ..}.
//
//   node dpop.mjs nonce SECRET SCOPE SLOT
//	Prints the nonce gatehouse makes for SCOPE ("token", "auth",
//	"payment", "media") in time slot SLOT with the key file line
//	SECRET (lib/gh_dpop_nonce.c), for the cases that bend nonces.
//
// With OIDC_DPOP_NONCE=1, rp also sends UserInfo one good proof without
// the nonce the server asked for, and reports what it answered.
import { Issuer, errors } from 'openid-client';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';

const b64 = (b) => Buffer.from(b).toString('base64url');

const keys = new Map();	// parsed once: the bench makes many proofs

function loadKey(file) {
	if (keys.has(file))
		return keys.get(file);
	if (!fs.existsSync(file)) {
		const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
		fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
	}
	keys.set(file, crypto.createPrivateKey(fs.readFileSync(file)));
	return keys.get(file);
}

function thumbprint(key) {
	const { crv, kty, x, y } = crypto.createPublicKey(key).export({ format: 'jwk' });
	return b64(crypto.createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest());
}

function proof(keyFile, htm, htu, token, bent = {}) {
	const key = loadKey(keyFile);
	const jwk = (bent.private_jwk ? key : crypto.createPublicKey(key)).export({ format: 'jwk' });
	const header = { typ: bent.typ ?? 'dpop+jwt', alg: bent.alg ?? 'ES256', jwk };
	const payload = {
		htm: bent.htm ?? htm, htu: bent.htu ?? htu,
		iat: Math.floor(Date.now() / 1000) + (bent.iat ?? 0),
		jti: bent.jti ?? crypto.randomUUID(),
	};
	if (bent.no_jti)
		delete payload.jti;
	if (bent.nonce !== undefined)
		payload.nonce = bent.nonce;
	if (token || bent.ath)
		payload.ath = bent.ath ?? b64(crypto.createHash('sha256').update(token).digest());
	const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
	let sig;
	if (header.alg === 'none')
		sig = '';
	else if (header.alg === 'HS256')	// keyed with the public key: anyone's MAC
		sig = b64(crypto.createHmac('sha256', JSON.stringify(jwk)).update(input).digest());
	else
		sig = b64(crypto.sign('sha256', Buffer.from(input),
		    { key: bent.signer ? loadKey(bent.signer) : key, dsaEncoding: 'ieee-p1363' }));
	return `${input}.${sig}`;
}

// gatehouse's stateless nonce: the slot, and a MAC of it and the scope
// by the SHA-256 of the key file's line.
function nonce(secret, scope, slot) {
	const key = crypto.createHash('sha256').update(secret).digest();
	const mac = crypto.createHmac('sha256', key)
	    .update(`gatehouse dpop nonce\n${scope}\n${slot}`).digest().subarray(0, 18);
	return `${slot}.${b64(mac)}`;
}

const env = (k) => {
	const v = process.env[k];
	if (!v)
		throw new Error(`${k} is not set`);
	return v;
};

// What an error of the library says: the server's error code, or why.
const said = (e) => e instanceof errors.OPError ? e.error : e instanceof errors.RPError ?
    `rp: ${e.message}` : String(e?.message ?? e);

async function rp(keyFile, code) {
	const key = loadKey(keyFile);
	const issuer = await Issuer.discover(env('OIDC_ISSUER'));
	const redirect = env('OIDC_SPA_REDIRECT');
	const spa = new issuer.Client({
		client_id: env('OIDC_SPA_ID'),
		token_endpoint_auth_method: 'none',
		id_token_signed_response_alg: 'ES256',
		redirect_uris: [redirect],
		response_types: ['code'],
	});
	const out = { algs: issuer.dpop_signing_alg_values_supported, jkt: thumbprint(key) };
	const ts = await spa.callback(redirect, { code, state: env('OIDC_STATE'), iss: issuer.issuer },
	    { code_verifier: env('OIDC_VERIFIER'), state: env('OIDC_STATE'), nonce: env('OIDC_NONCE') },
	    { DPoP: key });
	out.token_type = ts.token_type;
	out.access_token = ts.access_token;
	out.cnf_jkt = JSON.parse(Buffer.from(ts.access_token.split('.')[1], 'base64url')).cnf?.jkt;
	out.userinfo_sub = (await spa.userinfo(ts, { DPoP: key })).sub;
	out.userinfo_post_sub = (await spa.userinfo(ts, { DPoP: key, method: 'POST' })).sub;
	// The same token without the key, as a careless client would send it.
	out.userinfo_as_bearer = await spa.userinfo(ts.access_token, { tokenType: 'Bearer' })
	    .then(() => 'accepted', said);
	if (process.env.OIDC_DPOP_NONCE === '1') {
		// A good proof but for the nonce: the server must ask for it.
		const jwk = crypto.createPublicKey(key).export({ format: 'jwk' });
		const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
		const payload = { htm: 'GET', htu: issuer.userinfo_endpoint,
		    iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(),
		    ath: b64(crypto.createHash('sha256').update(ts.access_token).digest()) };
		const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
		const sig = b64(crypto.sign('sha256', Buffer.from(input),
		    { key, dsaEncoding: 'ieee-p1363' }));
		// Not requestResource: 5.7.1 retries a use_dpop_nonce without end.
		const res = await new Promise((resolve, reject) => {
			https.get(issuer.userinfo_endpoint, { headers: {
			    Authorization: `DPoP ${ts.access_token}`, DPoP: `${input}.${sig}` } },
			    (r) => { r.resume(); r.on('end', () => resolve(r)); }).on('error', reject);
		});
		out.userinfo_without_nonce = res.statusCode;
		out.userinfo_without_nonce_challenge = res.headers['www-authenticate'];
		out.userinfo_without_nonce_nonce = res.headers['dpop-nonce'] ?? null;
	}
	const base = new URL(issuer.issuer).origin;
	for (const [name, path] of [['payments', '/api/v1/payments'], ['media', '/api/v1/media']]) {
		const res = await spa.requestResource(`${base}${path}`, ts, { DPoP: key });
		out[`${name}_status`] = res.statusCode;
		const bearer = await spa.requestResource(`${base}${path}`, ts.access_token,
		    { tokenType: 'Bearer' });
		out[`${name}_as_bearer`] = bearer.statusCode;
		out[`${name}_as_bearer_challenge`] = bearer.headers['www-authenticate'];
	}
	// A refresh with another key than the session's: a thief's.
	const thief = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
	out.refresh_other_key = await spa.refresh(ts, { DPoP: thief }).then(() => 'accepted', said);
	out.refresh_no_key = await spa.refresh(ts).then(() => 'accepted', said);
	const ts2 = await spa.refresh(ts, { DPoP: key });
	out.refreshed_type = ts2.token_type;
	out.refreshed_jkt = JSON.parse(Buffer.from(ts2.access_token.split('.')[1], 'base64url')).cnf?.jkt;
	out.refreshed_userinfo_sub = (await spa.userinfo(ts2, { DPoP: key })).sub;
	out.refresh_token = ts2.refresh_token;
	out.ok = true;
	return out;
}

const [mode, keyFile, ...rest] = process.argv.slice(2);
if (mode === 'proofs') {
	// N proofs, one a line, for the bench (tests/bench/run).
	const [htm, htu, token, n] = rest;
	const lines = [];
	for (let i = 0; i < Number(n); i++)
		lines.push(proof(keyFile, htm, htu, token || null));
	fs.writeSync(1, lines.join('\n') + '\n');
} else if (mode === 'proof') {
	const [htm, htu, token, bent] = rest;
	console.log(proof(keyFile, htm, htu, token || null, bent ? JSON.parse(bent) : {}));
} else if (mode === 'nonce') {
	const [scope, slot] = rest;
	console.log(nonce(keyFile, scope, slot));
} else if (mode === 'rp') {
	rp(keyFile, rest[0]).then((out) => console.log(JSON.stringify(out)), (e) => {
		console.log(JSON.stringify({ ok: false, error: said(e),
		    detail: e?.error_description ?? null }));
		process.exitCode = 1;
	});
} else {
	console.error('usage: dpop.mjs rp KEYFILE CODE | proof KEYFILE HTM HTU [TOKEN] [BENT]');
	process.exitCode = 2;
}
