// Package app wires a Parley node together: store (SQLite in the data
// dir, or PostgreSQL), bus (embedded NATS, or a cluster), services, the
// gateway and the HTTP API, and runs them under one errgroup until the
// context ends. cmd/parley and the end-to-end tests boot it the same way.
package app
