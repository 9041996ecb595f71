-- media: likes and ratings, one of each per user and item.  The rules are
-- constraints, not checks in code: a second like is a unique violation,
-- and a rating is replaced by an upsert on its key.  They go with their
-- item (ON DELETE CASCADE), in the same transaction.

CREATE TABLE media_likes (
	media_id	uuid NOT NULL REFERENCES media (id) ON DELETE CASCADE,
	user_id		uuid NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (media_id, user_id)
);
CREATE INDEX media_likes_user_idx ON media_likes (user_id);

CREATE TABLE media_ratings (
	media_id	uuid NOT NULL REFERENCES media (id) ON DELETE CASCADE,
	user_id		uuid NOT NULL,
	stars		smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (media_id, user_id)
);
CREATE INDEX media_ratings_user_idx ON media_ratings (user_id);
