package bus

import "context"

// Link adapts the bus to service.Link: a new device waits on the subject
// of its link code on whichever node it reached, and the approving device's
// node offers the credentials there.
type Link struct{ B *Bus }

// Wait blocks until an offer arrives on subject.
func (l Link) Wait(ctx context.Context, subject string) ([]byte, func([]byte) error, error) {
	return l.B.WaitOne(ctx, subject)
}

// Offer sends data to the waiter and returns its reply.
func (l Link) Offer(ctx context.Context, subject string, data []byte) ([]byte, error) {
	return l.B.Request(ctx, subject, data)
}
