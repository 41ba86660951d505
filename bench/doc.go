// Package bench holds Parley's load generators and the baselines they are
// compared with, run by `parley bench`:
//
//   - conns: N authenticated idle WebSocket connections against a real
//     `parley serve` child process, reporting the server's RSS per
//     connection; the baseline is a bare goroutine-per-connection
//     WebSocket echo server measured the same way in the same run.
//   - messages: sustained durable 1:1 messages per second end-to-end
//     (send → committed → pushed → received) with p50/p99 latency, in a
//     closed loop (each sender as fast as its window of unacknowledged
//     sends allows) or an open one (a fixed offered rate, latency from
//     each message's scheduled time); the baseline is a raw SQLite insert
//     loop in the same run.
//
// Servers run as child processes so that their memory is measured alone
// and the load generator's sockets do not count against the server's
// file limit. Clients spread over several 127.0.0.x source addresses.
package bench
