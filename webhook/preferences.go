package webhook

import "time"

// FieldUserPreferences is the webhook field of customers' marketing
// preferences (opt-out by keyword or switch, and opting in again).
const FieldUserPreferences = "user_preferences"

// User preference values and the category Meta reports them in.
const (
	PreferenceStop             = "stop"
	PreferenceResume           = "resume"
	CategoryMarketingMessages  = "marketing_messages"
	detailStopMarketingMessage = "User requested to stop marketing messages"
	detailResumeMarketing      = "User requested to resume marketing messages"
)

// UserPreference is one item of user_preferences[].
type UserPreference struct {
	WaID      string `json:"wa_id"`
	Detail    string `json:"detail"`
	Category  string `json:"category"`
	Value     string `json:"value"`     // PreferenceStop or PreferenceResume
	Timestamp int64  `json:"timestamp"` // Unix seconds, a number as in Meta's examples
}

// UserPreferencesValue is the value of a "user_preferences" change.
type UserPreferencesValue struct {
	MessagingProduct string           `json:"messaging_product"`
	Metadata         Metadata         `json:"metadata"`
	Contacts         []Contact        `json:"contacts"`
	UserPreferences  []UserPreference `json:"user_preferences"`
}

// MarketingPreference builds the POST body that reports a customer's
// marketing preference: stop (true) or resume (false), at at.
func MarketingPreference(wabaID string, md Metadata, contact Contact, stop bool, at time.Time) ([]byte, error) {
	p := UserPreference{WaID: contact.WaID, Category: CategoryMarketingMessages, Value: PreferenceResume,
		Detail: detailResumeMarketing, Timestamp: at.Unix()}
	if stop {
		p.Value, p.Detail = PreferenceStop, detailStopMarketingMessage
	}
	v := UserPreferencesValue{MessagingProduct: "whatsapp", Metadata: md, Contacts: []Contact{contact}, UserPreferences: []UserPreference{p}}
	return Marshal(Notification{Object: ObjectWABA, Entry: []Entry{{ID: wabaID, Changes: []Change{{Value: v, Field: FieldUserPreferences}}}}})
}
