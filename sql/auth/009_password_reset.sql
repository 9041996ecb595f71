-- auth: password reset.  A reset link carries a single-use token of 256
-- bits (auth_mail_token); this database keeps only its SHA-256, so a copy
-- of the table opens no account.  A token works once (used_at), until
-- expires_at (GH_PASSWORD_RESET_TTL, 30 minutes by default), and only
-- while it is the account's newest: a newer request voids the older ones
-- (voided_at), and so does anything that sets a password or changes the
-- address the link was mailed to (the triggers below).

CREATE TABLE password_resets (
	token_hash	bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- The admin who had it sent; NULL when the user asked.
	requested_by	uuid REFERENCES users (id) ON DELETE SET NULL,
	ip		text CHECK (length(ip) <= 64),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	voided_at	timestamptz,
	CHECK (used_at IS NULL OR voided_at IS NULL)
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id)
    WHERE used_at IS NULL AND voided_at IS NULL;
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);

-- A new password (a reset, a change, an admin's psql) ends every link
-- still open: password_changed_at says a password was set, which a
-- sign-in's rehash of the same password does not touch.  An address
-- changed away from the one a link went to ends it too: whoever reads
-- the old mailbox is no longer the account's.
CREATE FUNCTION password_resets_void() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
	UPDATE password_resets SET voided_at = now()
	    WHERE user_id = NEW.id AND used_at IS NULL AND voided_at IS NULL;
	RETURN NULL;
END $$;

CREATE TRIGGER users_password_set AFTER UPDATE OF password_changed_at ON users
    FOR EACH ROW
    WHEN (NEW.password_changed_at IS DISTINCT FROM OLD.password_changed_at)
    EXECUTE FUNCTION password_resets_void();

CREATE TRIGGER users_email_moved AFTER UPDATE OF email ON users
    FOR EACH ROW WHEN (lower(NEW.email) <> lower(OLD.email))
    EXECUTE FUNCTION password_resets_void();
