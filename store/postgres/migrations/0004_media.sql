-- Disappearing messages and media blobs.

-- expires_at: when the item stops being handed out and is purged (0:
-- never). has_media: the item's message references blobs (1), so the
-- sweeper can ask whether a message still has items left. Both partial
-- indexes hold only such rows: ordinary messages pay nothing for them.
ALTER TABLE mailbox
	ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN has_media SMALLINT NOT NULL DEFAULT 0;
CREATE INDEX mailbox_expires_at ON mailbox (expires_at) WHERE expires_at <> 0;
CREATE INDEX mailbox_media ON mailbox (message_id) WHERE has_media <> 0;

-- One row per blob. A blob is served while completed_at <> 0 and
-- deleted_at = 0. linked_at: last time a message referenced it (0:
-- never); released_at: when the sweeper found no item of its messages
-- left (0: some are, or never linked); deleted_at: deletion has started.
CREATE TABLE media (
	id           TEXT COLLATE "C" PRIMARY KEY,
	account      TEXT NOT NULL, -- the uploader
	device       BIGINT NOT NULL,
	kind         TEXT NOT NULL,
	size         BIGINT NOT NULL DEFAULT 0,
	sha256       BYTEA,
	created_at   BIGINT NOT NULL,
	completed_at BIGINT NOT NULL DEFAULT 0,
	linked_at    BIGINT NOT NULL DEFAULT 0,
	released_at  BIGINT NOT NULL DEFAULT 0,
	deleted_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX media_created_at ON media (created_at);
CREATE INDEX media_released_at ON media (released_at) WHERE released_at <> 0;
CREATE INDEX media_deleted_at ON media (deleted_at) WHERE deleted_at <> 0;
CREATE INDEX media_pending ON media (id) WHERE linked_at <> 0 AND released_at = 0 AND deleted_at = 0;

-- Chunks of 1 MiB of ciphertext, which does not compress: stored out of
-- line without trying (EXTERNAL), which also makes length(data) cheap.
CREATE TABLE media_chunks (
	media_id TEXT COLLATE "C" NOT NULL,
	n        BIGINT NOT NULL,
	data     BYTEA NOT NULL,
	PRIMARY KEY (media_id, n)
);
ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Which messages reference which blob.
CREATE TABLE media_refs (
	media_id   TEXT COLLATE "C" NOT NULL,
	message_id TEXT NOT NULL,
	PRIMARY KEY (media_id, message_id)
);
