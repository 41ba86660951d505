-- What sandbox customers (server-run test people) received, decrypted, for
-- `parley admin customer inbox`. Only the operator's test identities.
CREATE TABLE sandbox_inbox (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	account    TEXT NOT NULL,
	ref        TEXT NOT NULL,
	message_id TEXT NOT NULL,
	from_account TEXT NOT NULL,
	line       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (account, ref)
);
