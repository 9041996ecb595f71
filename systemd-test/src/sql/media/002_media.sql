-- media: the items users upload.  The owner is the access token's subject;
-- users live in the auth database, so there is no foreign key to them.

CREATE TABLE media (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	owner		uuid NOT NULL,
	title		text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
	description	text NOT NULL DEFAULT ''
	    CHECK (length(description) <= 5000),
	visibility	text NOT NULL DEFAULT 'private'
	    CHECK (visibility IN ('private', 'public')),
	mime_type	text NOT NULL CHECK (mime_type ~ '^[a-z]+/[a-z0-9.+-]+$'),
	size		bigint NOT NULL CHECK (size > 0),
	sha256		text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	-- Relative to the media root, random, never from a client.
	storage_path	text NOT NULL UNIQUE
	    CHECK (storage_path ~ '^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$'),
	-- The client's name for the file, shown back only (Content-Disposition).
	filename	text CHECK (length(filename) BETWEEN 1 AND 255),
	width		integer CHECK (width > 0),
	height		integer CHECK (height > 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
-- Newest first, with the id to break ties: the list's order and cursor.
CREATE INDEX media_created_idx ON media (created_at DESC, id DESC);
CREATE INDEX media_owner_idx ON media (owner, created_at DESC, id DESC);
CREATE INDEX media_public_idx ON media (created_at DESC, id DESC)
    WHERE visibility = 'public';
