-- Hosted devices: devices whose keys the server holds for someone (the
-- device of a business number, a sandbox customer). Credentials and Signal
-- state are sealed with the node's at-rest key. One node at a time runs
-- each, under a lease; saves by a node that lost its lease are refused.

CREATE TABLE hosted_devices (
	account     TEXT NOT NULL,
	device      INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	sealed      BLOB NOT NULL,
	version     INTEGER NOT NULL DEFAULT 0,
	lease_node  TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (account, device),
	FOREIGN KEY (account, device) REFERENCES devices (account, id)
);
CREATE INDEX hosted_devices_lease ON hosted_devices (lease_until);
CREATE UNIQUE INDEX hosted_devices_account ON hosted_devices (account);
