package service

import "github.com/parley-chat/parley"

// Notifier fans real-time events out to connected devices on whichever
// node holds them. It is called after the store committed, never before,
// and it must not block: delivery is best effort because the mailbox is
// the source of truth.
type Notifier interface {
	// Items tells each item's device that it has a new mailbox item.
	Items(items []parley.Item)
	// Typing tells the devices of to that from is typing (or stopped).
	Typing(from string, fromDevice uint32, to string, state string)
	// Revoked closes the connection of an unlinked device.
	Revoked(account string, device uint32)
	// DevicesChanged says that an account linked or unlinked a device.
	DevicesChanged(account string)
}
