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
	m, err := decodeMessage(b)
	if err != nil {
		// Graph takes an object or array parameter also as a string that
		// holds its JSON (whatsapp-api-js sends "contacts":"[{…}]"); retry
		// once with such strings unwrapped. Only failed decodes pay for it.
		if fixed, ok := unwrapJSONStrings(b); ok {
			if m, err2 := decodeMessage(fixed); err2 == nil {
				return m, nil
			}
		}
		return nil, err
	}
	return m, nil
}

func decodeMessage(b []byte) (*parley.CloudMessage, error) {
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

// unwrapJSONStrings replaces the top-level members of the JSON object b
// whose value is a string holding a JSON object or array by that object
// or array. It reports false when there is none.
func unwrapJSONStrings(b []byte) ([]byte, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return nil, false
	}
	changed := false
	for k, v := range top {
		if len(v) == 0 || v[0] != '"' {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			continue
		}
		if t := bytes.TrimSpace([]byte(s)); len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t) {
			top[k], changed = t, true
		}
	}
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(top)
	return out, err == nil
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
