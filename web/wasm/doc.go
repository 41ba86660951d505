//go:build js

// Command wasm is the browser client's core: the Go SDK (package sdk) and
// its end-to-end encryption (package crypto) compiled to WebAssembly, so
// that the terminal client, hosted devices and the browser run one
// implementation of the protocol. The TypeScript UI (web/src) talks to it
// through the global object parleyCore that main installs; every call
// returns a Promise and runs on a goroutine of its own, because a
// js.Func callback must not block the browser's event loop.
//
// Keys stay in the browser: the Signal state, the dedupe records and the
// sent-message records are written through a storage object the UI passes
// in (IndexedDB, see web/src/db.ts), and nothing here sends them anywhere.
// Security review: this package handles the device token and key state.
//
// Build: GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" (see
// web/build.mjs). It imports no net/http client code (the SDK uses the
// Fetch API under js), which keeps the binary small.
package main
