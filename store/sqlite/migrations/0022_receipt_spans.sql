-- Delivery receipts that one ack makes for one device are stored as one
-- row (store/sqlstore/span.go): span is how many consecutive sequence
-- numbers the row holds, from seq on. Such a row's body lists the
-- receipts' message ids, one per line, an acknowledged one left empty.
-- Every other row holds one item (span 1).
ALTER TABLE mailbox ADD COLUMN span INTEGER NOT NULL DEFAULT 1;
