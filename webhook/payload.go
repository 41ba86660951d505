package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// Meta-shaped webhook payloads (WhatsApp Cloud API v24; the shapes are in
// the reference's §3.3–3.6 and §5.5). Field order follows Meta's payloads
// and optional fields are left out when empty, as Meta does. Each builder
// makes one entry with one change holding one item: some client
// libraries read only the first entry, so one change per POST is the
// default. Every builder encodes with Marshal (ASCII-only JSON).

// Webhook field names (the change's "field").
const (
	ObjectWABA                = "whatsapp_business_account"
	FieldMessages             = "messages"
	FieldTemplateStatusUpdate = "message_template_status_update"
)

// Notification is the whole body of a POST.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one WABA's changes.
type Entry struct {
	ID      string   `json:"id"` // the WABA id
	Time    int64    `json:"time,omitempty"`
	Changes []Change `json:"changes"`
}

// Change is one update; Value's shape depends on Field.
type Change struct {
	Value any    `json:"value"`
	Field string `json:"field"`
}

// Metadata names the business phone number.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"` // digits
	PhoneNumberID      string `json:"phone_number_id"`
}

// MessagesValue is the value of a "messages" change: inbound messages
// (with Contacts), statuses of outbound messages, or errors.
type MessagesValue struct {
	MessagingProduct string    `json:"messaging_product"` // "whatsapp"
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts,omitempty"`
	Messages         []Message `json:"messages,omitempty"`
	Statuses         []Status  `json:"statuses,omitempty"`
	Errors           []Error   `json:"errors,omitempty"`
}

// Contact is the sender of inbound messages.
type Contact struct {
	Profile Profile `json:"profile"`
	WaID    string  `json:"wa_id"`
}

// Profile is a contact's public profile.
type Profile struct {
	Name string `json:"name"`
}

// Message types.
const (
	TypeText        = "text"
	TypeImage       = "image"
	TypeAudio       = "audio"
	TypeVideo       = "video"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeLocation    = "location"
	TypeContacts    = "contacts"
	TypeInteractive = "interactive"
	TypeButton      = "button"
	TypeReaction    = "reaction"
	TypeOrder       = "order"
	TypeSystem      = "system"
	TypeUnsupported = "unsupported"
)

// Message is one inbound message: the common keys, then the object named
// by Type (set exactly one of them).
type Message struct {
	Context   *Context `json:"context,omitempty"`
	From      string   `json:"from"` // digits, no +
	ID        string   `json:"id"`   // wamid.…
	Timestamp string   `json:"timestamp"`
	Type      string   `json:"type"`

	Text        *Text         `json:"text,omitempty"`
	Image       *Media        `json:"image,omitempty"`
	Audio       *Media        `json:"audio,omitempty"`
	Video       *Media        `json:"video,omitempty"`
	Document    *Media        `json:"document,omitempty"`
	Sticker     *Media        `json:"sticker,omitempty"`
	Location    *Location     `json:"location,omitempty"`
	Contacts    []ContactCard `json:"contacts,omitempty"`
	Interactive *Interactive  `json:"interactive,omitempty"`
	Button      *Button       `json:"button,omitempty"`
	Reaction    *Reaction     `json:"reaction,omitempty"`
	Order       *Order        `json:"order,omitempty"`
	System      *System       `json:"system,omitempty"`
	Referral    *Referral     `json:"referral,omitempty"`
	Errors      []Error       `json:"errors,omitempty"`
	Unsupported *Unsupported  `json:"unsupported,omitempty"`

	// Object, when set, is the type's object as JSON, already shaped as
	// in the Cloud API (what a hosted business device decrypted): it is
	// written under the key Type, and the typed fields above are not.
	Object json.RawMessage `json:"-"`
}

// messageHead and messageTail are Message's keys before and after the
// type's object, for MarshalJSON.
type messageHead struct {
	Context   *Context `json:"context,omitempty"`
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Timestamp string   `json:"timestamp"`
	Type      string   `json:"type"`
}

