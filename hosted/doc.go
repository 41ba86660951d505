// Package hosted runs devices whose keys the server holds on someone's
// behalf: the hosted device of each business number (the platform
// encrypts and decrypts for the business, as Meta does for the Cloud
// API) and sandbox customers (test people for demos and conformance
// tests). SECURITY REVIEW REQUIRED: this package handles the private
// keys and credentials of those devices.
//
// A hosted device is an ordinary device of its account: it has its own
// credentials and Signal keys, connects over the client protocol and
// uses the Go SDK (sdk.Messenger with a SignalCipher), so it takes part in
// end-to-end encryption exactly like a phone. What differs is where its
// secrets live: sealed with the node's at-rest key (a Sealer) in the
// database (parley.HostedStore), saved there after every change.
//
// # Who runs a device
//
// Every node runs a Runner. It leases hosted devices (parley.HostedStore:
// a lease per device, renewed every LeaseFor/3 while the node runs it) and
// runs each leased device: a Messenger connected to the node itself, and
// the Handler registered for the device's kind, which consumes the
// device's events and sends for it. A node that stops releases its leases;
// one that dies loses them after LeaseFor, and another node takes the
// devices over. A node that lost a lease cannot save the device's state
// (saves are fenced by the lease), so two nodes never both advance one
// device's ratchets; the server also closes the older of two connections
// of one device (4009).
//
// # Limits
//
// The Signal state is saved whole after every change (sdk.SignalCipher's
// StateStore), which costs time in proportion to the number of sessions
// the device has. That suits business numbers with thousands of customers,
// not millions; per-record persistence is the way out.
package hosted
