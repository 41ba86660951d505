// Package bus routes real-time events between Parley nodes over NATS.
//
// By default it starts an embedded NATS server inside the process (no
// listener, connected in-process), so one node runs the same code path as
// a cluster; with a URL it connects to an external NATS cluster instead.
// With the embedded server every subscriber is in this process, so
// Publish skips the server: it hands an event to the shard of the
// subject's subscription itself (see Publish).
//
// Interest is registered per subject (for example one subject per
// connected device) and counted, so several local subscribers of one
// subject share one NATS subscription. All subscriptions feed a fixed set
// of shard channels: a subject always maps to the same shard and each
// shard is drained by one goroutine, so deliveries for one subject keep
// their order while different subjects proceed in parallel. A full shard
// drops the event and counts it (Dropped): the bus is at-most-once by
// design, and receivers repair gaps from the store.
package bus
