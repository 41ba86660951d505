-- The key directory (end-to-end encryption): public keys only.
-- Every change to a device's keys locks its device_keys row first, so
-- a one-time prekey is handed out once. Devices are never deleted, only
-- revoked; revoking one deletes its keys in the same transaction (the
-- trigger below; one_time_prekeys follow by cascade).

CREATE TABLE device_keys (
	account         TEXT NOT NULL,
	device          INTEGER NOT NULL,
	identity_key    BLOB NOT NULL,    -- written once per device
	registration_id INTEGER NOT NULL, -- written once per device
	signed_id       INTEGER NOT NULL,
	signed_key      BLOB NOT NULL,
	signed_sig      BLOB NOT NULL,
	signed_at       INTEGER NOT NULL, -- when this signed prekey was first stored
	PRIMARY KEY (account, device),
	FOREIGN KEY (account, device) REFERENCES devices (account, id)
);

CREATE TABLE one_time_prekeys (
	account    TEXT NOT NULL,
	device     INTEGER NOT NULL,
	id         INTEGER NOT NULL,
	public_key BLOB NOT NULL,
	PRIMARY KEY (account, device, id),
	FOREIGN KEY (account, device) REFERENCES device_keys (account, device) ON DELETE CASCADE
) WITHOUT ROWID;

-- UPDATE OF fires only for statements that set revoked_at, so the
-- mailbox batches, which update devices all the time, never run it.
CREATE TRIGGER device_keys_revoked AFTER UPDATE OF revoked_at ON devices
	WHEN OLD.revoked_at = 0 AND NEW.revoked_at <> 0
BEGIN
	DELETE FROM device_keys WHERE account = NEW.account AND device = NEW.id;
END;
