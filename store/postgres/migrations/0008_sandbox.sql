-- What sandbox customers (server-run test people) received, decrypted, for
-- `parley admin customer inbox`. Only the operator's test identities.
CREATE TABLE sandbox_inbox (
	seq        BIGSERIAL PRIMARY KEY,
	account    TEXT NOT NULL,
	ref        TEXT NOT NULL,
	message_id TEXT NOT NULL,
	from_account TEXT NOT NULL,
	line       BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	UNIQUE (account, ref)
);
