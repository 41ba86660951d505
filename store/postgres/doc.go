// Package postgres opens Parley's store on PostgreSQL, through pgx's
// database/sql driver, for deployments with several nodes sharing one
// database.
//
// Reads and writes share one pool. Deliver and Ack reach the database
// through sqlstore's group commit, one writer per node; batches of
// different nodes lock the device rows they change in (account, id) order
// (SELECT ... ORDER BY ... FOR UPDATE), so they wait for each other
// instead of deadlocking. An idempotency key committed by another node
// while a batch ran makes the batch fail; its operations are then retried
// one by one and see the key.
//
// The schema is migrated on Open from the embedded migrations/*.sql while
// holding an advisory lock scoped to the current schema, so nodes starting
// at the same time migrate one after the other; a database migrated by a
// newer binary is refused. The schema is the first one of the connection's
// search_path, which the DSN may set (?search_path=name).
package postgres
