-- media: a thumbnail for each image that could be decoded within the
-- pixel limit.  Stored like the file itself (sharded, random name, never
-- from a client); NULL when there is none.  Its width and height are
-- those of the thumbnail, not of the original.

ALTER TABLE media
    ADD COLUMN thumb_path text UNIQUE
	CHECK (thumb_path ~ '^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$'),
    ADD COLUMN thumb_width integer CHECK (thumb_width > 0),
    ADD COLUMN thumb_height integer CHECK (thumb_height > 0),
    ADD CONSTRAINT media_thumb_whole CHECK
	((thumb_path IS NULL) = (thumb_width IS NULL) AND
	 (thumb_path IS NULL) = (thumb_height IS NULL));
