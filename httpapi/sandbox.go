package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley"
)

// SandboxAPI runs sandbox customers (hosted.Sandbox).
type SandboxAPI interface {
	Send(ctx context.Context, phone, to, text string) (string, error)
	SendFile(ctx context.Context, phone, to, kind, mimeType, name, caption string, data []byte) (string, error)
	Inbox(ctx context.Context, phone string, after int64) ([]parley.SandboxLine, error)
	Read(ctx context.Context, phone, ref string) error
	React(ctx context.Context, phone, ref, emoji string) (string, error)
	ReplyButton(ctx context.Context, phone, ref, id string) (string, error)
	ReplyList(ctx context.Context, phone, ref, id string) (string, error)
}

// sandboxRoutes are the operator API of sandbox customers; {phone} is
// E.164 with or without "+".
func (s *Server) sandboxRoutes(mux *http.ServeMux) {
	mux.Handle("POST /admin/v1/customers/{phone}/messages", s.admin(s.customerSend))
	mux.Handle("POST /admin/v1/customers/{phone}/files", s.admin(s.customerSendFile))
	mux.Handle("GET /admin/v1/customers/{phone}/inbox", s.admin(s.customerInbox))
	mux.Handle("POST /admin/v1/customers/{phone}/read", s.admin(s.customerAct))
	mux.Handle("POST /admin/v1/customers/{phone}/react", s.admin(s.customerAct))
	mux.Handle("POST /admin/v1/customers/{phone}/reply-button", s.admin(s.customerAct))
	mux.Handle("POST /admin/v1/customers/{phone}/reply-list", s.admin(s.customerAct))
}

func phoneParam(r *http.Request) string {
	p := r.PathValue("phone")
	if len(p) > 0 && p[0] != '+' {
		p = "+" + p
	}
	return p
}

func (s *Server) customerSend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		To   string `json:"to"`
		Text string `json:"text"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Text == "" {
		return parley.Errorf(parley.EINVALID, "text is required")
	}
	id, err := s.Sandbox.Send(r.Context(), phoneParam(r), in.To, in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": id})
	return nil
}

// customerSendFile is POST /admin/v1/customers/{phone}/files?to=E164&kind=K
// [&filename=F][&caption=C] with the file as the body (its Content-Type is
// the file's type): the customer sends it as an encrypted attachment.
func (s *Server) customerSendFile(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("to") == "" {
		return parley.Errorf(parley.EINVALID, "to is required")
	}
	kind := q.Get("kind")
	if kind == "" {
		kind = string(parley.MediaDocument)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, parley.MaxCloudMedia))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return parley.Errorf(parley.ETOOLARGE, "the file is larger than %d bytes", parley.MaxCloudMedia)
	} else if err != nil {
		return parley.Errorf(parley.EINVALID, "the file could not be read")
	}
	mimeType := r.Header.Get("Content-Type")
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	id, err := s.Sandbox.SendFile(r.Context(), phoneParam(r), q.Get("to"), kind, mimeType, q.Get("filename"), q.Get("caption"), data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": id})
	return nil
}

func (s *Server) customerInbox(w http.ResponseWriter, r *http.Request) error {
	var after int64
	if a := r.URL.Query().Get("after"); a != "" {
		var err error
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
			return parley.Errorf(parley.EINVALID, "after must be a sequence number")
		}
	}
	lines, err := s.Sandbox.Inbox(r.Context(), phoneParam(r), after)
	if err != nil {
		return err
	}
	out := struct {
		Messages []json.RawMessage `json:"messages"`
		Last     int64             `json:"last"`
	}{Messages: []json.RawMessage{}, Last: after}
	for _, l := range lines {
		out.Messages = append(out.Messages, l.Line)
		out.Last = l.Seq
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// customerAct handles read, react, reply-button and reply-list, told
// apart by the path's last element.
func (s *Server) customerAct(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
		ButtonID  string `json:"button_id"`
		RowID     string `json:"row_id"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.MessageID == "" {
		return parley.Errorf(parley.EINVALID, "message_id is required")
	}
	ctx, phone := r.Context(), phoneParam(r)
	var id string
	var err error
	switch path := r.URL.Path; {
	case strings.HasSuffix(path, "/read"):
		err = s.Sandbox.Read(ctx, phone, in.MessageID)
	case strings.HasSuffix(path, "/react"):
		id, err = s.Sandbox.React(ctx, phone, in.MessageID, in.Emoji)
	case strings.HasSuffix(path, "/reply-button"):
		if in.ButtonID == "" {
			return parley.Errorf(parley.EINVALID, "button_id is required")
		}
		id, err = s.Sandbox.ReplyButton(ctx, phone, in.MessageID, in.ButtonID)
	default:
		if in.RowID == "" {
			return parley.Errorf(parley.EINVALID, "row_id is required")
		}
		id, err = s.Sandbox.ReplyList(ctx, phone, in.MessageID, in.RowID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message_id": id})
	return nil
}
