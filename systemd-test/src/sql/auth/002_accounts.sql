-- auth: accounts, sessions (refresh-token families) and the audit trail.

CREATE TABLE users (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	username		text NOT NULL
	    CHECK (username ~ '^[A-Za-z0-9._-]{3,40}$'),
	email			text NOT NULL
	    CHECK (length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
	password_hash		text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
	role			text NOT NULL DEFAULT 'user'
	    CHECK (role IN ('user', 'admin')),
	disabled		boolean NOT NULL DEFAULT false,
	failed_logins		integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until		timestamptz,
	password_changed_at	timestamptz NOT NULL DEFAULT now(),
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now()
);
-- Unique without regard to case: "Alice" must not impersonate "alice".
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_created_idx ON users (created_at, id);

-- A session is one sign-in: the family of refresh tokens rotated from it.
CREATE TABLE sessions (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_used_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz,
	revoked_reason	text,
	ip		text,
	user_agent	text CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at DESC);

-- Refresh tokens are stored only as SHA-256 hashes.  A token is retired
-- when rotated; presenting a retired one again (outside the grace window)
-- means it was stolen, and the whole family is revoked (RFC 9700).
CREATE TABLE refresh_tokens (
	token_hash	bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	session_id	uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	retired_at	timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Failed sign-ins, counted by the identifier typed whether an account has
-- it or not, so throttling tells nothing about which accounts exist.
CREATE TABLE login_throttle (
	key		text PRIMARY KEY CHECK (length(key) <= 300),
	failures	integer NOT NULL DEFAULT 0,
	locked_until	timestamptz,
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- Fixed-window counters for other throttled lookups (availability).
CREATE TABLE rate_counters (
	key		text PRIMARY KEY CHECK (length(key) <= 300),
	window_start	timestamptz NOT NULL DEFAULT now(),
	hits		integer NOT NULL DEFAULT 0
);

-- No foreign key to users: the trail outlives the accounts it speaks of.
CREATE TABLE audit_log (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	event		text NOT NULL,
	user_id		uuid,
	actor_id	uuid,
	ip		text,
	request_id	text,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, at);

