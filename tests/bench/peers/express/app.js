// A benchmark peer, not part of gatehouse: the authenticated read
// GET /api/v1/payments/:reference as an Express team writes it, to be
// measured beside gatehouse-payment by tests/bench/run (behind the same
// nginx, on the same database row).  Written the way the documentation
// of each piece shows it: Node's cluster with one worker per core
// (nodejs.org/api/cluster.html), an Express router with a middleware
// for the token (expressjs.com, "Writing middleware"), a pg Pool and
// one parameterized query (node-postgres.com, "Pooling", "Queries"),
// jsonwebtoken's verify with the algorithm, issuer and audience pinned
// and the key found by kid (its README, getKey).
//
// It does what gatehouse-payment does for this read (fcgi/payment/
// payments.c pay_get, lib/gh_auth.c): ES256 only, iss and aud checked,
// exp/nbf with 30 s of leeway, a token without sub, role or jti refused, a
// client's own token refused with 403, the owner filter (an admin sees
// every payment), 404 for a malformed or unknown reference, and the same
// JSON.  It does not read gatehouse's revocation list, log a line per
// request or check DPoP: gatehouse does all three.
//
// Environment: PEER_PORT (127.0.0.1), PEER_KEYS_DIR (<kid>.pub.pem
// files, as GH_JWT_PUBLIC_KEYS_DIR), PGHOST, PGPORT, PGDATABASE, PGUSER
// (libpq's names, which pg reads), PEER_ISSUER, PEER_AUDIENCE.
'use strict'

const cluster = require('node:cluster')
const path = require('node:path')
const { availableParallelism } = require('node:os')

cluster.setupPrimary({ exec: path.join(__dirname, 'server.js') })
const workers = Number(process.env.PEER_WORKERS) || availableParallelism()
for (let i = 0; i < workers; i++) cluster.fork()
cluster.on('exit', (worker, code, signal) => {
  console.error(`worker ${worker.process.pid} died (${signal || code})`)
})