type messageTail struct {
	Referral *Referral `json:"referral,omitempty"`
	Errors   []Error   `json:"errors,omitempty"`
}

// MarshalJSON writes the message with its typed fields, or with Object
// under the key Type when Object is set.
func (m Message) MarshalJSON() ([]byte, error) {
	type plain Message // without this method
	if len(m.Object) == 0 {
		return encodeNoHTML(plain(m))
	}
	if !json.Valid(m.Object) {
		return nil, fmt.Errorf("webhook: message %s: object is not valid JSON", m.ID)
	}
	head, err := encodeNoHTML(messageHead{m.Context, m.From, m.ID, m.Timestamp, m.Type})
	if err != nil {
		return nil, err
	}
	key, err := encodeNoHTML(m.Type)
	if err != nil {
		return nil, err
	}
	tail, err := encodeNoHTML(messageTail{m.Referral, m.Errors})
	if err != nil {
		return nil, err
	}
	out := append(head[:len(head)-1], ',')
	out = append(append(append(out, key...), ':'), m.Object...)
	if len(tail) > 2 {
		out = append(append(out, ','), tail[1:]...)
		return out, nil
	}
	return append(out, '}'), nil
}

// encodeNoHTML is json.Marshal without HTML escaping (as Marshal).
func encodeNoHTML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Context marks a reply (From, ID), a forward, or a product enquiry.
type Context struct {
	Forwarded           bool             `json:"forwarded,omitempty"`
	FrequentlyForwarded bool             `json:"frequently_forwarded,omitempty"`
	From                string           `json:"from,omitempty"`
	ID                  string           `json:"id,omitempty"`
	ReferredProduct     *ReferredProduct `json:"referred_product,omitempty"`
}

// ReferredProduct is the product a "Message business" button named.
type ReferredProduct struct {
	CatalogID         string `json:"catalog_id"`
	ProductRetailerID string `json:"product_retailer_id"`
}

// Text is a text message.
type Text struct {
	Body string `json:"body"`
}

// Media is an image, audio, video, document or sticker; ID is a media id
// the business can fetch with GET /{media-id}.
type Media struct {
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"` // documents
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"` // base64
	ID       string `json:"id"`
	URL      string `json:"url,omitempty"`
	Voice    *bool  `json:"voice,omitempty"`    // audio: a voice recording
	Animated *bool  `json:"animated,omitempty"` // stickers
}

// Location is a shared location; only the coordinates for a current
// location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// A shared contact of an inbound contacts message has the send API's
// shape (the contacts object of POST /messages), and so its types.
type (
	ContactCard = parley.CloudContact
	Address     = parley.CloudContactAddress
	Email       = parley.CloudContactEmail
	ContactName = parley.CloudContactName
	Org         = parley.CloudContactOrg
	Phone       = parley.CloudContactPhone
	ContactURL  = parley.CloudContactURL
)

// Interactive is a reply to an interactive message.
type Interactive struct {
	Type        string       `json:"type"` // button_reply, list_reply, nfm_reply
	ButtonReply *ButtonReply `json:"button_reply,omitempty"`
	ListReply   *ListReply   `json:"list_reply,omitempty"`
	NFMReply    *NFMReply    `json:"nfm_reply,omitempty"`
}

// ButtonReply is the reply button the customer tapped.
type ButtonReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ListReply is the list row the customer chose.
type ListReply struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// NFMReply is a completed flow; ResponseJSON is a JSON string.
type NFMReply struct {
	Name         string `json:"name"`
	Body         string `json:"body"`
	ResponseJSON string `json:"response_json"`
}

// Button is a template quick-reply button tapped (with Context naming
// the template message).
type Button struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// Reaction to a message (the send API's reaction object); an empty Emoji
// removes it.
type Reaction = parley.CloudReaction

// Order from a catalog.
type Order struct {
	CatalogID    string        `json:"catalog_id"`
	Text         string        `json:"text,omitempty"`
	ProductItems []ProductItem `json:"product_items"`
}

