-- media: the grants spent here (lib/gh_grant.h), so that a grant of the
-- password works once.  The action that takes a grant writes its jti in
-- the action's own transaction: an action that fails or rolls back
-- leaves the grant good, and of two requests with one grant the second
-- waits on the key and then finds it taken.  A row is kept until the
-- grant would be refused as expired anyway (its exp with the verifier's
-- leeway); `gatehouse-media --sweep` removes it after that.
--
-- Logged, unlike dpop_proofs: the row commits with a deletion of media,
-- and a crash that kept the deletion but forgot the row would let the
-- grant delete again (media uploaded since, too).
CREATE TABLE used_grants (
	jti		text PRIMARY KEY CHECK (jti ~ '^[!-~]{1,63}$'),
	purpose		text NOT NULL CHECK (purpose ~ '^[a-z_]{1,31}$'),
	used_at		timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);
CREATE INDEX used_grants_expires_idx ON used_grants (expires_at);
