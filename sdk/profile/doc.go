// Package profile keeps one device's client state in a directory: its
// credentials, its Signal state (identity and prekey private keys,
// sessions, sender keys: signal.json, an sdk.StateStore), the plaintexts
// of recently sent messages (sent.log, an sdk.SentStore, so that a device
// that could not decrypt one can get it again), a bounded record of
// received messages (message id → sender, so that a read receipt can be
// sent later) and the SeenStore of handled items that makes delivery
// exactly-once across restarts.
//
// Nothing here is encrypted at rest beyond the file permissions: whoever
// can read the directory can read the keys and the recent plaintexts,
// like the chat history of any messenger on its device. A new device
// gets new keys; the server cannot restore them or any history.
//
// The directory is created 0700 and every file 0600: the credentials hold
// the device's token. Writes are safe against crashes: whole files are
// written to a temporary file, synced and renamed over the old one; the
// records are append-only journals synced after each line, whose torn
// last line (a crash in the middle of an append) is ignored and dropped
// when the journal is next opened. Journals are compacted (by the same
// write-and-rename) when they grow to twice their capacity.
//
// A profile is used by one process at a time; the server allows one
// connection per device anyway (a second one closes the first with 4009).
// The package uses the file system and is not part of the browser build.
package profile
