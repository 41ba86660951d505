// Package parley holds the domain of the Parley messenger: accounts,
// devices, envelopes, mailbox items, the error type with its codes, and
// the narrow interfaces that services need from stores, the bus and the
// SMS provider.
//
// This package imports only the standard library; a test enforces that no
// infrastructure (database/sql, net/http, NATS) leaks in. Adapters in
// sub-packages (store/sqlite, store/postgres, bus, gateway, httpapi)
// implement or consume these interfaces and never import each other.
package parley
