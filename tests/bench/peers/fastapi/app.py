"""A benchmark peer, not part of gatehouse.

The authenticated read GET /api/v1/payments/{reference} as a FastAPI team
writes it, measured beside gatehouse-payment by tests/bench/run (behind
the same nginx, on the same database row), with Debian 12's packages:
python3-fastapi, python3-uvicorn with uvloop and httptools, gunicorn with
uvicorn's worker class (one worker per core), python3-asyncpg and
python3-jwt.  Written the way their documentation shows it: an
HTTPBearer security dependency that decodes the token with PyJWT
(FastAPI's "OAuth2 with Password, Bearer with JWT tokens" tutorial, here
with ES256 and the public keys), the key picked by the header's kid
(PyJWT's get_unverified_header), an asyncpg pool made at startup with a
jsonb codec (asyncpg's "Custom Type Conversions") and one query with
parameters.

It does what gatehouse-payment does for this read (fcgi/payment/
payments.c pay_get, lib/gh_auth.c): ES256 only, iss and aud checked,
exp and nbf with 30 s of leeway, a token without sub, role or jti
refused, a client's own token refused with 403, the owner filter (an
admin sees every payment), 404 for a malformed or unknown reference,
and the same JSON.  It does not read gatehouse's revocation list, log a line per
request or check DPoP: gatehouse does all three.

Environment: PEER_KEYS_DIR (<kid>.pub.pem files, as
GH_JWT_PUBLIC_KEYS_DIR), PGHOST, PGPORT, PGDATABASE, PGUSER (libpq's
names, which asyncpg reads), PEER_ISSUER, PEER_AUDIENCE.
"""
import json
import os
import re
from pathlib import Path

import asyncpg
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = os.environ.get("PEER_ISSUER", "gatehouse")
AUDIENCE = os.environ.get("PEER_AUDIENCE", "gatehouse-api")

# The public keys, parsed once, by kid (the file name without .pub.pem).
KEYS = {
    p.name[: -len(".pub.pem")]: load_pem_public_key(p.read_bytes())
    for p in Path(os.environ["PEER_KEYS_DIR"]).glob("*.pub.pem")
}

REFERENCE = re.compile(r"pay_[A-Za-z0-9_-]{22}")

SQL_GET = """
SELECT p.reference, p.user_id, p.amount, p.currency, p.description,
    p.metadata, p.status, p.refunded_amount,
    to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        AS created_at,
    to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        AS updated_at,
    p.id
FROM payments p
WHERE p.reference = $1 AND ($2::uuid IS NULL OR p.user_id = $2)
"""

app = FastAPI()
bearer = HTTPBearer()


async def init_connection(conn):
    await conn.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


@app.on_event("startup")
async def startup():
    app.state.pool = await asyncpg.create_pool(init=init_connection)


@app.on_event("shutdown")
async def shutdown():
    await app.state.pool.close()


def invalid_token(detail):
    return HTTPException(
        status_code=401,
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="gatehouse", error="invalid_token"'},
    )


async def current_user(
    credentials: HTTPAuthorizationCredentials = Depends(bearer),
):
    token = credentials.credentials
    try:
        key = KEYS.get(jwt.get_unverified_header(token).get("kid"))
        if key is None:
            raise invalid_token("unknown key id")
        claims = jwt.decode(
            token,
            key,
            algorithms=["ES256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=30,
            options={"require": ["exp", "iss", "aud", "sub", "jti"]},
        )
    except jwt.InvalidTokenError as e:
        raise invalid_token(str(e))
    if not isinstance(claims.get("role"), str) or "cnf" in claims:
        raise invalid_token("invalid token claims")
    if claims["role"] == "client":
        raise HTTPException(
            status_code=403, detail="this needs a user's token, not a client's own"
        )
    return claims


@app.get("/api/v1/payments/{reference}")
async def get_payment(reference: str, user: dict = Depends(current_user)):
    if not REFERENCE.fullmatch(reference):
        raise HTTPException(status_code=404, detail="no such payment")
    owner = None if user["role"] == "admin" else user["sub"]
    row = await app.state.pool.fetchrow(SQL_GET, reference, owner)
    if row is None:
        raise HTTPException(status_code=404, detail="no such payment")
    return {
        "reference": row["reference"],
        "user_id": str(row["user_id"]),
        "amount": row["amount"],
        "currency": row["currency"],
        "description": row["description"],
        "metadata": row["metadata"],
        "status": row["status"],
        "refunded_amount": row["refunded_amount"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
