// Package profile keeps one device's client state in a directory: its
// credentials, a bounded record of received messages (message id →
// sender, so that a read receipt can be sent later) and the SeenStore of
// handled items that makes delivery exactly-once across restarts.
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
