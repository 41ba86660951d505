package parley_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func mustHours(t *testing.T, js string) *parley.OpeningHours {
	t.Helper()
	h, err := parley.ParseOpeningHours([]byte(js))
	if err != nil {
		t.Fatalf("ParseOpeningHours(%s): %v", js, err)
	}
	return h
}

func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A café in Berlin: weekdays 08:00–12:00 and 13:00–18:00, a bar on
// Friday and Saturday nights until 02:00, closed on Christmas Eve,
// short hours on New Year's Eve, and open all Sunday 2026-03-29 (the
// night the clocks go forward).
const cafe = `{"time_zone": "Europe/Berlin",
 "weekly": {"monday": [{"open":"08:00","close":"12:00"},{"open":"13:00","close":"18:00"}],
  "tuesday": [{"open":"13:00","close":"18:00"},{"open":"08:00","close":"12:00"}],
  "wednesday": [{"open":"08:00","close":"12:00"},{"open":"13:00","close":"18:00"}],
  "thursday": [{"open":"08:00","close":"12:00"},{"open":"13:00","close":"18:00"}],
  "friday": [{"open":"08:00","close":"12:00"},{"open":"20:00","close":"02:00"}],
  "saturday": [{"open":"20:00","close":"02:00"}]},
 "exceptions": [{"date":"2026-12-31","intervals":[{"open":"10:00","close":"14:00"}]},
  {"date":"2026-12-24","closed":true,"note":"Christmas Eve"},
  {"date":"2026-03-29","intervals":[{"open":"00:00","close":"24:00"}]},
  {"date":"2026-10-25","intervals":[{"open":"02:30","close":"04:00"}]}]}`

func TestOpenAt(t *testing.T) {
	h := mustHours(t, cafe)
	const z = "Europe/Berlin"
	for _, tc := range []struct {
		name, at string
		want     bool
	}{
		{"monday_morning", "2026-11-23 09:15", true},
		{"monday_before_opening", "2026-11-23 07:59", false},
		{"monday_at_opening", "2026-11-23 08:00", true},
		{"monday_lunch_break", "2026-11-23 12:00", false},
		{"monday_afternoon", "2026-11-23 17:59", true},
		{"monday_at_closing", "2026-11-23 18:00", false},
		{"tuesday_sorted_intervals", "2026-11-24 08:30", true},
		{"friday_night", "2026-11-27 23:30", true},
		{"overnight_into_saturday", "2026-11-28 01:59", true},
		{"overnight_closed", "2026-11-28 02:00", false},
		{"saturday_day", "2026-11-28 12:00", false},
		{"overnight_into_sunday", "2026-11-29 01:00", true},
		{"sunday_closed", "2026-11-29 12:00", false},
		{"christmas_eve_closed", "2026-12-24 09:00", false},
		{"new_years_eve_special", "2026-12-31 13:00", true},
		{"new_years_eve_normal_hours_replaced", "2026-12-31 16:00", false},
		// Saturday 2026-03-28 20:00 → 02:00 runs into the exception day,
		// whose own interval covers the whole day anyway.
		{"dst_forward_whole_day", "2026-03-29 03:30", true},
		{"dst_forward_late", "2026-03-29 23:59", true},
		// 2026-10-25: clocks go back at 03:00 CEST to 02:00 CET; the
		// special interval 02:30–04:00 covers both 02:30s.
		{"dst_back_after_overnight", "2026-10-25 02:15", false}, // Saturday's interval ended at 02:00
		{"dst_back_0245", "2026-10-25 02:45", true},
		{"dst_back_0300", "2026-10-25 03:59", true},
		{"dst_back_after", "2026-10-25 04:00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.OpenAt(at(t, z, tc.at)); got != tc.want {
				t.Errorf("OpenAt(%s) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
	// The same instant seen from another zone gives the same answer.
	if !h.OpenAt(at(t, "America/New_York", "2026-11-23 03:15")) { // 09:15 in Berlin
		t.Error("OpenAt in another zone: got closed, want open")
	}
	var none parley.OpeningHours
	if none.OpenAt(time.Now()) {
		t.Error("OpenAt without hours: got open, want closed")
	}
}

func TestOpenAtFallBackRepeatedHour(t *testing.T) {
	h := mustHours(t, `{"time_zone":"Europe/Berlin","weekly":{"sunday":[{"open":"02:00","close":"03:00"}]}}`)
	first := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)  // 02:30 CEST
	second := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC) // 02:30 CET
	if !h.OpenAt(first) || !h.OpenAt(second) {
		t.Errorf("OpenAt both 02:30s = %v, %v; want open twice", h.OpenAt(first), h.OpenAt(second))
	}
	if h.OpenAt(time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC)) { // 03:00 CET
		t.Error("OpenAt 03:00 CET: got open, want closed")
	}
}

