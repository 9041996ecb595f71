-- auth: e-mail verification and e-mail change.
--
-- An address is verified when a link mailed to it was opened
-- (users.email_verified_at); a new address replaces the old one only once
-- a link mailed to the new one was opened, and the old one gets a notice
-- with a link that undoes the change.  The links carry single-use tokens
-- of 256 bits that this database keeps only as their SHA-256.
--
-- Accounts made before this migration are unverified: nobody ever proved
-- that their address is theirs, and email_verified reaches relying
-- parties in ID tokens, where a false "true" lets one account be taken
-- for another.  They verify as a new account does (a resend, or the mail
-- an unverified sign-in sends when GH_AUTH_REQUIRE_VERIFIED_EMAIL is on).

ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- purpose, and what email is for each:
--   verify  the address the link was mailed to; good only while it is
--           still the account's address
--   change  the new address, waiting for its confirmation
--   undo    the old address, which the link puts back
-- A token is spent once (used_at), or voided (voided_at) when a newer
-- link replaces it or a change makes it moot.  An undo token that is
-- live holds its address: no other account may take it until the token
-- is used or expires, or a thief who changed the address could sign up
-- with the old one and make the undo fail.
CREATE TABLE email_tokens (
	token_hash	bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	purpose		text NOT NULL
	    CHECK (purpose IN ('verify', 'change', 'undo')),
	email		text NOT NULL
	    CHECK (mail_address_problem(email) IS NULL),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	voided_at	timestamptz,
	CHECK (expires_at > created_at),
	CHECK (used_at IS NULL OR voided_at IS NULL)
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose)
    WHERE used_at IS NULL AND voided_at IS NULL;
CREATE INDEX email_tokens_held_idx ON email_tokens (lower(email))
    WHERE purpose = 'undo' AND used_at IS NULL AND voided_at IS NULL;
CREATE INDEX email_tokens_expires_idx ON email_tokens (expires_at);

-- Every way an address gets onto an account (sign-up, a confirmed
-- change, an undo, an admin, psql) passes here:
--  - an address the mail outbox would refuse is refused, so that every
--    account can be mailed (the service says so first, naming the field;
--    rows from before keep their address until it changes);
--  - an address another account's live undo token holds is as taken as
--    one in use (the same unique violation, so the service answers 409);
--  - a changed address is unverified, unless the same statement says
--    when it was verified (a change of case only is the same mailbox).
CREATE FUNCTION users_email_rules() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
	why	text;
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.email IS NOT DISTINCT FROM OLD.email THEN
		RETURN NEW;
	END IF;
	why := mail_address_problem(NEW.email);
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'users: the e-mail address %', why
		    USING ERRCODE = 'check_violation', COLUMN = 'email',
		    CONSTRAINT = 'users_email_mailable';
	END IF;
	IF EXISTS (SELECT 1 FROM email_tokens t
	    WHERE lower(t.email) = lower(NEW.email) AND t.purpose = 'undo'
	    AND t.used_at IS NULL AND t.voided_at IS NULL
	    AND t.expires_at > now() AND t.user_id <> NEW.id) THEN
		RAISE EXCEPTION 'users: the e-mail address is held for an undo'
		    USING ERRCODE = 'unique_violation',
		    CONSTRAINT = 'users_email_lower_key';
	END IF;
	IF TG_OP = 'UPDATE' AND lower(NEW.email) <> lower(OLD.email) AND
	    NEW.email_verified_at IS NOT DISTINCT FROM OLD.email_verified_at
	    THEN
		NEW.email_verified_at := NULL;
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER users_email_rules BEFORE INSERT OR UPDATE OF email ON users
    FOR EACH ROW EXECUTE FUNCTION users_email_rules();
