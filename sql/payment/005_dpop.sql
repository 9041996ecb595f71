-- payment: DPoP proofs seen here (RFC 9449 11.1), so that a proof sent with
-- a DPoP-bound access token works once, at any worker of any host, until
-- it would be refused as too old anyway.  Unlogged: a crash or a failover
-- forgets at most one window of proofs, and a proof is written once per
-- request.  lib/gh_dpop.c writes and sweeps it.
CREATE UNLOGGED TABLE dpop_proofs (
	replay_key	bytea PRIMARY KEY CHECK (length(replay_key) = 32),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX dpop_proofs_expires_idx ON dpop_proofs (expires_at);
