package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// Group sends go through Messaging.Send like 1:1 sends (validation,
// idempotency, one transaction, live fan-out); only the device check and
// the receipts differ.

// checkGroupCopies checks a group send: the sender must be a member, and
// the copies must cover every active device of every member except the
// sending device (devices without published keys may be left out, as in
// 1:1 sends) and no other device. On a mismatch the ESTALE error carries the current
// lists of the accounts that differ (an account in the copies that is not
// a member gets an empty list: drop it). The member list and device lists
// are read from the store on every group send, in one query, so that a
// member removed or a device linked a moment ago counts at once.
func (s *Messaging) checkGroupCopies(ctx context.Context, env *parley.Envelope) (map[string][]uint32, error) {
	const op = "messaging.Send"
	want, err := s.store.GroupDevices(ctx, env.Group)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.ENOTFOUND, "no such group")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	own, ok := want[env.From]
	if !ok {
		return nil, parley.Errorf(parley.ENOTFOUND, "no such group") // not a member: do not tell that it exists
	}
	want[env.From] = slices.DeleteFunc(slices.Clone(own), func(d uint32) bool { return d == env.FromDevice })
	got := map[string][]uint32{}
	for _, c := range env.Copies {
		got[c.Account] = append(got[c.Account], c.Device)
	}
	stale := map[string][]uint32{}
	for acct, ids := range want {
		g := got[acct]
		slices.Sort(g)
		if slices.Equal(g, ids) {
			continue
		}
		// Devices that have not published keys may be left out, as in 1:1
		// sends; only mismatching accounts pay for this lookup.
		skip := uint32(0)
		if acct == env.From {
			skip = env.FromDevice
		}
		_, keyed, err := s.deviceIDs(ctx, acct, skip)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		needed := slices.DeleteFunc(keyed, func(d uint32) bool { _, ok := slices.BinarySearch(ids, d); return !ok })
		if !coversBetween(g, needed, ids) {
			stale[acct] = ids
		}
	}
	for acct := range got {
		if _, ok := want[acct]; !ok {
			stale[acct] = []uint32{}
		}
	}
	if len(stale) > 0 {
		return want, &parley.Error{Code: parley.ESTALE, Message: "group members or their devices changed; re-encrypt for the current devices", Devices: stale}
	}
	return want, nil
}

// groupReceipt is the delivery receipt for a group message that device of
// account acknowledged. It goes to the sending device only, not to every
// device of the sender: a message to a group of 1,024 members with several
// devices each would otherwise make thousands of receipts for each of the
// sender's devices.
func groupReceipt(it *parley.Item, account string, device uint32, now time.Time) parley.Item {
	return parley.Item{
		Account: it.From, Device: it.FromDevice,
		Kind: parley.KindDelivered, MessageID: it.MessageID,
		From: account, FromDevice: device, To: it.From, Timestamp: now, Group: it.Group,
	}
}
