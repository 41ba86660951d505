-- Groups: membership and roles. Messages to a group are end-to-end
-- encrypted by clients and fanned out as one mailbox row per device.
-- Every change to a group's membership first writes (locks) its
-- chat_groups row, so changes to one group run one after another.

CREATE TABLE chat_groups (
	id         TEXT PRIMARY KEY, -- "g" and 26 base32 characters, random
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	version    INTEGER NOT NULL, -- counts membership, role and name changes
	invite     TEXT              -- the current invite code; NULL when none
);
CREATE UNIQUE INDEX chat_groups_invite ON chat_groups (invite);

CREATE TABLE group_members (
	group_id  TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
	account   TEXT NOT NULL REFERENCES accounts (id),
	role      TEXT NOT NULL, -- admin or member
	joined_at INTEGER NOT NULL,
	PRIMARY KEY (group_id, account)
) WITHOUT ROWID;
CREATE INDEX group_members_account ON group_members (account, group_id);

-- The group of a group message, its receipt or a group event; '' otherwise.
ALTER TABLE mailbox ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
