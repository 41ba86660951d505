package cloudapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/parley-chat/parley"
)

// DecodeMessage decodes the body of POST /{phone-number-id}/messages.
// Unknown fields are ignored (SDKs add their own); types must match.
// It does not validate: Business.Send does.
func DecodeMessage(b []byte) (*parley.CloudMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "The parameter messaging_product is required.")
	}
	var m parley.CloudMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "Request body is not a valid message: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, parley.Errorf(parley.EINVALID, "Request body has data after the JSON object.")
	}
	return &m, nil
}

type sendResponse struct {
	MessagingProduct string        `json:"messaging_product"`
	Contacts         []sendContact `json:"contacts"`
	Messages         []sendMessage `json:"messages"`
}

type sendContact struct {
	Input string `json:"input"`
	WaID  string `json:"wa_id"`
}

type sendMessage struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// sendMessage is POST /{phone-number-id}/messages: a send, or a
// mark-as-read (with optional typing indicator).
func (a *API) sendMessage(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	m, err := DecodeMessage(b)
	if err != nil {
		return err
	}
	res, err := a.Business.Send(r.Context(), caller(r), r.PathValue("id"), m)
	if err != nil {
		return err
	}
	if res.Read {
		return success(w)
	}
	writeJSON(w, http.StatusOK, sendResponse{
		MessagingProduct: "whatsapp",
		Contacts:         []sendContact{{Input: res.Input, WaID: res.WaID}},
		Messages:         []sendMessage{{ID: res.WAMID, MessageStatus: res.MessageStatus}},
	})
	return nil
}
