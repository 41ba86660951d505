-- The key directory (end-to-end encryption): public keys only.
-- Every change to a device's keys locks its device_keys row first, so
-- a one-time prekey is handed out once. Devices are never deleted, only
-- revoked; revoking one deletes its keys in the same transaction (the
-- trigger below; one_time_prekeys follow by cascade).

CREATE TABLE device_keys (
	account         TEXT COLLATE "C" NOT NULL,
	device          BIGINT NOT NULL,
	identity_key    BYTEA NOT NULL,  -- written once per device
	registration_id BIGINT NOT NULL, -- written once per device
	signed_id       BIGINT NOT NULL,
	signed_key      BYTEA NOT NULL,
	signed_sig      BYTEA NOT NULL,
	signed_at       BIGINT NOT NULL, -- when this signed prekey was first stored
	PRIMARY KEY (account, device),
	FOREIGN KEY (account, device) REFERENCES devices (account, id)
);

CREATE TABLE one_time_prekeys (
	account    TEXT COLLATE "C" NOT NULL,
	device     BIGINT NOT NULL,
	id         BIGINT NOT NULL,
	public_key BYTEA NOT NULL,
	PRIMARY KEY (account, device, id),
	FOREIGN KEY (account, device) REFERENCES device_keys (account, device) ON DELETE CASCADE
);

-- The function is created in the migrated schema and resolves tables
-- there, whatever the search_path of the revoking session.
CREATE FUNCTION delete_revoked_device_keys() RETURNS trigger
	LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM device_keys WHERE account = NEW.account AND device = NEW.id;
	RETURN NULL;
END
$$;

-- UPDATE OF fires only for statements that set revoked_at, so the
-- mailbox batches, which update devices all the time, never run it.
CREATE TRIGGER device_keys_revoked AFTER UPDATE OF revoked_at ON devices
	FOR EACH ROW WHEN (OLD.revoked_at = 0 AND NEW.revoked_at <> 0)
	EXECUTE FUNCTION delete_revoked_device_keys();
