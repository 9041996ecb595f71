// The Express worker of the benchmark peer (app.js forks one per core).
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const express = require('express')
const jwt = require('jsonwebtoken')
const pg = require('pg')

// bigint columns as numbers, as the answer shows them (node-postgres.com,
// "Data types": pg returns int8 as a string unless told).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => parseInt(v, 10))

const issuer = process.env.PEER_ISSUER || 'gatehouse'
const audience = process.env.PEER_AUDIENCE || 'gatehouse-api'

// The public keys, parsed once, by kid (the file name without .pub.pem).
const keys = new Map()
const keysDir = process.env.PEER_KEYS_DIR
for (const f of fs.readdirSync(keysDir)) {
  if (!f.endsWith('.pub.pem')) continue
  keys.set(f.slice(0, -'.pub.pem'.length),
    crypto.createPublicKey(fs.readFileSync(path.join(keysDir, f))))
}

function getKey (header, callback) {
  const key = keys.get(header.kid)
  if (key === undefined) callback(new Error('unknown key id'))
  else callback(null, key)
}

const verifyOptions = {
  algorithms: ['ES256'],
  issuer,
  audience,
  clockTolerance: 30
}

function problem (res, status, detail) {
  res.status(status).type('application/problem+json').json({
    type: 'about:blank', status, detail
  })
}

function authenticate (req, res, next) {
  const h = req.get('Authorization')
  if (h === undefined || !/^Bearer /i.test(h)) {
    res.set('WWW-Authenticate', 'Bearer realm="gatehouse"')
    return problem(res, 401, 'an access token is required')
  }
  jwt.verify(h.slice(7).trim(), getKey, verifyOptions, (err, claims) => {
    if (err || typeof claims.sub !== 'string' ||
        typeof claims.role !== 'string' || typeof claims.jti !== 'string' ||
        claims.cnf !== undefined) {
      res.set('WWW-Authenticate',
        'Bearer realm="gatehouse", error="invalid_token"')
      return problem(res, 401, err ? err.message : 'invalid token claims')
    }
    if (claims.role === 'client') {
      return problem(res, 403, "this needs a user's token, not a client's own")
    }
    req.user = claims
    next()
  })
}

const pool = new pg.Pool()

const SQL_GET =
  'SELECT p.reference, p.user_id, p.amount, p.currency, ' +
  'p.description, p.metadata, p.status, p.refunded_amount, ' +
  "to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, " +
  "to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at, " +
  'p.id FROM payments p ' +
  'WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)'

const app = express()
app.disable('x-powered-by')

app.get('/api/v1/payments/:reference', authenticate, async (req, res) => {
  const ref = req.params.reference
  if (!/^pay_[A-Za-z0-9_-]{22}$/.test(ref)) {
    return problem(res, 404, 'no such payment')
  }
  const owner = req.user.role === 'admin' ? null : req.user.sub
  const { rows } = await pool.query(SQL_GET, [ref, owner])
  if (rows.length === 0) return problem(res, 404, 'no such payment')
  const p = rows[0]
  res.json({
    reference: p.reference,
    user_id: p.user_id,
    amount: p.amount,
    currency: p.currency,
    description: p.description,
    metadata: p.metadata,
    status: p.status,
    refunded_amount: p.refunded_amount,
    created_at: p.created_at,
    updated_at: p.updated_at
  })
})

// Express 5 hands a rejected promise (the database down) to this.
app.use((err, req, res, next) => {
  console.error(err)
  problem(res, 503, 'database unavailable')
})

app.listen(Number(process.env.PEER_PORT), '127.0.0.1')
