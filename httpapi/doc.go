// Package httpapi serves Parley's HTTP surfaces: the first-party client
// API under /v1 (registration, devices, keys, media blobs, the WebSocket
// at /v1/ws), the operator API under /admin/v1, and /healthz, /readyz and
// /metrics.
//
// Handlers return errors; one adapter (errorHandler) maps the domain
// error code to an HTTP status in one table, writes a JSON body with the
// client-safe message only, and logs internal causes.
package httpapi
