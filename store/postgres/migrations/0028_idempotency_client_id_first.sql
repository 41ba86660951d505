-- The idempotency keys' primary key starts with the client id. Client ids
-- that grow with time (the SDK's, docs/protocol.md) then put the keys of
-- one moment next to each other whoever sent them, so that a batch of
-- new keys lands in a few index pages at the right edge instead of one
-- page per sender (docs/BENCHMARKS.md, session 9). Lookups name all
-- three columns, so they use the key in any order.
ALTER TABLE idempotency DROP CONSTRAINT idempotency_pkey;
ALTER TABLE idempotency ADD PRIMARY KEY (client_id, from_account, from_device);