// ProductItem is one line of an order.
type ProductItem struct {
	ProductRetailerID string  `json:"product_retailer_id"`
	Quantity          int     `json:"quantity"`
	ItemPrice         float64 `json:"item_price"`
	Currency          string  `json:"currency"`
}

// System is a system message (a customer changed number).
type System struct {
	Body string `json:"body"`
	WaID string `json:"wa_id,omitempty"`
	Type string `json:"type"`
}

// Referral is the ad or post that led to the message (click to chat).
type Referral struct {
	SourceURL      string          `json:"source_url"`
	SourceID       string          `json:"source_id,omitempty"`
	SourceType     string          `json:"source_type"` // ad, post
	Body           string          `json:"body,omitempty"`
	Headline       string          `json:"headline,omitempty"`
	MediaType      string          `json:"media_type,omitempty"` // image, video
	ImageURL       string          `json:"image_url,omitempty"`
	VideoURL       string          `json:"video_url,omitempty"`
	ThumbnailURL   string          `json:"thumbnail_url,omitempty"`
	CtwaClid       string          `json:"ctwa_clid,omitempty"`
	WelcomeMessage *WelcomeMessage `json:"welcome_message,omitempty"`
}

// WelcomeMessage of a click-to-chat ad.
type WelcomeMessage struct {
	Text string `json:"text"`
}

// Unsupported names the type Meta could not pass on.
type Unsupported struct {
	Type string `json:"type"`
}

// Error is Meta's error object in webhooks.
type Error struct {
	Code      int        `json:"code"`
	Title     string     `json:"title"`
	Message   string     `json:"message,omitempty"`
	ErrorData *ErrorData `json:"error_data,omitempty"`
	Href      string     `json:"href,omitempty"`
}

// ErrorData carries an error's details.
type ErrorData struct {
	Details string `json:"details"`
}

// ErrorHref is the link Meta puts on webhook errors.
const ErrorHref = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

// Status values.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Status is one status of an outbound message.
type Status struct {
	ID                    string        `json:"id"` // the wamid the send returned
	Status                string        `json:"status"`
	Timestamp             string        `json:"timestamp"`
	RecipientID           string        `json:"recipient_id"`
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data,omitempty"`
	Conversation          *Conversation `json:"conversation,omitempty"`
	Pricing               *Pricing      `json:"pricing,omitempty"`
	Errors                []Error       `json:"errors,omitempty"`
}

// Conversation of a status (v24: only for free entry-point windows).
type Conversation struct {
	ID                  string `json:"id"`
	ExpirationTimestamp string `json:"expiration_timestamp,omitempty"` // only on sent
	Origin              Origin `json:"origin"`
}

// Origin is a conversation's category.
type Origin struct {
	Type string `json:"type"`
}

