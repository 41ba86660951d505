-- QR codes and short links (the Cloud API's message_qrdls): a random code
-- names a business number and a prefilled message. Deleted codes stay as
-- tombstones (deleted_at <> 0) so that their links can say they expired
-- and a code is never handed out twice.
CREATE TABLE message_qrdls (
	code       TEXT PRIMARY KEY,
	business   TEXT NOT NULL,
	number     TEXT NOT NULL,
	account    TEXT NOT NULL,
	prefilled  TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	deleted_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX message_qrdls_number ON message_qrdls (number, created_at, code) WHERE deleted_at = 0;
