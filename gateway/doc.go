// Package gateway speaks Parley's real-time client protocol (see
// docs/protocol.md) over the WebSocket transport in gateway/ws, and routes
// events between nodes over the bus.
//
// Each connected device is a session. A session authenticates with its
// first frame (or the Authorization header), subscribes its account's bus
// subject, announces itself so that an older connection of the same device
// on any node is closed (4009), and then receives its mailbox: first the
// backlog from the store, then live items from the bus.
//
// Ordering and gaps: mailbox sequence numbers are per device and have no
// gaps. A session remembers the last sequence it sent; a live item that
// is not exactly the next one (lost, reordered or arriving while the
// backlog is read) makes the session read the store from that point
// instead. At most Window items are unacknowledged at a time; acks open
// the window again. Every path that sends items holds the session's mutex,
// so frames leave in sequence order.
//
// Lifecycle: Hub.Run heartbeats the node (so its connections count as
// online), closes sessions that never authenticated, and stops with the
// transport, which closes every connection with 1001 (going away) on
// shutdown; clients reconnect to any node.
package gateway
