package parley

import (
	"context"
	"time"
)

// SandboxLine is one message a sandbox customer (a test person whose
// device the server runs, see HostedCustomer) received, decrypted and
// shaped like a Cloud API inbound message, for `parley admin customer
// inbox`. Sandbox customers are the operator's own test identities; their
// plaintext is kept on purpose. Real people's messages never are.
type SandboxLine struct {
	Seq       int64  // order of arrival, over all accounts
	Account   string // the sandbox customer
	Ref       string // the line's "id": the wamid of a business message, else the message id
	MessageID string // the Parley message id (for read receipts)
	From      string
	Line      []byte // the JSON line
	CreatedAt time.Time
}

// SandboxStore keeps what sandbox customers received.
type SandboxStore interface {
	// AppendSandbox adds a line; a line with the same Ref is kept once.
	AppendSandbox(ctx context.Context, l *SandboxLine) error
	// SandboxLines returns up to limit lines of account after seq, in order.
	SandboxLines(ctx context.Context, account string, after int64, limit int) ([]SandboxLine, error)
	// SandboxLine returns the line of account with ref (ENOTFOUND if none).
	SandboxLine(ctx context.Context, account, ref string) (*SandboxLine, error)
}
