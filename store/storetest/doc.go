// Package storetest is the conformance suite for parley.Store: every
// storage backend runs Run on a real database (SQLite in a temporary
// directory, PostgreSQL from PARLEY_TEST_POSTGRES), which is what proves
// the backends behave the same.
//
// The suite passes times explicitly (there is no sleep anywhere) and uses
// a fresh store per subtest. Backends that have a schema implement
// Reopener on the stores that open returns, so that the suite can test
// what a second Open sees (persistence, refusal of a newer schema).
//
// BenchmarkDeliver measures group commit with many parallel senders.
package storetest
