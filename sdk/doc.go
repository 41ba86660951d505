// Package sdk is the Go client of Parley's client protocol
// (docs/protocol.md). The terminal client, the tests, the load generator,
// hosted devices and (compiled to WebAssembly) the browser client all use
// it, so it has no file-system code: credentials and dedupe records that
// must outlive a process live in sdk/profile.
//
// # Layers
//
// The package has three layers, each usable on its own:
//
//   - HTTP: RequestCode, Verify and LinkWait need no credentials; a Client
//     (server URL and device Credentials) calls the authenticated
//     endpoints. Failures are *Error values that carry the server's error
//     code, message and, for stale_devices, the current device lists.
//     UploadMedia, DownloadMedia and DeleteMedia move attachment blobs,
//     streamed; they do not encrypt (seal the file first and put its key
//     and digest in the message that names the blob's id).
//   - Conn: one WebSocket connection. Dial authenticates with the first
//     frame and returns once the server answered ready. Read and Write move
//     decoded Frames; Conn sends a ping frame every 25 s and closes itself
//     when a pending Read has heard nothing for a while. A close by the
//     server is returned as *CloseError; Fatal says whether reconnecting
//     with the same credentials can help.
//   - Messenger: what applications use. Run keeps a connection up,
//     reconnecting with exponential backoff and jitter after non-fatal
//     closes; the server resumes from the device's mailbox. SendText builds
//     one copy per device of the recipient and of the own other devices
//     through a Cipher, and returns the server's message id once the server
//     has committed the message. Received messages and receipts arrive on
//     Events.
//
// # Delivery guarantees
//
// The server delivers mailbox items at least once; the Messenger turns
// that into exactly-once handling:
//
//   - Sends are idempotent. A logical send gets one client id, reused on
//     every retry (after a lost connection or a stale_devices answer), so
//     the server stores it once and answers every retry with the same
//     message id.
//   - An item is acknowledged to the server only when the application calls
//     Ack on its event (Handle does that after the handler returns). A
//     crash before that loses nothing: the server sends the item again on
//     the next connection.
//   - Ack first records the item's key in the SeenStore, then queues the
//     ack. An item that comes back although it was handled (its ack was
//     lost with the connection) is found there and acknowledged again
//     without a second event. Keys are "m:<message id>" for messages and
//     "<kind>:<message id>:<from>.<from device>" for receipts (the dedupe
//     rule of the protocol). An item that comes back while its event is
//     still waiting for Ack is dropped too.
//
// With a SeenStore that survives restarts (sdk/profile) this holds across
// processes; the memory store covers one process.
//
// # Ordering and concurrency
//
// Events of one connection arrive in mailbox order. One goroutine (Run)
// reads the connection and hands items to Events; its buffer is larger
// than the server's window of unacknowledged items, so a consumer that
// sends from its event loop does not stall the reader. Typing, presence
// and device-change events are not stored by the server and are dropped
// when the buffer is full. Every method except Run may be called
// concurrently; requests made while disconnected wait for the next
// connection (or their context).
//
// # Lifecycle
//
// Run returns nil when its context ends, or the fatal close (4001–4004 and
// 4009, see Fatal) or error that stopped it; Events is closed then and
// pending requests fail with that error.
//
// # Security
//
// PlainCipher puts the plaintext in every copy: the server can read it.
// End-to-end encryption with the Signal protocol (issue: end-to-end
// encryption) replaces it behind the same Cipher interface, without a
// protocol change. The device token in Credentials is a secret; code that
// stores it must protect it (sdk/profile writes it 0600).
package sdk
