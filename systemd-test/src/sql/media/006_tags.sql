-- media: tags on items.  A tag is one row whatever the case it is written
-- in (the unique index on lower(name)); its name keeps the case it was
-- first written in.  Links go with their item and with their tag
-- (ON DELETE CASCADE), in the same transaction.
--
-- used_at is bumped by every tagging (the upsert's DO UPDATE), so that the
-- sweep (gatehouse-media --sweep), which removes tags no item has used for
-- an hour, can never remove one that a tagging in flight is linking: its
-- DELETE re-reads a row updated meanwhile and finds it young.

CREATE TABLE media_tags (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 50
	    AND name = btrim(name) AND name !~ '[[:cntrl:]/\\,]'),
	created_at	timestamptz NOT NULL DEFAULT now(),
	used_at		timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX media_tags_name_idx ON media_tags (lower(name));

CREATE TABLE media_item_tags (
	media_id	uuid NOT NULL REFERENCES media (id) ON DELETE CASCADE,
	tag_id		bigint NOT NULL REFERENCES media_tags (id)
	    ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (media_id, tag_id)
);
-- Items by tag (browsing, counts) and a tag's links (its removal).
CREATE INDEX media_item_tags_tag_idx ON media_item_tags (tag_id, media_id);
