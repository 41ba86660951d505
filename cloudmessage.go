package parley

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CloudMessage is the body of POST /{phone-number-id}/messages: a message
// to send, or (Status "read") a read receipt with an optional typing
// indicator. Field names and JSON tags are the Cloud API's, so that the
// validated message re-encodes as the normalized JSON the outbound queue
// keeps. Unknown fields are ignored on decoding, as SDKs add their own.
type CloudMessage struct {
	MessagingProduct string        `json:"messaging_product"`
	RecipientType    string        `json:"recipient_type,omitempty"`
	To               string        `json:"to,omitempty"`
	Context          *CloudContext `json:"context,omitempty"`
	BizOpaque        string        `json:"biz_opaque_callback_data,omitempty"`
	Type             string        `json:"type,omitempty"`

	Text        *CloudText        `json:"text,omitempty"`
	Image       *CloudMedia       `json:"image,omitempty"`
	Audio       *CloudMedia       `json:"audio,omitempty"`
	Video       *CloudMedia       `json:"video,omitempty"`
	Document    *CloudMedia       `json:"document,omitempty"`
	Sticker     *CloudMedia       `json:"sticker,omitempty"`
	Location    *CloudLocation    `json:"location,omitempty"`
	Contacts    []CloudContact    `json:"contacts,omitempty"`
	Interactive *CloudInteractive `json:"interactive,omitempty"`
	Template    *CloudTemplate    `json:"template,omitempty"`
	Reaction    *CloudReaction    `json:"reaction,omitempty"`

	// Mark as read: {"status":"read","message_id":…[,"typing_indicator":{"type":"text"}]}.
	Status          string                `json:"status,omitempty"`
	MessageID       string                `json:"message_id,omitempty"`
	TypingIndicator *CloudTypingIndicator `json:"typing_indicator,omitempty"`
}

// CloudContext makes a message a reply to MessageID.
type CloudContext struct {
	MessageID string `json:"message_id"`
}

// CloudText is a text message.
type CloudText struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url,omitempty"`
}

// CloudMedia names media by uploaded id or by link.
type CloudMedia struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
}

// CloudLocation is a location; the coordinates come as strings or numbers.
type CloudLocation struct {
	Latitude  Coordinate `json:"latitude"`
	Longitude Coordinate `json:"longitude"`
	Name      string     `json:"name,omitempty"`
	Address   string     `json:"address,omitempty"`
}

// Coordinate is a latitude or longitude. Meta's docs type them as
// strings and SDKs send either; it is stored as a JSON number, as
// inbound webhooks carry it.
type Coordinate struct {
	V   float64
	Set bool
}

// UnmarshalJSON accepts a number or a string holding one.
func (c *Coordinate) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Errorf(EINVALID, "coordinate is not a number")
	}
	c.V, c.Set = v, true
	return nil
}

// MarshalJSON writes the number.
func (c Coordinate) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, c.V, 'f', -1, 64), nil
}

// FlexString is a string that may come as a JSON number (a template
// button's "index").
type FlexString string

// UnmarshalJSON accepts a string or a number.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = FlexString(n.String())
	return nil
}

// CloudContact is a contact card.
type CloudContact struct {
	Addresses []CloudContactAddress `json:"addresses,omitempty"`
	Birthday  string                `json:"birthday,omitempty"`
	Emails    []CloudContactEmail   `json:"emails,omitempty"`
	Name      CloudContactName      `json:"name"`
	Org       *CloudContactOrg      `json:"org,omitempty"`
	Phones    []CloudContactPhone   `json:"phones,omitempty"`
	URLs      []CloudContactURL     `json:"urls,omitempty"`
}

// CloudContactAddress is an address of a contact card.
type CloudContactAddress struct {
	Street      string `json:"street,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	Zip         string `json:"zip,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	Type        string `json:"type,omitempty"`
}

// CloudContactEmail is an email of a contact card.
type CloudContactEmail struct {
	Email string `json:"email,omitempty"`
	Type  string `json:"type,omitempty"`
}

