-- media: the Idempotency-Keys of uploads, as payment keeps its own
-- (lib/gh_idem.h has how a key is used).  A key is its user's; the first
-- upload with it is remembered with a hash of what it stored (the file's
-- SHA-256 and size, title, description, visibility, file name) and, once
-- committed, its answer, so that a client that lost the answer and sends
-- the upload again gets the same item, not a second one.  claim_pid is
-- the database session of a claim in progress: one whose session has gone
-- can never commit and is taken over at once.
--
-- media_id has no foreign key on purpose: the answer stands for its
-- lifetime even if the item is deleted meanwhile (a late retry of an
-- upload that happened must not store it again).  An account's keys go
-- with its media (DELETE /api/v1/media/users/{id}).
CREATE TABLE media_upload_keys (
	user_id		uuid NOT NULL,
	key		text NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
	request_hash	text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
	state		text NOT NULL DEFAULT 'in_progress'
	    CHECK (state IN ('in_progress', 'done')),
	response_status	smallint,
	response_body	text,
	media_id	uuid,
	claim_pid	integer,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	PRIMARY KEY (user_id, key),
	CHECK (state = 'in_progress' OR (response_status IS NOT NULL AND
	    response_body IS NOT NULL AND media_id IS NOT NULL))
);
CREATE INDEX media_upload_keys_expires_idx ON media_upload_keys (expires_at);
