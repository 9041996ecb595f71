-- auth: the mail outbox.  The auth service queues a message with
-- mail_enqueue() in the same transaction as the change it tells of (a
-- sign-up, a reset request), so a message exists if and only if the
-- change committed; gatehouse-mailer delivers it to the SMTP relay.
--
-- Grants: the table gets the app role's rights from the owner's default
-- privileges, like every table.  The functions keep PostgreSQL's default
-- EXECUTE for PUBLIC: only the owner and gatehouse_auth_app may connect
-- to this database, and they run as their caller (SECURITY INVOKER), so
-- calling one grants nothing the caller could not do by hand.

-- Why an address is refused, or NULL.  The rules live here once, for the
-- table's check and for mail_enqueue, which names the one broken.  Only
-- plain ASCII addresses are taken for now: internationalised ones (UTF-8
-- local parts, RFC 6531 SMTPUTF8) and IDN domains not in their A-label
-- (xn--) form are refused, and so are quoted local parts, address
-- literals ([192.0.2.1]) and anything that would need quoting in a
-- header or break an envelope (<x>y@z).
CREATE FUNCTION mail_address_problem(addr text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
	WHEN addr IS NULL THEN 'is missing'
	WHEN addr ~ '[\x01-\x1f\x7f]' THEN
	    'has a control character (CR, LF, tab, ...)'
	WHEN addr ~ '[^\x01-\x7e]' THEN
	    'is not plain ASCII (internationalised addresses are refused for now)'
	WHEN octet_length(addr) > 254 THEN 'is longer than 254 characters'
	WHEN addr !~ '^[^@]+@[^@]+$' THEN
	    'does not have exactly one @ with text on both sides'
	WHEN addr ~ '[ "(),:;<>\[\\\]]' THEN
	    'has a space or a character that would need quoting'
	ELSE NULL
END;

-- Why a template name is refused, or NULL.  The mailer reads
-- <name>.subject, .txt and .html from its folder: the name can never be
-- a path.
CREATE FUNCTION mail_template_problem(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
	WHEN name IS NULL THEN 'is missing'
	WHEN name !~ '^[a-z][a-z0-9_]{0,40}$' THEN
	    'is not a lower-case name of up to 41 letters, digits and _'
	ELSE NULL
END;

-- state: queued (waiting for next_attempt_at), sending (taken by a
-- mailer until locked_until; lease_id tells which claim holds it, so a
-- mailer whose lease ran out and was taken again cannot write over the
-- new holder), sent, or failed (last_error says why).
CREATE TABLE mail_outbox (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	-- Made once at enqueue and sent with every attempt, so a copy sent
	-- again after a crash is recognisable as the same message.
	message_id	text NOT NULL UNIQUE
	    CHECK (message_id ~ '^<[0-9a-f-]{36}@[A-Za-z0-9.-]{1,253}>$'),
	to_addr		text NOT NULL
	    CONSTRAINT mail_outbox_to_addr_check
	    CHECK (mail_address_problem(to_addr) IS NULL),
	template	text NOT NULL
	    CONSTRAINT mail_outbox_template_check
	    CHECK (mail_template_problem(template) IS NULL),
	params		jsonb NOT NULL DEFAULT '{}'
	    CHECK (jsonb_typeof(params) = 'object' AND
	    pg_column_size(params) <= 65536),
	state		text NOT NULL DEFAULT 'queued'
	    CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	locked_until	timestamptz,
	lease_id	uuid,
	last_error	text CHECK (length(last_error) <= 1000),
	created_at	timestamptz NOT NULL DEFAULT now(),
	sent_at		timestamptz,
	CHECK ((state = 'sent') = (sent_at IS NOT NULL)),
	CHECK (state <> 'sending' OR
	    (locked_until IS NOT NULL AND lease_id IS NOT NULL))
);
-- What the mailers look for: messages due, leases run out, and what the
-- purge removes.
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at)
    WHERE state = 'queued';
CREATE INDEX mail_outbox_lease_idx ON mail_outbox (locked_until)
    WHERE state = 'sending';
CREATE INDEX mail_outbox_sent_idx ON mail_outbox (sent_at)
    WHERE state = 'sent';
CREATE INDEX mail_outbox_failed_idx ON mail_outbox (created_at)
    WHERE state = 'failed';

-- Queues one message and wakes the mailers; returns its id.  A refused
-- address or template name is SQLSTATE 23514 (422 through gh_db_status),
-- params that are not an object 22023 (400).  The Message-ID's domain is
-- the database's setting gatehouse.mail_domain (ALTER DATABASE
-- gatehouse_auth SET gatehouse.mail_domain = 'example.com'), else
-- gatehouse.invalid; the mailer warns at start when it is not set.
CREATE FUNCTION mail_enqueue(to_addr text, template text, params jsonb)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER
    SET search_path = public, pg_temp
AS $$
DECLARE
	why	text;
	new_id	uuid := gen_random_uuid();
	domain	text := current_setting('gatehouse.mail_domain', true);
BEGIN
	why := mail_address_problem(to_addr);
	IF why IS NOT NULL THEN
		-- The address itself stays out of the message: it may hold
		-- the very characters that are refused.
		RAISE EXCEPTION 'mail_enqueue: the address %', why
		    USING ERRCODE = 'check_violation', COLUMN = 'to_addr',
		    CONSTRAINT = 'mail_outbox_to_addr_check';
	END IF;
	why := mail_template_problem(template);
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'mail_enqueue: the template name %', why
		    USING ERRCODE = 'check_violation', COLUMN = 'template',
		    CONSTRAINT = 'mail_outbox_template_check';
	END IF;
	IF params IS NOT NULL AND jsonb_typeof(params) <> 'object' THEN
		RAISE EXCEPTION 'mail_enqueue: params must be a JSON object'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF domain IS NULL OR
	    domain !~ '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$' THEN
		domain := 'gatehouse.invalid';
	END IF;
	INSERT INTO mail_outbox (id, message_id, to_addr, template, params)
	    VALUES (new_id, '<' || new_id::text || '@' || domain || '>',
	    to_addr, template, coalesce(params, '{}'));
	-- Delivered to the listeners when this transaction commits, never
	-- before: a mailer cannot look for a row it could not see yet.
	PERFORM pg_notify('gatehouse_mail', new_id::text);
	RETURN new_id;
END
$$;
