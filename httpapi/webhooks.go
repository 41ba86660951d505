package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley"
)

// WebhookOperator is what the operator API needs of the webhook
// dispatcher (webhook.Dispatcher).
type WebhookOperator interface {
	Failed(ctx context.Context, f parley.WebhookFilter) ([]parley.WebhookEvent, error)
	Replay(ctx context.Context, ids []string) (int, error)
}

// failedWebhook is one dead event as the operator API shows it.
type failedWebhook struct {
	ID         string `json:"id"`
	Seq        int64  `json:"seq"`
	Endpoint   string `json:"endpoint"`
	Key        string `json:"key"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error"`
	CreatedAt  int64  `json:"created_at"`  // unix seconds
	EnqueuedAt int64  `json:"enqueued_at"` // first enqueued or last replayed
	FailedAt   int64  `json:"failed_at"`
	Size       int    `json:"size"`           // body bytes
	Body       string `json:"body,omitempty"` // with ?body=1
}

// adminFailedWebhooks lists dead webhook events by seq:
// ?endpoint=&after=SEQ&limit=N (at most 1000)&body=1.
func (s *Server) adminFailedWebhooks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := parley.WebhookFilter{Endpoint: q.Get("endpoint"), Limit: 100}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return parley.Errorf(parley.EINVALID, "after must be a sequence number")
		}
		f.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return parley.Errorf(parley.EINVALID, "limit must be 1 to 1000")
		}
		f.Limit = n
	}
	withBody := q.Get("body") == "1" || q.Get("body") == "true"
	events, err := s.Webhooks.Failed(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Data []failedWebhook `json:"data"`
		Next int64           `json:"next_after,omitempty"` // pass as after for the next page; absent on the last
	}{Data: make([]failedWebhook, 0, len(events))}
	for _, e := range events {
		fw := failedWebhook{ID: e.ID, Seq: e.Seq, Endpoint: e.Endpoint, Key: e.Key, Attempts: e.Attempts, LastError: e.LastError,
			CreatedAt: e.CreatedAt.Unix(), EnqueuedAt: e.EnqueuedAt.Unix(), FailedAt: e.NextAttempt.Unix(), Size: len(e.Body)}
		if withBody {
			fw.Body = string(e.Body)
		}
		out.Data = append(out.Data, fw)
	}
	if len(events) == f.Limit {
		out.Next = events[len(events)-1].Seq
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type replayRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// adminReplayWebhooks makes dead events pending again: {"ids":[…]} or
// {"all":true}.
func (s *Server) adminReplayWebhooks(w http.ResponseWriter, r *http.Request) error {
	var req replayRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.All == (len(req.IDs) > 0) {
		return parley.Errorf(parley.EINVALID, `give either "ids" or "all": true`)
	}
	if len(req.IDs) > 1000 {
		return parley.Errorf(parley.EINVALID, "at most 1000 ids at once; use all to replay everything")
	}
	var ids []string
	if !req.All {
		ids = req.IDs
	}
	n, err := s.Webhooks.Replay(r.Context(), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Replayed int `json:"replayed"`
	}{n})
	return nil
}
