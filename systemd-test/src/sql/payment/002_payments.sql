-- payment: currencies, payments, idempotency keys, the ledger and the
-- provider's webhook events.

-- ISO 4217 codes the service accepts, with their exponent (digits after
-- the decimal point): amounts are integers in the currency's minor unit.
CREATE TABLE currencies (
	code		char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	exponent	smallint NOT NULL CHECK (exponent BETWEEN 0 AND 4),
	name		text NOT NULL
);

INSERT INTO currencies (code, exponent, name) VALUES
	('AED', 2, 'UAE Dirham'),
	('ARS', 2, 'Argentine Peso'),
	('AUD', 2, 'Australian Dollar'),
	('BGN', 2, 'Bulgarian Lev'),
	('BHD', 3, 'Bahraini Dinar'),
	('BRL', 2, 'Brazilian Real'),
	('CAD', 2, 'Canadian Dollar'),
	('CHF', 2, 'Swiss Franc'),
	('CLP', 0, 'Chilean Peso'),
	('CNY', 2, 'Yuan Renminbi'),
	('COP', 2, 'Colombian Peso'),
	('CZK', 2, 'Czech Koruna'),
	('DKK', 2, 'Danish Krone'),
	('EGP', 2, 'Egyptian Pound'),
	('EUR', 2, 'Euro'),
	('GBP', 2, 'Pound Sterling'),
	('HKD', 2, 'Hong Kong Dollar'),
	('HUF', 2, 'Forint'),
	('IDR', 2, 'Rupiah'),
	('ILS', 2, 'New Israeli Sheqel'),
	('INR', 2, 'Indian Rupee'),
	('ISK', 0, 'Iceland Krona'),
	('JOD', 3, 'Jordanian Dinar'),
	('JPY', 0, 'Yen'),
	('KES', 2, 'Kenyan Shilling'),
	('KRW', 0, 'Won'),
	('KWD', 3, 'Kuwaiti Dinar'),
	('MAD', 2, 'Moroccan Dirham'),
	('MXN', 2, 'Mexican Peso'),
	('MYR', 2, 'Malaysian Ringgit'),
	('NGN', 2, 'Naira'),
	('NOK', 2, 'Norwegian Krone'),
	('NZD', 2, 'New Zealand Dollar'),
	('OMR', 3, 'Rial Omani'),
	('PEN', 2, 'Sol'),
	('PHP', 2, 'Philippine Peso'),
	('PKR', 2, 'Pakistan Rupee'),
	('PLN', 2, 'Zloty'),
	('QAR', 2, 'Qatari Rial'),
	('RON', 2, 'Romanian Leu'),
	('SAR', 2, 'Saudi Riyal'),
	('SEK', 2, 'Swedish Krona'),
	('SGD', 2, 'Singapore Dollar'),
	('THB', 2, 'Baht'),
	('TND', 3, 'Tunisian Dinar'),
	('TRY', 2, 'Turkish Lira'),
	('TWD', 2, 'New Taiwan Dollar'),
	('UAH', 2, 'Hryvnia'),
	('USD', 2, 'US Dollar'),
	('VND', 0, 'Dong'),
	('XAF', 0, 'CFA Franc BEAC'),
	('XOF', 0, 'CFA Franc BCEAO'),
	('ZAR', 2, 'Rand');

-- user_id is the token's subject: users live in the auth database, so
-- there is no foreign key to them.  Amounts stay within 2^53 - 1, the
-- largest integer every JSON client reads exactly.
CREATE TABLE payments (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	reference	text NOT NULL UNIQUE
	    CHECK (reference ~ '^pay_[A-Za-z0-9_-]{22}$'),
	user_id		uuid NOT NULL,
	amount		bigint NOT NULL
	    CHECK (amount > 0 AND amount <= 9007199254740991),
	currency	char(3) NOT NULL REFERENCES currencies (code),
	description	text CHECK (length(description) <= 500),
	metadata	jsonb NOT NULL DEFAULT '{}'
	    CHECK (jsonb_typeof(metadata) = 'object'
	    AND octet_length(metadata::text) <= 8192),
	status		text NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'processing', 'succeeded', 'failed',
	    'canceled', 'partially_refunded', 'refunded')),
	refunded_amount	bigint NOT NULL DEFAULT 0
	    CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'refunded') = (refunded_amount = amount)),
	CHECK ((status = 'partially_refunded') =
	    (refunded_amount > 0 AND refunded_amount < amount))
);
-- Lists are newest first, (created_at, id) as the cursor's order.
CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC, id DESC);
CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);

-- Idempotency-Key: a key is the caller's; the first request with it is
-- remembered with its body's hash and, when done, its answer.  A row
-- left in_progress by a worker that died is taken over after a while.
CREATE TABLE idempotency_keys (
	user_id		uuid NOT NULL,
	key		text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
	request_hash	text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
	state		text NOT NULL DEFAULT 'in_progress'
	    CHECK (state IN ('in_progress', 'done')),
	response_status	smallint,
	response_body	text,
	payment_id	uuid REFERENCES payments (id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	PRIMARY KEY (user_id, key),
	CHECK (state = 'in_progress' OR
	    (response_status IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- The ledger: one row per change of a payment, written in the same
-- transaction as the change, never updated nor deleted.
CREATE TABLE transactions (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	payment_id	uuid NOT NULL REFERENCES payments (id),
	kind		text NOT NULL
	    CHECK (kind IN ('created', 'status_change', 'refund', 'webhook')),
	from_status	text,
	to_status	text NOT NULL,
	amount		bigint NOT NULL DEFAULT 0 CHECK (amount >= 0),
	actor		text NOT NULL CHECK (actor IN ('owner', 'admin', 'provider')),
	actor_id	text NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 255),
	request_id	text CHECK (length(request_id) <= 128),
	reason		text CHECK (length(reason) <= 500),
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transactions_payment_idx ON transactions (payment_id, id);

CREATE FUNCTION transactions_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the ledger is append-only'
	    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER transactions_append_only
	BEFORE UPDATE OR DELETE ON transactions
	FOR EACH ROW EXECUTE FUNCTION transactions_append_only();

-- Provider events, by the provider's event id: each is applied once.
CREATE TABLE webhook_events (
	id		text PRIMARY KEY CHECK (id ~ '^[!-~]{1,255}$'),
	type		text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
	reference	text,
	result		text NOT NULL DEFAULT 'received'
	    CHECK (result IN ('received', 'applied', 'ignored')),
	sent_at		timestamptz NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
