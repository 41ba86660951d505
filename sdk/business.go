package sdk

import (
	"encoding/json"
	"fmt"
)

// Business chats. A business number's hosted device sends what the
// business posted to the Cloud API inside an end-to-end encrypted payload;
// customers' clients render it (text, media, interactive messages,
// templates). Customers answer with ordinary payloads that may name the
// business message they answer (Context), and with the reply and reaction
// payloads below, which the hosted device turns into webhooks.
//
//	{"type":"business","wamid":"wamid.…","message":{…the Cloud API message object…}[,"media":{…Attachment…}]}
//	{"type":"interactive_reply","context":{"message_id":"wamid.…"},"button_reply":{"id":…,"title":…}}
//	{"type":"interactive_reply","context":{"message_id":"wamid.…"},"list_reply":{"id":…,"title":…,"description":…}}
//	{"type":"reaction","reaction":{"message_id":"wamid.…","emoji":"👍"}}   ("emoji":"" removes it)

// Payload types of business chats.
const (
	PayloadBusiness         = "business"
	PayloadInteractiveReply = "interactive_reply"
	PayloadReaction         = "reaction"
)

// BusinessPayload is a message from a business through the Cloud API.
type BusinessPayload struct {
	Type    string          `json:"type"` // PayloadBusiness
	WAMID   string          `json:"wamid"`
	Message json.RawMessage `json:"message"` // the Cloud API message object
	// Media is the message's file (image, audio, video, document,
	// sticker, or a template's media header), encrypted for this
	// customer; the Cloud API object names it by the business's id or
	// link, which customers cannot use.
	Media *Attachment `json:"media,omitempty"`
}

// ReplyContext names the message a payload answers.
type ReplyContext struct {
	MessageID string `json:"message_id"`
}

// ButtonReply is the answer to a reply button.
type ButtonReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListReply is the answer to a list message.
type ListReply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ReplyPayload is an answer to an interactive message.
type ReplyPayload struct {
	Type        string        `json:"type"` // PayloadInteractiveReply
	Context     *ReplyContext `json:"context"`
	ButtonReply *ButtonReply  `json:"button_reply,omitempty"`
	ListReply   *ListReply    `json:"list_reply,omitempty"`
}

// Reaction is an emoji on a message ("" removes it).
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// ReactionPayload carries a Reaction.
type ReactionPayload struct {
	Type     string   `json:"type"` // PayloadReaction
	Reaction Reaction `json:"reaction"`
}

// TextReplyPayload is a text message answering the message id.
func TextReplyPayload(text, messageID string) []byte {
	b, _ := json.Marshal(struct {
		Type    string        `json:"type"`
		Text    string        `json:"text"`
		Context *ReplyContext `json:"context,omitempty"`
	}{"text", text, &ReplyContext{MessageID: messageID}})
	return b
}

// ButtonReplyPayload answers reply button id (with its title) of message.
func ButtonReplyPayload(messageID, id, title string) []byte {
	b, _ := json.Marshal(ReplyPayload{Type: PayloadInteractiveReply, Context: &ReplyContext{MessageID: messageID},
		ButtonReply: &ButtonReply{ID: id, Title: title}})
	return b
}

// ListReplyPayload answers row id of a list message.
func ListReplyPayload(messageID, id, title, description string) []byte {
	b, _ := json.Marshal(ReplyPayload{Type: PayloadInteractiveReply, Context: &ReplyContext{MessageID: messageID},
		ListReply: &ListReply{ID: id, Title: title, Description: description}})
	return b
}

// ReactionPayloadFor reacts to a message with emoji.
func ReactionPayloadFor(messageID, emoji string) []byte {
	b, _ := json.Marshal(ReactionPayload{Type: PayloadReaction, Reaction: Reaction{MessageID: messageID, Emoji: emoji}})
	return b
}

// DecodeBusiness decodes the business payload of a message (Type
// PayloadBusiness).
func DecodeBusiness(raw []byte) (*BusinessPayload, error) {
	var p BusinessPayload
	if err := json.Unmarshal(raw, &p); err != nil || p.Type != PayloadBusiness || p.WAMID == "" || len(p.Message) == 0 {
		return nil, fmt.Errorf("not a business message payload")
	}
	return &p, nil
}