// CloudContactName is the name of a contact card; FormattedName is required.
type CloudContactName struct {
	FormattedName string `json:"formatted_name"`
	FirstName     string `json:"first_name,omitempty"`
	LastName      string `json:"last_name,omitempty"`
	MiddleName    string `json:"middle_name,omitempty"`
	Suffix        string `json:"suffix,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
}

// CloudContactOrg is the organization of a contact card.
type CloudContactOrg struct {
	Company    string `json:"company,omitempty"`
	Department string `json:"department,omitempty"`
	Title      string `json:"title,omitempty"`
}

// CloudContactPhone is a phone of a contact card.
type CloudContactPhone struct {
	Phone string `json:"phone,omitempty"`
	Type  string `json:"type,omitempty"`
	WaID  string `json:"wa_id,omitempty"`
}

// CloudContactURL is a URL of a contact card.
type CloudContactURL struct {
	URL  string `json:"url,omitempty"`
	Type string `json:"type,omitempty"`
}

// CloudReaction reacts to a message; an empty Emoji removes the reaction.
type CloudReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// CloudTypingIndicator shows "typing…" with a read receipt.
type CloudTypingIndicator struct {
	Type string `json:"type"`
}

// CloudInteractive is an interactive message.
type CloudInteractive struct {
	Type   string        `json:"type"`
	Header *CloudIHeader `json:"header,omitempty"`
	Body   *CloudIText   `json:"body,omitempty"`
	Footer *CloudIText   `json:"footer,omitempty"`
	Action *CloudIAction `json:"action,omitempty"`
}

// CloudIHeader is the header of an interactive message.
type CloudIHeader struct {
	Type     string      `json:"type"`
	Text     string      `json:"text,omitempty"`
	Image    *CloudMedia `json:"image,omitempty"`
	Video    *CloudMedia `json:"video,omitempty"`
	Document *CloudMedia `json:"document,omitempty"`
}

// CloudIText is the body or footer of an interactive message.
type CloudIText struct {
	Text string `json:"text"`
}

// CloudIAction is the action of an interactive message.
type CloudIAction struct {
	Button            string             `json:"button,omitempty"`
	Buttons           []CloudIButton     `json:"buttons,omitempty"`
	Sections          []CloudISection    `json:"sections,omitempty"`
	Name              string             `json:"name,omitempty"`
	Parameters        *CloudIntParameter `json:"parameters,omitempty"`
	CatalogID         string             `json:"catalog_id,omitempty"`
	ProductRetailerID string             `json:"product_retailer_id,omitempty"`
}

// CloudIButton is a reply button.
type CloudIButton struct {
	Type  string      `json:"type"`
	Reply CloudIReply `json:"reply"`
}

// CloudIReply is a reply button's id and title.
type CloudIReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// CloudISection is a section of a list or product list.
type CloudISection struct {
	Title        string         `json:"title,omitempty"`
	Rows         []CloudIRow    `json:"rows,omitempty"`
	ProductItems []CloudProduct `json:"product_items,omitempty"`
}

// CloudIRow is a row of a list.
type CloudIRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// CloudProduct names a catalog product.
type CloudProduct struct {
	ProductRetailerID string `json:"product_retailer_id"`
}

// CloudIntParameter holds the parameters of a cta_url action.
type CloudIntParameter struct {
	DisplayText string `json:"display_text,omitempty"`
	URL         string `json:"url,omitempty"`
}

// CloudTemplate is a template send.
type CloudTemplate struct {
	Name       string                   `json:"name"`
	Language   CloudLanguage            `json:"language"`
	Components []CloudTemplateComponent `json:"components,omitempty"`
}

// CloudLanguage selects the template's language.
type CloudLanguage struct {
	Code   string `json:"code"`
	Policy string `json:"policy,omitempty"`
}

// CloudTemplateComponent supplies the parameters of one component.
type CloudTemplateComponent struct {
	Type       string               `json:"type"`
	SubType    string               `json:"sub_type,omitempty"`
	Index      FlexString           `json:"index,omitempty"`
	Parameters []CloudTemplateParam `json:"parameters,omitempty"`
}

// CloudTemplateParam is one parameter value.
type CloudTemplateParam struct {
	Type          string          `json:"type"`
	ParameterName string          `json:"parameter_name,omitempty"`
	Text          *string         `json:"text,omitempty"`
	Payload       *string         `json:"payload,omitempty"`
	Currency      *CloudCurrency  `json:"currency,omitempty"`
	DateTime      *CloudDateTime  `json:"date_time,omitempty"`
	Image         *CloudMedia     `json:"image,omitempty"`
	Video         *CloudMedia     `json:"video,omitempty"`
	Document      *CloudMedia     `json:"document,omitempty"`
	Location      *CloudLocation  `json:"location,omitempty"`
	CouponCode    string          `json:"coupon_code,omitempty"`
	Action        json.RawMessage `json:"action,omitempty"`
}

// CloudCurrency is a currency parameter.
type CloudCurrency struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

// CloudDateTime is a date_time parameter.
type CloudDateTime struct {
	FallbackValue string `json:"fallback_value"`
}

// Message types of the Cloud API that Parley accepts. MessageRead is the
// queue's type for read receipts.
const (
	MessageText        = "text"
	MessageImage       = "image"
	MessageAudio       = "audio"
	MessageVideo       = "video"
	MessageDocument    = "document"
	MessageSticker     = "sticker"
	MessageLocation    = "location"
	MessageContacts    = "contacts"
	MessageInteractive = "interactive"
	MessageTemplate    = "template"
	MessageReaction    = "reaction"
	MessageRead        = "read"
)

// IsRead reports whether m is a mark-as-read request.
func (m *CloudMessage) IsRead() bool { return m.Status != "" }

// invalid is the validation error of the Cloud API: code 100 with
// details.
func invalid(format string, args ...any) *Error { return Errorf(EINVALID, format, args...) }

func tooLong(field string, n int) *Error {
	return invalid("Param %s must be at most %d characters long.", field, n)
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// Validate checks m with the Cloud API's rules and normalizes it: Type
// defaults to text, RecipientType to individual. It does not check the
// recipient (NormalizeRecipient) nor template parameters against the
// template (CheckTemplate), which need the business number and the
// store. Errors are EINVALID with Meta-style details as the message, or
// carry a Reason.
func (m *CloudMessage) Validate() error {
	if m.MessagingProduct != "whatsapp" {
		return invalid("The parameter messaging_product is required and must be \"whatsapp\".")
	}
	if m.IsRead() {
		if m.Status != "read" {
			return invalid("Param status must be \"read\".")
		}
		if m.MessageID == "" || len(m.MessageID) > 256 {
			return invalid("The parameter message_id is required.")
		}
		if m.TypingIndicator != nil && m.TypingIndicator.Type != "text" {
			return invalid("Param typing_indicator.type must be \"text\".")
		}
		return nil
	}
	switch m.RecipientType {
	case "", "individual":
		m.RecipientType = "individual"
	case "group":
		return reasonError(EINVALID, ReasonUnsupportedType, "Group messages are not supported.")
	default:
		return invalid("Param recipient_type must be \"individual\".")
	}
	if strings.TrimSpace(m.To) == "" {
		return invalid("The parameter to is required.")
	}
	if len(m.To) > 64 {
		return tooLong("to", 64)
	}
	if runes(m.BizOpaque) > 512 {
		return tooLong("biz_opaque_callback_data", 512)
	}
	if m.Type == "" {
		m.Type = MessageText
	}
	if m.Context != nil {
		if m.Context.MessageID == "" || len(m.Context.MessageID) > 256 {
			return invalid("Param context.message_id is required.")
		}
		if m.Type == MessageReaction {
			return invalid("Contextual replies are not supported for reaction messages.")
		}
	}
	if n := m.payloads(); n != 1 || m.payload() == nil {
		if n > 1 {
			return invalid("Only the %s object may be present for a message of type %s.", m.Type, m.Type)
		}
		if !knownType(m.Type) {
			return invalid("Param type must be one of text, image, audio, video, document, sticker, location, contacts, interactive, template, reaction.")
		}
		return invalid("The parameter %s is required.", m.Type)
	}
	switch m.Type {
	case MessageText:
		if m.Text.Body == "" {
			return invalid("The parameter text.body is required.")
		}
		if runes(m.Text.Body) > 4096 {
			return tooLong("text.body", 4096)
		}
	case MessageImage, MessageVideo, MessageDocument, MessageAudio, MessageSticker:
		return m.payload().(*CloudMedia).validate(m.Type, m.Type)
	case MessageLocation:
		return m.Location.validate("location")
	case MessageContacts:
		return validateContacts(m.Contacts)
	case MessageInteractive:
		return m.Interactive.validate()
	case MessageTemplate:
		return m.Template.validate()
	case MessageReaction:
		if m.Reaction.MessageID == "" || len(m.Reaction.MessageID) > 256 {
			return invalid("The parameter reaction.message_id is required.")
		}
		if runes(m.Reaction.Emoji) > 10 {
			return invalid("Param reaction.emoji must be a single emoji.")
		}
	}
	return nil
}

func knownType(t string) bool {
	switch t {
	case MessageText, MessageImage, MessageAudio, MessageVideo, MessageDocument, MessageSticker, MessageLocation,
		MessageContacts, MessageInteractive, MessageTemplate, MessageReaction:
		return true
	}
	return false
}

// payload returns the object of m.Type, or nil.
func (m *CloudMessage) payload() any {
	switch m.Type {
	case MessageText:
		return nilIf(m.Text)
	case MessageImage:
		return nilIf(m.Image)
	case MessageAudio:
		return nilIf(m.Audio)
	case MessageVideo:
		return nilIf(m.Video)
	case MessageDocument:
		return nilIf(m.Document)
	case MessageSticker:
		return nilIf(m.Sticker)
	case MessageLocation:
		return nilIf(m.Location)
	case MessageContacts:
		if len(m.Contacts) == 0 {
			return nil
		}
		return m.Contacts
	case MessageInteractive:
		return nilIf(m.Interactive)
	case MessageTemplate:
		return nilIf(m.Template)
	case MessageReaction:
		return nilIf(m.Reaction)
	}
	return nil
}

func nilIf[T any](p *T) any {
	if p == nil {
		return nil
	}
	return p
}

// payloads counts the type objects present.
func (m *CloudMessage) payloads() int {
	n := 0
	for _, present := range []bool{m.Text != nil, m.Image != nil, m.Audio != nil, m.Video != nil, m.Document != nil,
		m.Sticker != nil, m.Location != nil, len(m.Contacts) > 0, m.Interactive != nil, m.Template != nil, m.Reaction != nil} {
		if present {
			n++
		}
	}
	return n
}

func validLink(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && len(s) > len("https://") &&
		len(s) <= 2048 && !strings.ContainsAny(s, " \t\r\n")
}

func (c *CloudMedia) validate(kind, field string) error {
	if (c.ID == "") == (c.Link == "") {
		return invalid("Param %s must have exactly one of id or link.", field)
	}
	if c.ID != "" && (len(c.ID) > 128 || strings.ContainsAny(c.ID, " \t\r\n/")) {
		return invalid("Param %s.id is not a valid media id.", field)
	}
	if c.Link != "" && !validLink(c.Link) {
		return invalid("Param %s.link must be an http(s) URL.", field)
	}
	switch kind {
	case MessageImage, MessageVideo, MessageDocument:
		if runes(c.Caption) > 1024 {
			return tooLong(field+".caption", 1024)
		}
	default:
		if c.Caption != "" {
			return invalid("Param %s.caption is not allowed for %s.", field, kind)
		}
	}
	if c.Filename != "" && kind != MessageDocument {
		return invalid("Param %s.filename is allowed only for documents.", field)
	}
	if runes(c.Filename) > 240 {
		return tooLong(field+".filename", 240)
	}
	if c.Voice && kind != MessageAudio {
		return invalid("Param %s.voice is allowed only for audio.", field)
	}
	return nil
}

func (l *CloudLocation) validate(field string) error {
	if !l.Latitude.Set || !l.Longitude.Set {
		return invalid("Params %s.latitude and %s.longitude are required.", field, field)
	}
	if l.Latitude.V < -90 || l.Latitude.V > 90 || l.Longitude.V < -180 || l.Longitude.V > 180 {
		return invalid("Param %s has coordinates out of range.", field)
	}
	if runes(l.Name) > 1000 || runes(l.Address) > 1000 {
		return tooLong(field+".name/address", 1000)
	}
	return nil
}

func validateContacts(cs []CloudContact) error {
	if len(cs) > 257 {
		return invalid("Param contacts may hold at most 257 contacts.")
	}
	for i, c := range cs {
		if strings.TrimSpace(c.Name.FormattedName) == "" {
			return invalid("The parameter contacts[%d].name.formatted_name is required.", i)
		}
		if c.Birthday != "" {
			if _, err := time.Parse("2006-01-02", c.Birthday); err != nil {
				return invalid("Param contacts[%d].birthday must be YYYY-MM-DD.", i)
			}
		}
		if len(c.Addresses)+len(c.Emails)+len(c.Phones)+len(c.URLs) > 100 {
			return invalid("Param contacts[%d] has too many entries.", i)
		}
	}
	return nil
}

func (it *CloudInteractive) validate() error {
	a := it.Action
	if a == nil && it.Type != "location_request_message" {
		return invalid("The parameter interactive.action is required.")
	}
	bodyMax := 1024
	switch it.Type {
	case "button":
		if n := len(a.Buttons); n < 1 || n > 3 {
			return invalid("Param interactive.action.buttons must hold 1 to 3 buttons.")
		}
		ids, titles := map[string]bool{}, map[string]bool{}
		for i, b := range a.Buttons {
			if b.Type != "reply" {
				return invalid("Param interactive.action.buttons[%d].type must be \"reply\".", i)
			}
			id, title := b.Reply.ID, b.Reply.Title
			if id == "" || len(id) > 256 || strings.TrimSpace(id) != id {
				return invalid("Param interactive.action.buttons[%d].reply.id must have 1 to 256 characters without leading or trailing spaces.", i)
			}
			if title == "" || runes(title) > 20 {
				return invalid("Param interactive.action.buttons[%d].reply.title must have 1 to 20 characters.", i)
			}
			if ids[id] || titles[title] {
				return invalid("Button ids and titles must be unique.")
			}
			ids[id], titles[title] = true, true
		}
	case "list":
		bodyMax = 4096
		if a.Button == "" || runes(a.Button) > 20 {
			return invalid("Param interactive.action.button must have 1 to 20 characters.")
		}
		if n := len(a.Sections); n < 1 || n > 10 {
			return invalid("Param interactive.action.sections must hold 1 to 10 sections.")
		}
		rows, ids := 0, map[string]bool{}
		for i, s := range a.Sections {
			if len(a.Sections) > 1 && s.Title == "" {
				return invalid("Param interactive.action.sections[%d].title is required when there are several sections.", i)
			}
			if runes(s.Title) > 24 {
				return tooLong("interactive.action.sections.title", 24)
			}
			if len(s.Rows) == 0 {
				return invalid("Param interactive.action.sections[%d].rows must not be empty.", i)
			}
			for _, r := range s.Rows {
				rows++
				if r.ID == "" || len(r.ID) > 200 || ids[r.ID] {
					return invalid("List row ids must be unique and have 1 to 200 characters.")
				}
				ids[r.ID] = true
				if r.Title == "" || runes(r.Title) > 24 {
					return invalid("List row titles must have 1 to 24 characters.")
				}
				if runes(r.Description) > 72 {
					return tooLong("interactive.action.sections.rows.description", 72)
				}
			}
		}
		if rows > 10 {
			return invalid("A list may hold at most 10 rows in total.")
		}
		if it.Header != nil && it.Header.Type != "text" {
			return invalid("Param interactive.header.type must be \"text\" for lists.")
		}
	case "cta_url":
		p := a.Parameters
		if a.Name != "cta_url" || p == nil {
			return invalid("Param interactive.action must have name \"cta_url\" and parameters.")
		}
		if p.DisplayText == "" || runes(p.DisplayText) > 20 {
			return invalid("Param interactive.action.parameters.display_text must have 1 to 20 characters.")
		}
		if !validLink(p.URL) {
			return invalid("Param interactive.action.parameters.url must be an http(s) URL.")
		}
	case "product":
		if a.CatalogID == "" || a.ProductRetailerID == "" {
			return invalid("Params interactive.action.catalog_id and product_retailer_id are required.")
		}
		if it.Header != nil {
			return invalid("Single-product messages have no header.")
		}
	case "product_list":
		if a.CatalogID == "" {
			return invalid("The parameter interactive.action.catalog_id is required.")
		}
		if it.Header == nil || it.Header.Type != "text" {
			return invalid("Param interactive.header is required and must be text for product lists.")
		}
		if n := len(a.Sections); n < 1 || n > 10 {
			return invalid("Param interactive.action.sections must hold 1 to 10 sections.")
		}
		items := 0
		for i, s := range a.Sections {
			if s.Title == "" || runes(s.Title) > 24 {
				return invalid("Param interactive.action.sections[%d].title must have 1 to 24 characters.", i)
			}
			if len(s.ProductItems) == 0 {
				return invalid("Param interactive.action.sections[%d].product_items must not be empty.", i)
			}
			for _, p := range s.ProductItems {
				if p.ProductRetailerID == "" {
					return invalid("Every product item needs a product_retailer_id.")
				}
			}
			items += len(s.ProductItems)
		}
		if items > 30 {
			return invalid("A product list may hold at most 30 products.")
		}
	case "location_request_message":
		if a == nil || a.Name != "send_location" {
			return invalid("Param interactive.action.name must be \"send_location\".")
		}
	default:
		return invalid("Param interactive.type must be one of button, list, cta_url, product, product_list, location_request_message.")
	}
	if it.Type != "product" && it.Type != "product_list" && (it.Body == nil || it.Body.Text == "") {
		return invalid("The parameter interactive.body.text is required.")
	}
	if it.Body != nil && runes(it.Body.Text) > bodyMax {
		return tooLong("interactive.body.text", bodyMax)
	}
	if it.Footer != nil && runes(it.Footer.Text) > 60 {
		return tooLong("interactive.footer.text", 60)
	}
	if h := it.Header; h != nil {
		switch h.Type {
		case "text":
			if h.Text == "" || runes(h.Text) > 60 {
				return invalid("Param interactive.header.text must have 1 to 60 characters.")
			}
		case "image", "video", "document":
			if it.Type != "button" && it.Type != "cta_url" {
				return invalid("Media headers are allowed only for button and cta_url messages.")
			}
			var md *CloudMedia
			switch h.Type {
			case "image":
				md = h.Image
			case "video":
				md = h.Video
			default:
				md = h.Document
			}
			if md == nil {
				return invalid("The parameter interactive.header.%s is required.", h.Type)
			}
			return md.validate(h.Type, "interactive.header."+h.Type)
		default:
			return invalid("Param interactive.header.type must be text, image, video or document.")
		}
	}
	return nil
}

func (t *CloudTemplate) validate() error {
	if t.Name == "" || len(t.Name) > 512 {
		return invalid("The parameter template.name is required.")
	}
	if t.Language.Code == "" {
		return invalid("The parameter template.language.code is required.")
	}
	if p := t.Language.Policy; p != "" && p != "deterministic" {
		return invalid("Param template.language.policy must be \"deterministic\".")
	}
	if len(t.Components) > 20 {
		return invalid("Param template.components has too many components.")
	}
	for i := range t.Components {
		c := &t.Components[i]
		c.Type = strings.ToLower(c.Type)
		switch c.Type {
		case "header", "body":
		case "button":
			c.SubType = strings.ToLower(c.SubType)
			switch c.SubType {
			case "quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "voice_call":
			default:
				return invalid("Param template.components[%d].sub_type is not valid.", i)
			}
			if n, err := strconv.Atoi(string(c.Index)); err != nil || n < 0 || n > 9 {
				return invalid("Param template.components[%d].index must be 0 to 9.", i)
			}
		case "carousel", "limited_time_offer", "order_status":
			return reasonError(EINVALID, ReasonUnsupportedType, "Template component %s is not supported.", c.Type)
		default:
			return invalid("Param template.components[%d].type must be header, body or button.", i)
		}
		if len(c.Parameters) > 100 {
			return invalid("Param template.components[%d].parameters has too many parameters.", i)
		}
		for j := range c.Parameters {
			if err := c.Parameters[j].validate(fmt_(i, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fmt_(i, j int) string {
	return "template.components[" + strconv.Itoa(i) + "].parameters[" + strconv.Itoa(j) + "]"
}

func templateParamError(format string, args ...any) error {
	return reasonError(EINVALID, ReasonTemplateParam, format, args...)
}

func (p *CloudTemplateParam) validate(field string) error {
	p.Type = strings.ToLower(p.Type)
	switch p.Type {
	case "text":
		if p.Text == nil || *p.Text == "" {
			return invalid("Parameter 'text' is mandatory for component parameter type 'text'")
		}
		if runes(*p.Text) > 32768 {
			return tooLong(field+".text", 32768)
		}
	case "payload":
		if p.Payload == nil {
			return invalid("Parameter 'payload' is mandatory for component parameter type 'payload'")
		}
		if len(*p.Payload) > 256 {
			return tooLong(field+".payload", 256)
		}
	case "currency":
		c := p.Currency
		if c == nil || c.FallbackValue == "" || len(c.Code) != 3 || strings.ToUpper(c.Code) != c.Code {
			return templateParamError("Param %s.currency needs fallback_value, an ISO 4217 code and amount_1000.", field)
		}
	case "date_time":
		if p.DateTime == nil || p.DateTime.FallbackValue == "" {
			return templateParamError("Param %s.date_time.fallback_value is required.", field)
		}
	case "image", "video", "document":
		var md *CloudMedia
		switch p.Type {
		case "image":
			md = p.Image
		case "video":
			md = p.Video
		default:
			md = p.Document
		}
		if md == nil {
			return invalid("Parameter '%s' is mandatory for component parameter type '%s'", p.Type, p.Type)
		}
		return md.validate(p.Type, field+"."+p.Type)
	case "location":
		if p.Location == nil {
			return invalid("Parameter 'location' is mandatory for component parameter type 'location'")
		}
		return p.Location.validate(field + ".location")
	case "coupon_code":
		if p.CouponCode == "" || runes(p.CouponCode) > 15 {
			return templateParamError("Param %s.coupon_code must have 1 to 15 characters.", field)
		}
	case "action":
		if len(p.Action) == 0 {
			return invalid("Parameter 'action' is mandatory for component parameter type 'action'")
		}
	default:
		return invalid("Param %s.type is not a valid parameter type.", field)
	}
	if p.ParameterName != "" && !namedParamRE.MatchString(p.ParameterName) {
		return invalid("Param %s.parameter_name must be lowercase letters, digits and underscores.", field)
	}
	return nil
}

// CheckTemplate checks the parameters of a template send against the
// template: its status, the number and format of parameters of each
// component, and the media a media header needs. sh is tpl.Shape(),
// which callers may cache; nil computes it.
func (t *CloudTemplate) CheckTemplate(tpl *Template, sh *TemplateShape) error {
	switch tpl.Status {
	case TemplateApproved:
	case TemplatePaused:
		return reasonError(EINVALID, ReasonTemplatePaused, "Template is paused")
	case TemplateDisabled:
		return reasonError(EINVALID, ReasonTemplateDisabled, "Template is disabled")
	default:
		return reasonError(ENOTFOUND, ReasonTemplateMissing, "template name (%s) does not exist in %s", t.Name, t.Language.Code)
	}
	if sh == nil {
		var err error
		if sh, err = tpl.Shape(); err != nil {
			return err
		}
	}
	var header, body []CloudTemplateParam
	buttons := map[int]*CloudTemplateComponent{}
	for i := range t.Components {
		c := &t.Components[i]
		switch c.Type {
		case "header":
			header = append(header, c.Parameters...)
		case "body":
			body = append(body, c.Parameters...)
		case "button":
			n, _ := strconv.Atoi(string(c.Index))
			if buttons[n] != nil {
				return invalid("Button index %d appears twice.", n)
			}
			buttons[n] = c
		}
	}
	// Header.
	switch sh.HeaderFormat {
	case "TEXT":
		if err := matchParams("header", header, sh.HeaderParams, sh.Format); err != nil {
			return err
		}
	case "IMAGE", "VIDEO", "DOCUMENT", "GIF":
		want := strings.ToLower(sh.HeaderFormat)
		if want == "gif" {
			want = "video"
		}
		if len(header) != 1 {
			return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: header: expected 1, got %d", len(header))
		}
		if header[0].Type != want {
			return reasonError(EINVALID, ReasonTemplateFormat, "header: expected a parameter of type %s", want)
		}
	case "LOCATION":
		if len(header) != 1 || header[0].Type != "location" {
			return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: header: expected 1 location")
		}
	default:
		if len(header) > 0 {
			return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: header: expected 0, got %d", len(header))
		}
	}
	if err := matchParams("body", body, sh.BodyParams, sh.Format); err != nil {
		return err
	}
	for n, c := range buttons {
		if n >= len(sh.Buttons) {
			return invalid("Button at index %d does not exist in the template.", n)
		}
		want := 0
		if sh.ButtonParams[n] {
			want = 1
		}
		if c.SubType == "quick_reply" {
			if sh.Buttons[n] != "QUICK_REPLY" {
				return invalid("Button at index %d is not a quick reply.", n)
			}
			if len(c.Parameters) > 1 {
				return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: button %d", n)
			}
			continue
		}
		if len(c.Parameters) != want && c.SubType != "flow" && c.SubType != "catalog" && c.SubType != "mpm" {
			return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: button %d: expected %d, got %d", n, want, len(c.Parameters))
		}
	}
	for n, typ := range sh.Buttons {
		if sh.ButtonParams[n] && buttons[n] == nil && typ != "COPY_CODE" {
			return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: button %d: expected 1, got 0", n)
		}
	}
	return nil
}

// matchParams checks the parameters given for a text component against
// its placeholders.
func matchParams(where string, got []CloudTemplateParam, want []string, format string) error {
	if len(got) != len(want) {
		return reasonError(EINVALID, ReasonTemplateParams, "Number of parameters does not match the expected number of params: %s: expected %d, got %d", where, len(want), len(got))
	}
	named := 0
	for _, p := range got {
		if p.ParameterName != "" {
			named++
		}
		switch p.Type {
		case "text", "currency", "date_time":
		default:
			return reasonError(EINVALID, ReasonTemplateFormat, "%s: parameters must be text, currency or date_time", where)
		}
	}
	if format == FormatNamed {
		if named != len(got) {
			return reasonError(EINVALID, ReasonTemplateFormat, "Parameter format does not match format in the created template: %s takes named parameters", where)
		}
		for _, p := range got {
			found := false
			for _, w := range want {
				found = found || w == p.ParameterName
			}
			if !found {
				return reasonError(EINVALID, ReasonTemplateFormat, "Parameter name %s does not exist in the template's %s", p.ParameterName, where)
			}
		}
		return nil
	}
	if named != 0 {
		return reasonError(EINVALID, ReasonTemplateFormat, "Parameter format does not match format in the created template: %s takes positional parameters", where)
	}
	return nil
}
