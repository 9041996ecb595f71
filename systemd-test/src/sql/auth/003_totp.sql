-- auth: a second factor, TOTP (RFC 6238), and one-time recovery codes.

CREATE TABLE user_totp (
	user_id		uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret		bytea NOT NULL CHECK (length(secret) = 20),
	confirmed_at	timestamptz,
	-- The last time step accepted: a code is never accepted twice.
	last_step	bigint NOT NULL DEFAULT 0,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recovery_codes (
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash	bytea NOT NULL CHECK (length(code_hash) = 32),
	used_at		timestamptz,
	PRIMARY KEY (user_id, code_hash)
);
