-- Profile pictures (docs/cloudapi.md, "Profile picture"): resumable
-- upload sessions with their bytes (at most 5 MB, expiring), scoped to
-- the business of the token that opened them, and each number's picture,
-- copied from a session when profile_picture_handle is set.
CREATE TABLE upload_sessions (
	id          TEXT PRIMARY KEY,
	business    TEXT NOT NULL,
	app         TEXT NOT NULL,
	file_name   TEXT NOT NULL,
	file_type   TEXT NOT NULL,
	file_length INTEGER NOT NULL,
	data        BLOB,
	handle      TEXT UNIQUE,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
);
CREATE INDEX upload_sessions_expires ON upload_sessions (expires_at);

CREATE TABLE business_pictures (
	number     TEXT PRIMARY KEY REFERENCES business_numbers (id),
	mime_type  TEXT NOT NULL,
	data       BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);
