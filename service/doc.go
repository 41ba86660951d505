// Package service holds the rules of Parley above the stores: account
// registration with one-time codes, device credentials, messaging
// (send, device ack, receipts, typing, presence, disappearing messages),
// the key directory, media (chunked uploads, limits, the sweep), and the
// business platform (business.go and its neighbours: businesses, tokens,
// webhook configuration, templates, and the acceptance path of Cloud API
// sends with its policy in cloudsend.go). Rules live here once,
// not once per database: validation, authorization, idempotency, rate
// limits, and which follow-up items an action creates.
//
// Services take narrow store interfaces from the root package and a
// Notifier for real-time fan-out. Every durable change is committed to the
// store before anything is published, so a crash between the two loses
// nothing: devices fetch what they missed from their mailbox.
package service
