-- Hosted devices: devices whose keys the server holds for someone (the
-- device of a business number, a sandbox customer). Credentials and Signal
-- state are sealed with the node's at-rest key. One node at a time runs
-- each, under a lease; saves by a node that lost its lease are refused.

CREATE TABLE hosted_devices (
	account     TEXT NOT NULL,
	device      BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	sealed      BYTEA NOT NULL,
	version     BIGINT NOT NULL DEFAULT 0,
	lease_node  TEXT NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (account, device),
	FOREIGN KEY (account, device) REFERENCES devices (account, id)
);
CREATE INDEX hosted_devices_lease ON hosted_devices (lease_until);
CREATE UNIQUE INDEX hosted_devices_account ON hosted_devices (account);
