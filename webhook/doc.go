// Package webhook delivers outbound webhooks from the transactional outbox
// (parley.WebhookOutbox) and builds Meta-shaped WhatsApp Cloud API
// payloads for them.
//
// # Delivery
//
// Producers commit events with the state change that causes them
// (parley.Delivery.Webhooks, or the store's EnqueueWebhooks, which
// Dispatcher.Enqueue calls). The store wakes the local dispatcher after
// such a commit (sqlstore's OnWebhooks, wired by the app); a producer
// that commits events in a transaction of its own outside the batcher
// calls Dispatcher.Wake. Dispatchers also poll, every second, for events
// committed on other nodes and for retries that have come due. Each node runs
// one Dispatcher (Run). It claims due queues — the events of one
// (endpoint, ordering key) — under a lease, so that dispatchers of
// several nodes sharing a database never hold one queue at once; a queue
// whose lease ends unsettled (a node died) is claimed again by anyone.
//
// A worker sends a queue's events one after another and stops at the
// first failure, so an event is never sent while an earlier one of its
// key is pending; different keys go in parallel, Concurrency at a time.
// Results are settled in batches: delivered events are deleted, a failed
// one is retried with exponential backoff and jitter (at least as late as
// the receiver's Retry-After) until WebhookMaxAge (7 days) after it was
// enqueued, then it is dead. Dead events stay until the operator replays
// them (Replay) or the sweep purges them. Delivery is therefore at least
// once: a lease that ends while a POST is in flight, or a crash between a
// POST and its settle, sends an event again; receivers drop duplicates by
// the event id (X-Parley-Event-Id), or by Meta's own ids (message id
// plus status).
//
// # Each POST
//
// Content-Type: application/json, a Content-Length (bodies are byte
// slices, never chunked), X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
// the exact body with the endpoint's secret>, and a timeout. The client
// refuses at dial time, after DNS resolution, any address that is not
// public (loopback, private, link-local, shared, documentation,
// multicast, ...), so DNS rebinding cannot reach the operator's network;
// AllowPrivate lifts this for development. Redirects are not followed and
// environment proxies are not used. A 2xx status is delivered; anything
// else, a timeout or a network error is a failure.
//
// # Payloads
//
// payload.go builds the JSON Meta sends (API v24 shapes): inbound
// messages of every type, statuses, errors and template status updates,
// one change per POST; an endpoint that opts in (Endpoint.MaxChanges)
// gets consecutive events of one key joined into one envelope (batch.go). Marshal writes ASCII-only JSON, every other
// character as a lowercase \uXXXX escape (surrogate pairs above U+FFFF),
// which is the form Meta signs: verifiers that hash the raw bytes and
// verifiers that hash an escaped copy of them then agree.
//
// Security review: the SSRF guard (client.go) and the signing (sign.go)
// are security-relevant.
package webhook
