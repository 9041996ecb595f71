-- auth: a feed of ended sessions and of users whose older tokens must stop
-- working, for the other services, which verify access tokens themselves
-- and cannot read auth's tables.  gatehouse-revoked follows it (LISTEN)
-- and writes what is live into a file every worker of every service reads.
--
-- Triggers, not the handlers, write it: whatever ends a session (sign-out,
-- "end all", a new password, reuse of a refresh token, an admin) or
-- disables, demotes or deletes a user is in the feed, however it was done.

CREATE TABLE revocations (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	session_id	uuid,
	user_id		uuid,
	-- For a user: tokens issued before this instant are refused.
	not_before	timestamptz,
	CHECK ((session_id IS NULL) <> (not_before IS NULL))
);
CREATE INDEX revocations_at_idx ON revocations (at);

CREATE FUNCTION revocations_notify() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
	-- An access token lives 15 minutes by default, a day at most: older
	-- entries protect nothing.
	DELETE FROM revocations WHERE at < now() - interval '1 day';
	PERFORM pg_notify('gatehouse_revoked', '');
	RETURN NULL;
END $$;

CREATE FUNCTION revocations_session() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO revocations (session_id, user_id)
	    VALUES (NEW.id, NEW.user_id);
	RETURN NULL;
END $$;

CREATE FUNCTION revocations_user() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
	-- Truncated to the second, as a token's iat is.
	INSERT INTO revocations (user_id, not_before)
	    VALUES (OLD.id, date_trunc('second', now()) + interval '1 second');
	RETURN NULL;
END $$;

CREATE TRIGGER sessions_revoked AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION revocations_session();

CREATE TRIGGER users_revoked AFTER UPDATE OF disabled, role ON users
    FOR EACH ROW WHEN ((NEW.disabled AND NOT OLD.disabled) OR
	(OLD.role = 'admin' AND NEW.role <> 'admin'))
    EXECUTE FUNCTION revocations_user();

CREATE TRIGGER users_deleted AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION revocations_user();

CREATE TRIGGER revocations_added AFTER INSERT ON revocations
    FOR EACH STATEMENT EXECUTE FUNCTION revocations_notify();
