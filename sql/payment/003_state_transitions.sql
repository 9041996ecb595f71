-- payment: the state machine, enforced by PostgreSQL too.
--
-- The service changes a status only in an UPDATE that names the statuses
-- it may start from, taken from its table (fcgi/payment/state.c).  This
-- table holds the same changes, and a trigger refuses any other, so that
-- no statement of the app role (a bug, an UPDATE typed by hand) moves a
-- payment from pending to refunded.  The integration suite compares the
-- two tables (gatehouse-payment --transitions prints the service's).
-- A change of the machine is a new migration and a change of state.c.

CREATE TABLE payment_transitions (
	from_status	text NOT NULL,
	to_status	text NOT NULL,
	PRIMARY KEY (from_status, to_status),
	-- keeping a status is no change (a second partial refund)
	CHECK (from_status <> to_status)
);

INSERT INTO payment_transitions (from_status, to_status) VALUES
	('pending', 'processing'),
	('pending', 'succeeded'),
	('pending', 'failed'),
	('pending', 'canceled'),
	('processing', 'succeeded'),
	('processing', 'failed'),
	('processing', 'canceled'),
	('succeeded', 'partially_refunded'),
	('succeeded', 'refunded'),
	('partially_refunded', 'refunded');

-- The app role reads the machine and never changes it.  Default privileges
-- give it writes on every table, and gatehouse-db-setup grants them again
-- on each run, so a REVOKE here would not last: the refusal is a trigger,
-- which holds whatever the grants say.  The table's owner (migrations) and
-- superusers get past it.
CREATE FUNCTION payment_transitions_read_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT pg_has_role(current_user, (SELECT c.relowner FROM pg_class c
	    WHERE c.oid = TG_RELID), 'MEMBER') THEN
		RAISE EXCEPTION 'payment_transitions is changed by migrations only'
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER payment_transitions_read_only
	BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON payment_transitions
	FOR EACH STATEMENT EXECUTE FUNCTION payment_transitions_read_only();

-- A payment starts where no change leads (pending), and changes status
-- only along payment_transitions.  check_violation, as the table's CHECKs
-- answer: the service's own UPDATEs never meet it (they start only from
-- the allowed statuses), so it means a statement outside the machine.
CREATE FUNCTION payments_status_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF EXISTS (SELECT FROM payment_transitions t
		    WHERE t.to_status = NEW.status) THEN
			RAISE EXCEPTION 'a payment cannot start as %', NEW.status
			    USING ERRCODE = 'check_violation',
			    TABLE = 'payments', COLUMN = 'status';
		END IF;
	ELSIF NOT EXISTS (SELECT FROM payment_transitions t
	    WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
		RAISE EXCEPTION 'payment % cannot go from % to %',
		    OLD.reference, OLD.status, NEW.status
		    USING ERRCODE = 'check_violation',
		    TABLE = 'payments', COLUMN = 'status',
		    HINT = 'the allowed changes are in payment_transitions';
	END IF;
	RETURN NEW;
END
$$;
-- The service's own inserts take the column's default, pending (002):
-- the WHEN spares them the function's call, which still decides from
-- the table for any other status.
CREATE TRIGGER payments_status_created
	BEFORE INSERT ON payments
	FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM 'pending')
	EXECUTE FUNCTION payments_status_transition();
CREATE TRIGGER payments_status_transition
	BEFORE UPDATE ON payments
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION payments_status_transition();