// Pricing of a status (sent, delivered, read).
type Pricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`  // PMP
	Type         string `json:"type,omitempty"` // regular, free_customer_service, free_entry_point
	Category     string `json:"category"`       // service, utility, marketing, authentication, …
}

// Pricing types.
const (
	PricingRegular             = "regular"
	PricingFreeCustomerService = "free_customer_service"
	PricingFreeEntryPoint      = "free_entry_point"
)

// StatusChange describes a status for NewStatus, which applies Meta's v24
// rules of what each status carries.
type StatusChange struct {
	MessageID             string
	Status                string // sent, delivered, read, failed
	At                    time.Time
	RecipientID           string // the customer's wa_id
	BizOpaqueCallbackData string // as given on the send

	// Pricing (sent, delivered, read): the category (service, utility,
	// marketing, authentication, …) and the type (regular,
	// free_customer_service, free_entry_point). Billable is derived:
	// regular messages are billable.
	Category    string
	PricingType string
	// Conversation, sent only within a free entry-point window (v24):
	// its id, and when it expires (on sent only).
	ConversationID      string
	ConversationExpires time.Time

	Error *Error // failed
}

// NewStatus builds the statuses[] item for c: pricing on sent, delivered
// and read; the conversation object only for free entry-point windows
// (as v24 does), its expiration only on sent; errors only on failed.
func NewStatus(c StatusChange) Status {
	s := Status{ID: c.MessageID, Status: c.Status, Timestamp: Timestamp(c.At), RecipientID: c.RecipientID,
		BizOpaqueCallbackData: c.BizOpaqueCallbackData}
	if c.Status == StatusFailed {
		if c.Error != nil {
			s.Errors = []Error{*c.Error}
		}
		return s
	}
	if c.Category != "" {
		typ := c.PricingType
		if typ == "" {
			typ = PricingRegular
		}
		s.Pricing = &Pricing{Billable: typ == PricingRegular, PricingModel: "PMP", Type: typ, Category: c.Category}
	}
	if c.ConversationID != "" && c.PricingType == PricingFreeEntryPoint {
		s.Conversation = &Conversation{ID: c.ConversationID, Origin: Origin{Type: "referral_conversion"}}
		if c.Status == StatusSent && !c.ConversationExpires.IsZero() {
			s.Conversation.ExpirationTimestamp = Timestamp(c.ConversationExpires)
		}
	}
	return s
}

// TemplateStatusUpdate is the value of a message_template_status_update
// change.
type TemplateStatusUpdate struct {
	Event                   string         `json:"event"` // APPROVED, REJECTED, PENDING, PAUSED, …
	MessageTemplateID       int64          `json:"message_template_id"`
	MessageTemplateName     string         `json:"message_template_name"`
	MessageTemplateLanguage string         `json:"message_template_language"`
	Reason                  *string        `json:"reason"` // null when scheduled for deletion
	MessageTemplateCategory string         `json:"message_template_category,omitempty"`
	DisableInfo             *DisableInfo   `json:"disable_info,omitempty"`
	OtherInfo               *OtherInfo     `json:"other_info,omitempty"`
	RejectionInfo           *RejectionInfo `json:"rejection_info,omitempty"`
}

// DisableInfo says when a template was disabled.
type DisableInfo struct {
	DisableDate string `json:"disable_date"`
}

// OtherInfo explains a pause or lock.
type OtherInfo struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// RejectionInfo explains an INVALID_FORMAT rejection.
type RejectionInfo struct {
	Reason         string `json:"reason"`
	Recommendation string `json:"recommendation"`
}

// Reason returns a pointer to r, for TemplateStatusUpdate.Reason.
func Reason(r string) *string { return &r }

// Timestamp formats t as Meta's string Unix seconds.
func Timestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func messagesChange(wabaID string, v MessagesValue) ([]byte, error) {
	v.MessagingProduct = "whatsapp"
	return Marshal(Notification{Object: ObjectWABA, Entry: []Entry{{ID: wabaID, Changes: []Change{{Value: v, Field: FieldMessages}}}}})
}

// InboundMessage builds the POST body for one inbound message from the
// customer in contact.
func InboundMessage(wabaID string, md Metadata, contact Contact, m Message) ([]byte, error) {
	return messagesChange(wabaID, MessagesValue{Metadata: md, Contacts: []Contact{contact}, Messages: []Message{m}})
}

// StatusUpdate builds the POST body for one status (see NewStatus).
func StatusUpdate(wabaID string, md Metadata, s Status) ([]byte, error) {
	return messagesChange(wabaID, MessagesValue{Metadata: md, Statuses: []Status{s}})
}

// ValueErrors builds the POST body for errors that concern no single
// message (rate limits, account problems).
func ValueErrors(wabaID string, md Metadata, errs ...Error) ([]byte, error) {
	return messagesChange(wabaID, MessagesValue{Metadata: md, Errors: errs})
}

// TemplateStatus builds the POST body for a template's status change at
// time at.
func TemplateStatus(wabaID string, at time.Time, u TemplateStatusUpdate) ([]byte, error) {
	return Marshal(Notification{Object: ObjectWABA, Entry: []Entry{{ID: wabaID, Time: at.Unix(),
		Changes: []Change{{Value: u, Field: FieldTemplateStatusUpdate}}}}})
}
