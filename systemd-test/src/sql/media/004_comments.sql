-- media: comments on items.  They go with their item (ON DELETE CASCADE).

CREATE TABLE media_comments (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	media_id	uuid NOT NULL REFERENCES media (id) ON DELETE CASCADE,
	user_id		uuid NOT NULL,
	body		text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
-- Oldest first within an item, the id breaking ties: the list's cursor.
CREATE INDEX media_comments_item_idx ON media_comments (media_id, created_at, id);
CREATE INDEX media_comments_user_idx ON media_comments (user_id, created_at, id);