func TestNextChange(t *testing.T) {
	h := mustHours(t, cafe)
	const z = "Europe/Berlin"
	for _, tc := range []struct {
		name, from, want string
		opens            bool
	}{
		{"opens_in_morning", "2026-11-23 06:00", "2026-11-23 08:00", true},
		{"closes_for_lunch", "2026-11-23 09:00", "2026-11-23 12:00", false},
		{"reopens_after_lunch", "2026-11-23 12:30", "2026-11-23 13:00", true},
		{"overnight_close", "2026-11-27 22:00", "2026-11-28 02:00", false},
		{"weekend_to_monday", "2026-11-29 03:00", "2026-11-30 08:00", true},
		{"skips_closed_christmas_eve", "2026-12-23 18:30", "2026-12-25 08:00", true},
		{"special_day_close", "2026-12-31 11:00", "2026-12-31 14:00", false},
		// Opening on the day the clocks go forward, from Saturday night:
		// open from Saturday 20:00 through Sunday 24:00.
		{"dst_forward_merged", "2026-03-28 21:00", "2026-03-30 00:00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, opens, ok := h.NextChange(at(t, z, tc.from))
			want := at(t, z, tc.want)
			if !ok || !got.Equal(want) || opens != tc.opens {
				t.Errorf("NextChange(%s) = %v, opens %v, ok %v; want %v, opens %v", tc.from, got.In(want.Location()), opens, ok, want, tc.opens)
			}
		})
	}
}

func TestNextChangeDST(t *testing.T) {
	// Opening at 02:30 on the night the clock jumps from 02:00 to 03:00:
	// the business opens at 03:00 CEST, the first instant after the gap.
	h := mustHours(t, `{"time_zone":"Europe/Berlin","weekly":{"sunday":[{"open":"02:30","close":"05:00"}]}}`)
	got, opens, ok := h.NextChange(time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC); !ok || !opens || !got.Equal(want) {
		t.Errorf("NextChange across the gap = %v, %v, %v; want %v opening", got, opens, ok, want)
	}
	// On the night the clock goes back, 02:30 happens twice: it opens at
	// the first.
	got, _, _ = h.NextChange(time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextChange at fall-back = %v, want %v (02:30 CEST)", got, want)
	}
	// 09:00–17:00 in New York is 14:00 UTC before and 13:00 UTC after
	// the spring change (2026-03-08).
	ny := mustHours(t, `{"time_zone":"America/New_York","weekly":{"saturday":[{"open":"09:00","close":"17:00"}],"sunday":[{"open":"09:00","close":"17:00"}]}}`)
	got, _, _ = ny.NextChange(time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 7, 14, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("New York Saturday opening = %v, want %v", got, want)
	}
	got, _, _ = ny.NextChange(time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("New York Sunday opening after the change = %v, want %v", got, want)
	}
	if open, _ := ny.NextOpen(time.Date(2026, 3, 8, 14, 0, 0, 0, time.UTC)); !open.Equal(time.Date(2026, 3, 14, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("NextOpen while open = %v, want next Saturday 09:00 EDT", open)
	}
	if closes, _ := ny.NextClose(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)); !closes.Equal(time.Date(2026, 3, 14, 21, 0, 0, 0, time.UTC)) {
		t.Errorf("NextClose while closed = %v, want next Saturday 17:00 EDT", closes)
	}
}

func TestNextChangeNever(t *testing.T) {
	always := mustHours(t, `{"time_zone":"UTC","weekly":{"monday":[{"open":"00:00","close":"24:00"}],"tuesday":[{"open":"00:00","close":"24:00"}],
		"wednesday":[{"open":"00:00","close":"24:00"}],"thursday":[{"open":"00:00","close":"24:00"}],"friday":[{"open":"00:00","close":"24:00"}],
		"saturday":[{"open":"00:00","close":"24:00"}],"sunday":[{"open":"00:00","close":"24:00"}]}}`)
	if !always.OpenAt(time.Now()) {
		t.Error("always open: OpenAt = false")
	}
	if _, _, ok := always.NextChange(time.Now()); ok {
		t.Error("always open: NextChange ok = true, want false")
	}
	never := mustHours(t, `{"time_zone":"UTC","weekly":{}}`)
	if _, _, ok := never.NextChange(time.Now()); ok {
		t.Error("never open: NextChange ok = true, want false")
	}
}

