-- Business media: files a business uploaded through the Cloud API and
-- files customers sent to a business number, as Graph objects scoped to
-- the business. blob is the media row holding the bytes; blobs named
-- here are not swept as unlinked (retention applies).
CREATE TABLE business_media (
	id         TEXT PRIMARY KEY,
	business   TEXT NOT NULL,
	number     TEXT NOT NULL,
	blob       TEXT NOT NULL,
	mime_type  TEXT NOT NULL,
	filename   TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX business_media_blob ON business_media (blob);
