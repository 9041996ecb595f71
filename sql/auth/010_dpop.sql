-- auth: DPoP (RFC 9449), sender-constrained tokens.
--
-- A client may be registered to always use DPoP (RFC 9449 5.2's client
-- metadata of that name): its token requests without a proof are refused.
ALTER TABLE oauth_clients
    ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;

-- The key a public client's refresh tokens are bound to (its RFC 7638
-- thumbprint): every refresh of the session must prove it (RFC 9449 5).
-- A confidential client proves itself with its secret instead, so its
-- sessions are not bound; each access token still is, to the proof it
-- was asked with.
ALTER TABLE sessions
    ADD COLUMN dpop_jkt text CHECK (dpop_jkt ~ '^[A-Za-z0-9_-]{43}$');

-- DPoP proofs seen at the token endpoint and at UserInfo, until they
-- would be refused as too old anyway (RFC 9449 11.1): shared by every
-- worker of every host.  Unlogged: a crash or a failover forgets at most
-- one window of proofs, and a proof is written once per request.
CREATE UNLOGGED TABLE dpop_proofs (
	replay_key	bytea PRIMARY KEY CHECK (length(replay_key) = 32),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX dpop_proofs_expires_idx ON dpop_proofs (expires_at);
