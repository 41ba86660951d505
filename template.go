package parley

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Template categories.
const (
	CategoryMarketing      = "MARKETING"
	CategoryUtility        = "UTILITY"
	CategoryAuthentication = "AUTHENTICATION"
)

// Template statuses (the subset Parley produces; Meta has more).
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
	TemplateRejected = "REJECTED"
	TemplatePaused   = "PAUSED"
	TemplateDisabled = "DISABLED"
	TemplateDeleted  = "DELETED" // only in events: deleted templates are gone from the store
)

// Rejection reasons.
const (
	RejectInvalidFormat     = "INVALID_FORMAT"
	RejectIncorrectCategory = "INCORRECT_CATEGORY"
	RejectAbusiveContent    = "ABUSIVE_CONTENT"
	RejectNone              = "NONE"
)

// Parameter formats.
const (
	FormatPositional = "POSITIONAL"
	FormatNamed      = "NAMED"
)

// Template is a message template of a business: the only kind of message a
// business may send outside the customer-service window. (Business, Name,
// Language) is unique.
type Template struct {
	ID              string // Graph id
	Business        string
	Name            string
	Language        string
	Category        string
	Status          string
	ParameterFormat string          // FormatPositional or FormatNamed
	Components      json.RawMessage // the components array as created, normalized
	RejectedReason  string          // RejectNone unless rejected
	SendTTL         int             // message_send_ttl_seconds; 0: default
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TemplateFilter selects templates of one business. Paging is by id:
// After returns ids greater than it, Before ids less than it (then the
// page is the last Limit before it, still in ascending order).
type TemplateFilter struct {
	Business string
	Name     string // exact; "" any
	Status   string
	Category string
	Language string
	After    string
	Before   string
	Limit    int
}

// TemplateComponent is one component of a template as created with
// POST /{waba-id}/message_templates.
type TemplateComponent struct {
	Type    string           `json:"type"`             // HEADER, BODY, FOOTER, BUTTONS
	Format  string           `json:"format,omitempty"` // HEADER: TEXT, IMAGE, VIDEO, GIF, DOCUMENT, LOCATION
	Text    string           `json:"text,omitempty"`
	Example *TemplateExample `json:"example,omitempty"`
	Buttons []TemplateButton `json:"buttons,omitempty"`
	// Authentication templates.
	AddSecurityRecommendation *bool `json:"add_security_recommendation,omitempty"`
	CodeExpirationMinutes     *int  `json:"code_expiration_minutes,omitempty"`
}

// TemplateExample holds the sample values required for every parameter.
type TemplateExample struct {
	HeaderText      []string          `json:"header_text,omitempty"`
	HeaderTextNamed []NamedParamValue `json:"header_text_named_params,omitempty"`
	HeaderHandle    []string          `json:"header_handle,omitempty"`
	BodyText        [][]string        `json:"body_text,omitempty"`
	BodyTextNamed   []NamedParamValue `json:"body_text_named_params,omitempty"`
	HeaderURL       []string          `json:"header_url,omitempty"`
}

// NamedParamValue is an example of a named parameter.
type NamedParamValue struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// TemplateButton is one button of a BUTTONS component.
type TemplateButton struct {
	Type           string          `json:"type"` // QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW, CATALOG, MPM
	Text           string          `json:"text,omitempty"`
	URL            string          `json:"url,omitempty"`
	PhoneNumber    string          `json:"phone_number,omitempty"`
	Example        json.RawMessage `json:"example,omitempty"` // URL: ["..."]; COPY_CODE: "..."
	OTPType        string          `json:"otp_type,omitempty"`
	AutofillText   string          `json:"autofill_text,omitempty"`
	PackageName    string          `json:"package_name,omitempty"`
	SignatureHash  string          `json:"signature_hash,omitempty"`
	SupportedApps  json.RawMessage `json:"supported_apps,omitempty"`
	FlowID         string          `json:"flow_id,omitempty"`
	FlowName       string          `json:"flow_name,omitempty"`
	FlowAction     string          `json:"flow_action,omitempty"`
	NavigateScreen string          `json:"navigate_screen,omitempty"`
}

var (
	templateNameRE = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	languageRE     = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]{2,4})?$`)
	placeholderRE  = regexp.MustCompile(`\{\{\s*([^{}\s]*)\s*\}\}`)
	namedParamRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ValidTemplateName reports whether name follows Meta's rules: lowercase
// letters, digits and underscores, at most 512 characters.
func ValidTemplateName(name string) bool { return templateNameRE.MatchString(name) }

// ValidLanguage reports whether code looks like a template language code
// ("en", "en_US", "pt_BR", "zh_CN").
func ValidLanguage(code string) bool { return languageRE.MatchString(code) }

// ParseTemplateComponents decodes a components array.
func ParseTemplateComponents(raw []byte) ([]TemplateComponent, error) {
	var cs []TemplateComponent
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, Errorf(EINVALID, "components must be an array of component objects")
	}
	return cs, nil
}

// placeholders returns the parameter names of text in order ("1", "2" or
// "first_name"), or an error when they are neither all positional
// (1, 2, ... in order) nor all named as format requires.
func placeholders(text, format, where string) ([]string, error) {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	for i, n := range names {
		if format == FormatNamed {
			if !namedParamRE.MatchString(n) {
				return nil, Errorf(EINVALID, "%s: named parameters must be lowercase letters, digits and underscores: {{%s}}", where, n)
			}
			if slices.Contains(names[:i], n) {
				return nil, Errorf(EINVALID, "%s: parameter {{%s}} appears twice", where, n)
			}
			continue
		}
		if n != strconv.Itoa(i+1) {
			return nil, Errorf(EINVALID, "%s: positional parameters must be {{1}}, {{2}}, ... in order", where)
		}
	}
	return names, nil
}

// TemplateShape is what a send must supply for a template: how many (or
// which named) parameters its header and body take, whether the header
// takes media, and the buttons that take a parameter.
type TemplateShape struct {
	Format       string   // FormatPositional or FormatNamed
	HeaderFormat string   // "", TEXT, IMAGE, VIDEO, GIF, DOCUMENT, LOCATION
	HeaderParams []string // parameter names of a TEXT header
	BodyParams   []string
	Buttons      []string // button types by index
	// ButtonParams: indexes of buttons that take one parameter (URL with
	// a placeholder, COPY_CODE, OTP copy-code/one-tap).
	ButtonParams map[int]bool
}

// Shape derives the template's TemplateShape from its components.
func (t *Template) Shape() (*TemplateShape, error) {
	cs, err := ParseTemplateComponents(t.Components)
	if err != nil {
		return nil, err
	}
	sh := &TemplateShape{Format: t.ParameterFormat, ButtonParams: map[int]bool{}}
	if sh.Format == "" {
		sh.Format = FormatPositional
	}
	for _, c := range cs {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			sh.HeaderFormat = strings.ToUpper(c.Format)
			if sh.HeaderFormat == "TEXT" {
				if sh.HeaderParams, err = placeholders(c.Text, sh.Format, "header"); err != nil {
					return nil, err
				}
			}
		case "BODY":
			text := c.Text
			if t.Category == CategoryAuthentication && text == "" {
				text = "{{1}}" // Meta writes the body of authentication templates: "{{1}} is your verification code."
				if sh.Format == FormatNamed {
					text = "{{code}}"
				}
			}
			if sh.BodyParams, err = placeholders(text, sh.Format, "body"); err != nil {
				return nil, err
			}
		case "BUTTONS":
			for i, b := range c.Buttons {
				typ := strings.ToUpper(b.Type)
				sh.Buttons = append(sh.Buttons, typ)
				switch typ {
				case "URL":
					sh.ButtonParams[i] = placeholderRE.MatchString(b.URL)
				case "COPY_CODE":
					sh.ButtonParams[i] = true
				case "OTP":
					sh.ButtonParams[i] = true // the code, as the url parameter
				}
			}
		}
	}
	return sh, nil
}

// TemplateRequest is a template as a business asks to create it.
type TemplateRequest struct {
	Name            string          `json:"name"`
	Language        string          `json:"language"`
	Category        string          `json:"category"`
	ParameterFormat string          `json:"parameter_format"`
	Components      json.RawMessage `json:"components"`
	SendTTL         int             `json:"message_send_ttl_seconds"`
	AllowCategory   bool            `json:"allow_category_change"`
}

// Validate checks a template request against Meta's creation rules and
// normalizes it (uppercase category and format). A request that breaks a
// rule is refused (EINVALID); one that is well-formed but would not pass
// review is created and rejected (see Review).
func (r *TemplateRequest) Validate() error {
	if !ValidTemplateName(r.Name) {
		return Errorf(EINVALID, "name must be 1 to 512 lowercase letters, digits and underscores")
	}
	if !ValidLanguage(r.Language) {
		return Errorf(EINVALID, "language must be a language code such as en_US")
	}
	r.Category = strings.ToUpper(r.Category)
	switch r.Category {
	case CategoryMarketing, CategoryUtility, CategoryAuthentication:
	default:
		return Errorf(EINVALID, "category must be MARKETING, UTILITY or AUTHENTICATION")
	}
	switch r.ParameterFormat = strings.ToUpper(r.ParameterFormat); r.ParameterFormat {
	case "":
		r.ParameterFormat = FormatPositional
	case FormatPositional, FormatNamed:
	default:
		return Errorf(EINVALID, "parameter_format must be named or positional")
	}
	if r.SendTTL < 0 || r.SendTTL > 30*24*3600 {
		return Errorf(EINVALID, "message_send_ttl_seconds is out of range")
	}
	if len(r.Components) == 0 {
		return Errorf(EINVALID, "components is required")
	}
	cs, err := ParseTemplateComponents(r.Components)
	if err != nil {
		return err
	}
	var body, header, footer, buttons int
	for i := range cs {
		c := &cs[i]
		c.Type = strings.ToUpper(c.Type)
		switch c.Type {
		case "HEADER":
			header++
			if err := r.validateHeader(c); err != nil {
				return err
			}
		case "BODY":
			body++
			if err := r.validateBody(c); err != nil {
				return err
			}
		case "FOOTER":
			footer++
			if utf8.RuneCountInString(c.Text) > 60 {
				return Errorf(EINVALID, "footer text must have at most 60 characters")
			}
			if placeholderRE.MatchString(c.Text) {
				return Errorf(EINVALID, "footer text must not contain parameters")
			}
			if c.Text == "" && r.Category != CategoryAuthentication {
				return Errorf(EINVALID, "footer text is required")
			}
		case "BUTTONS":
			buttons++
			if err := r.validateButtons(c); err != nil {
				return err
			}
		default:
			return Errorf(EINVALID, "component type must be HEADER, BODY, FOOTER or BUTTONS")
		}
	}
	if body != 1 || header > 1 || footer > 1 || buttons > 1 {
		return Errorf(EINVALID, "a template has exactly one BODY and at most one HEADER, FOOTER and BUTTONS component")
	}
	norm, err := json.Marshal(cs)
	if err != nil {
		return Errorf(EINVALID, "components cannot be encoded")
	}
	r.Components = norm
	return nil
}

func (r *TemplateRequest) validateHeader(c *TemplateComponent) error {
	c.Format = strings.ToUpper(c.Format)
	switch c.Format {
	case "TEXT":
		if c.Text == "" || utf8.RuneCountInString(c.Text) > 60 {
			return Errorf(EINVALID, "header text must have 1 to 60 characters")
		}
		names, err := placeholders(c.Text, r.ParameterFormat, "header")
		if err != nil {
			return err
		}
		if len(names) > 1 {
			return Errorf(EINVALID, "header text may have at most one parameter")
		}
		if len(names) == 1 {
			if c.Example == nil || (len(c.Example.HeaderText) != 1 && len(c.Example.HeaderTextNamed) != 1) {
				return Errorf(EINVALID, "header text with a parameter needs example.header_text (or header_text_named_params)")
			}
		}
	case "IMAGE", "VIDEO", "GIF", "DOCUMENT":
		if c.Example == nil || len(c.Example.HeaderHandle) == 0 {
			return Errorf(EINVALID, "a %s header needs example.header_handle", c.Format)
		}
	case "LOCATION":
		if r.Category == CategoryAuthentication {
			return Errorf(EINVALID, "a LOCATION header is allowed only in UTILITY and MARKETING templates")
		}
	default:
		return Errorf(EINVALID, "header format must be TEXT, IMAGE, VIDEO, GIF, DOCUMENT or LOCATION")
	}
	if r.Category == CategoryAuthentication {
		return Errorf(EINVALID, "authentication templates have no header")
	}
	return nil
}

func (r *TemplateRequest) validateBody(c *TemplateComponent) error {
	if r.Category == CategoryAuthentication && c.Text == "" {
		return nil // Meta writes the text of authentication templates
	}
	if c.Text == "" || utf8.RuneCountInString(c.Text) > 1024 {
		return Errorf(EINVALID, "body text must have 1 to 1024 characters")
	}
	names, err := placeholders(c.Text, r.ParameterFormat, "body")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	trimmed := strings.TrimSpace(c.Text)
	if strings.HasPrefix(trimmed, "{{") || strings.HasSuffix(trimmed, "}}") {
		return Errorf(EINVALID, "body text must not start or end with a parameter")
	}
	if c.Example == nil {
		return Errorf(EINVALID, "body text with parameters needs an example")
	}
	if r.ParameterFormat == FormatNamed {
		got := map[string]bool{}
		for _, p := range c.Example.BodyTextNamed {
			got[p.ParamName] = p.Example != ""
		}
		for _, n := range names {
			if !got[n] {
				return Errorf(EINVALID, "example.body_text_named_params needs an example for {{%s}}", n)
			}
		}
		return nil
	}
	if len(c.Example.BodyText) != 1 || len(c.Example.BodyText[0]) != len(names) {
		return Errorf(EINVALID, "example.body_text must hold one list of %d example values", len(names))
	}
	return nil
}

func (r *TemplateRequest) validateButtons(c *TemplateComponent) error {
	if len(c.Buttons) == 0 || len(c.Buttons) > 10 {
		return Errorf(EINVALID, "BUTTONS must hold 1 to 10 buttons")
	}
	count := map[string]int{}
	quick := []int{}
	for i := range c.Buttons {
		b := &c.Buttons[i]
		b.Type = strings.ToUpper(b.Type)
		count[b.Type]++
		switch b.Type {
		case "QUICK_REPLY":
			quick = append(quick, i)
			if b.Text == "" || utf8.RuneCountInString(b.Text) > 25 {
				return Errorf(EINVALID, "button text must have 1 to 25 characters")
			}
		case "URL":
			if b.Text == "" || utf8.RuneCountInString(b.Text) > 25 {
				return Errorf(EINVALID, "button text must have 1 to 25 characters")
			}
			if !strings.HasPrefix(b.URL, "https://") && !strings.HasPrefix(b.URL, "http://") || len(b.URL) > 2000 {
				return Errorf(EINVALID, "URL button url must be an http(s) URL")
			}
			if n := len(placeholderRE.FindAllString(b.URL, -1)); n > 1 || n == 1 && !strings.HasSuffix(b.URL, "}}") {
				return Errorf(EINVALID, "URL button url may have one parameter, at its end")
			} else if n == 1 && len(b.Example) == 0 {
				return Errorf(EINVALID, "URL button with a parameter needs an example")
			}
		case "PHONE_NUMBER":
			if b.Text == "" || utf8.RuneCountInString(b.Text) > 25 {
				return Errorf(EINVALID, "button text must have 1 to 25 characters")
			}
			if _, err := ParsePhone("+" + strings.TrimPrefix(b.PhoneNumber, "+")); err != nil {
				return Errorf(EINVALID, "PHONE_NUMBER button needs a phone_number")
			}
		case "COPY_CODE":
			var ex string
			if json.Unmarshal(b.Example, &ex) != nil || ex == "" || utf8.RuneCountInString(ex) > 15 {
				return Errorf(EINVALID, "COPY_CODE button needs an example of at most 15 characters")
			}
		case "OTP":
			switch b.OTPType = strings.ToUpper(b.OTPType); b.OTPType {
			case "COPY_CODE", "ONE_TAP", "ZERO_TAP":
			default:
				return Errorf(EINVALID, "otp_type must be COPY_CODE, ONE_TAP or ZERO_TAP")
			}
			if r.Category != CategoryAuthentication {
				return Errorf(EINVALID, "OTP buttons are only for AUTHENTICATION templates")
			}
		case "FLOW", "CATALOG", "MPM":
			if b.Type == "FLOW" && b.FlowID == "" && b.FlowName == "" {
				return Errorf(EINVALID, "FLOW button needs flow_id or flow_name")
			}
		default:
			return Errorf(EINVALID, "button type %q is not supported", b.Type)
		}
	}
	switch {
	case count["QUICK_REPLY"] > 10, count["URL"] > 2, count["PHONE_NUMBER"] > 1, count["COPY_CODE"] > 1, count["OTP"] > 1:
		return Errorf(EINVALID, "too many buttons of one type (at most 10 quick replies, 2 URL, 1 phone number, 1 copy code)")
	}
	if len(quick) > 0 {
		first, last := quick[0], quick[len(quick)-1]
		if last-first+1 != len(quick) || first != 0 && last != len(c.Buttons)-1 {
			return Errorf(EINVALID, "quick reply buttons must be grouped before or after the other buttons")
		}
	}
	return nil
}

// promotional words make a UTILITY or AUTHENTICATION template fail
// automatic review with INCORRECT_CATEGORY, as Meta's classifier would.
var promotional = regexp.MustCompile(`(?i)\b(sale|discount|offer|promo(tion)?|coupon|deal|% off|buy now|limited time)\b`)

// Review is the automatic review of a validated request: it returns
// TemplateApproved and RejectNone, or TemplateRejected and a reason.
// The rules are Parley's stand-in for Meta's classifier: promotional
// wording outside MARKETING is the wrong category; authentication
// templates need an OTP button; a body that is mostly parameters is an
// invalid format.
func (r *TemplateRequest) Review() (status, reason string) {
	cs, err := ParseTemplateComponents(r.Components)
	if err != nil {
		return TemplateRejected, RejectInvalidFormat
	}
	otp := false
	for _, c := range cs {
		for _, b := range c.Buttons {
			otp = otp || b.Type == "OTP"
		}
		if c.Type == "BODY" && c.Text != "" {
			params := placeholderRE.FindAllString(c.Text, -1)
			words := len(strings.Fields(placeholderRE.ReplaceAllString(c.Text, " ")))
			if len(params) > 0 && words < 2*len(params) {
				return TemplateRejected, RejectInvalidFormat
			}
		}
		if r.Category != CategoryMarketing && promotional.MatchString(c.Text) {
			return TemplateRejected, RejectIncorrectCategory
		}
	}
	if r.Category == CategoryAuthentication && !otp {
		return TemplateRejected, RejectIncorrectCategory
	}
	return TemplateApproved, RejectNone
}

// TemplateEvent is a change of a template's status, for the
// message_template_status_update webhook.
type TemplateEvent struct {
	Business string
	Template Template // as after the change
	Event    string   // the new status: APPROVED, REJECTED, PENDING, DELETED, ...
	Reason   string   // rejection reason; RejectNone otherwise
	At       time.Time
}
