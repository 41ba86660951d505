// Package cloudapi serves Parley's business API in the shape of Meta's
// WhatsApp Cloud API (Graph API): paths under /v{major}.{minor}/ (any
// version) or unversioned, ids that are Graph ids, access tokens as
// "Authorization: Bearer" or the access_token parameter, and Meta's
// error envelope with its codes and HTTP statuses (errors.go is the one
// table). Existing Cloud API SDKs work by changing only the base URL.
//
// Every route is registered in routes (api.go); the handlers decode, call
// service.Business (which holds the rules and scopes every lookup to the
// caller's business) and encode. Requests are read whole up to MaxBody,
// chunked or not; unknown query parameters and unknown JSON fields are
// ignored, as SDKs send extras. docs/cloudapi.md lists every endpoint
// with its deviations from Meta's.
package cloudapi
