// Package ws is Parley's WebSocket server transport. It moves RFC 6455
// frames between clients and a Handler and knows nothing about Parley's
// protocol.
//
// # Memory budget
//
// An idle connection must cost at most 4 KiB (STYLE rule 13). A goroutine
// per connection costs more than that once its stack and read buffer are
// counted, so on Linux the server holds no goroutine and no buffer for an
// idle connection (BenchmarkIdleConns measures it):
//
//   - after the HTTP upgrade, the bytes net/http had already buffered are
//     copied out and its bufio reader and writer (4 KiB each) are dropped;
//   - the socket is registered with an epoll instance (EPOLLONESHOT), and a
//     poller goroutine hands ready connections to a fixed pool of workers;
//   - a worker reads with a pooled bufio.Reader, keeps reading frames until
//     that reader is empty, returns it to the pool and re-arms the socket.
//
// Reads and writes still go through the net.Conn, so the runtime poller
// handles blocking and deadlines; the epoll instance only says which idle
// connection has become readable. Connections whose net.Conn exposes no file
// descriptor (TLS terminated in-process) and all connections on other
// operating systems are served by one goroutine each, with the same
// behaviour and a larger footprint.
//
// # Ordering
//
// For one Conn, the callbacks run in this order and never overlap:
// OnOpen, then OnMessage for each message in arrival order, then OnClose
// exactly once. Different connections are served concurrently. A frame that
// has started to arrive must be completed within half of
// Options.ReadTimeout to all of it (the read deadline moves only once half
// of it is left), which bounds how long a slow sender can hold a worker;
// the worker count therefore bounds how many such senders are served at
// once.
//
// # Lifecycle
//
// ServeHTTP upgrades, calls OnOpen on the request's goroutine, processes any
// bytes pipelined after the handshake, and registers the connection. A
// connection is closed by the peer (close frame or dropped TCP), by a
// protocol violation (1002, 1003, 1007, 1009), by Conn.Close, by a write
// that fails or does not finish within WriteTimeout (1008, the slow consumer
// rule), by a half-arrived frame exceeding ReadTimeout (1008), by the idle
// sweep (1001), or by shutdown (1001). Whatever the cause, the connection
// leaves Server.Len at once and OnClose follows after any running callback
// for it returns. OnClose never runs inside Conn.Close or a write, so a
// handler may hold its own locks while calling them.
//
// Run owns the poller, the workers and the idle sweep. When its context is
// done it refuses new upgrades (503), closes every connection with 1001,
// waits for every OnClose and returns.
//
// Not supported: extensions (permessage-deflate), subprotocol negotiation,
// WebSockets over HTTP/2. Browsers never send pings, so a protocol that
// relies on IdleTimeout needs clients to send something periodically.
package ws