func TestOpeningHoursInvalid(t *testing.T) {
	for _, tc := range []struct{ name, js, want string }{
		{"no_zone", `{"weekly":{}}`, "time_zone is required"},
		{"bad_zone", `{"time_zone":"Mars/Olympus","weekly":{}}`, "not a known IANA time zone"},
		{"bad_weekday", `{"time_zone":"UTC","weekly":{"funday":[]}}`, `"funday" is not a weekday`},
		{"bad_time", `{"time_zone":"UTC","weekly":{"monday":[{"open":"9:00","close":"17:00"}]}}`, "opening time \"9:00\""},
		{"bad_minutes", `{"time_zone":"UTC","weekly":{"monday":[{"open":"09:60","close":"17:00"}]}}`, "monday: opening time"},
		{"open_24", `{"time_zone":"UTC","weekly":{"monday":[{"open":"24:00","close":"17:00"}]}}`, "opening time \"24:00\""},
		{"close_25", `{"time_zone":"UTC","weekly":{"monday":[{"open":"09:00","close":"25:00"}]}}`, "closing time \"25:00\""},
		{"empty_interval", `{"time_zone":"UTC","weekly":{"monday":[{"open":"09:00","close":"09:00"}]}}`, "is empty"},
		{"overlap", `{"time_zone":"UTC","weekly":{"tuesday":[{"open":"09:00","close":"13:00"},{"open":"12:00","close":"17:00"}]}}`, "tuesday: intervals overlap"},
		{"overnight_overlap", `{"time_zone":"UTC","weekly":{"friday":[{"open":"20:00","close":"02:00"},{"open":"21:00","close":"22:00"}]}}`, "intervals overlap"},
		{"too_many", `{"time_zone":"UTC","weekly":{"monday":[{"open":"01:00","close":"02:00"},{"open":"03:00","close":"04:00"},{"open":"05:00","close":"06:00"},{"open":"07:00","close":"08:00"},{"open":"09:00","close":"10:00"},{"open":"11:00","close":"12:00"},{"open":"13:00","close":"14:00"}]}}`, "at most 6 intervals"},
		{"bad_date", `{"time_zone":"UTC","weekly":{},"exceptions":[{"date":"2026-02-30","closed":true}]}`, "date \"2026-02-30\""},
		{"twice", `{"time_zone":"UTC","weekly":{},"exceptions":[{"date":"2026-12-24","closed":true},{"date":"2026-12-24","closed":true}]}`, "listed twice"},
		{"closed_with_intervals", `{"time_zone":"UTC","weekly":{},"exceptions":[{"date":"2026-12-24","closed":true,"intervals":[{"open":"09:00","close":"10:00"}]}]}`, "closed day cannot have intervals"},
		{"neither", `{"time_zone":"UTC","weekly":{},"exceptions":[{"date":"2026-12-24"}]}`, "set closed, or list"},
		{"unknown_field", `{"time_zone":"UTC","weekly":{},"holidays":[]}`, "unknown field \"holidays\""},
		{"wrong_type", `{"time_zone":"UTC","weekly":{"monday":"9-5"}}`, "must be"},
		{"not_json", `monday 9-5`, "opening_hours is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parley.ParseOpeningHours([]byte(tc.js))
			if !parley.Match(err, parley.EINVALID) || !strings.Contains(parley.ErrorMessage(err), tc.want) {
				t.Errorf("ParseOpeningHours(%s) = %v, want EINVALID containing %q", tc.js, err, tc.want)
			}
		})
	}
}

func TestOpeningHoursJSONRoundTrip(t *testing.T) {
	h := mustHours(t, cafe)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	h2 := mustHours(t, string(b))
	b2, _ := json.Marshal(h2)
	if string(b) != string(b2) {
		t.Errorf("round trip changed the hours:\n%s\n%s", b, b2)
	}
	if h2.Week[time.Tuesday][0].Open != "08:00" || h2.Exceptions[0].Date != "2026-03-29" {
		t.Errorf("Validate did not sort: tuesday %v, exceptions[0] %v", h2.Week[time.Tuesday], h2.Exceptions[0])
	}
	if none, err := parley.ParseOpeningHours([]byte(" {} ")); err != nil || !none.IsZero() {
		t.Errorf("ParseOpeningHours({}) = %v, %v; want zero hours", none, err)
	}
}
