package parley

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// OpeningHours are a business's opening hours: intervals per weekday in
// the business's IANA time zone, and exceptions by date that replace a
// weekday's intervals (closed all day, or special intervals).
//
// Times are wall-clock times in the zone, "HH:MM" from "00:00" to
// "23:59", and "24:00" as a closing time meaning midnight at the end of
// the day. An interval whose closing time is not after its opening time
// runs overnight into the next day ("22:00"–"02:00"). An interval
// belongs to the day it opens on: an exception for a date replaces what
// opens on that date, while the previous day's overnight interval still
// runs into it. Wall-clock times are kept across daylight-saving
// changes: "09:00"–"17:00" is open from nine to five local time on
// every day, and a time that a change skips (02:30 when clocks jump
// from 02:00 to 03:00) takes effect at the first instant after the gap.
//
// The zero value (no time zone) means "no opening hours published".
type OpeningHours struct {
	TimeZone   string
	Week       [7][]HoursInterval // indexed by time.Weekday (Sunday = 0)
	Exceptions []HoursException   // by date, ascending after Validate
}

// HoursInterval is an opening interval of one day.
type HoursInterval struct {
	Open  string `json:"open"`  // "HH:MM"
	Close string `json:"close"` // "HH:MM" or "24:00"; not after Open: overnight
}

// HoursException replaces the intervals of one date.
type HoursException struct {
	Date      string          `json:"date"` // "YYYY-MM-DD" in the business's time zone
	Closed    bool            `json:"closed,omitempty"`
	Intervals []HoursInterval `json:"intervals,omitempty"`
	Note      string          `json:"note,omitempty"` // e.g. "Christmas Eve"
}

// Limits of opening hours.
const (
	MaxIntervalsPerDay = 6
	MaxHoursExceptions = 200
	maxHoursNote       = 64
)

var weekdayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// IsZero reports whether no opening hours are published.
func (h *OpeningHours) IsZero() bool { return h == nil || h.TimeZone == "" }

// Validate checks the hours and normalizes them: intervals sorted by
// opening time, exceptions by date. Every error names the day or date
// at fault.
func (h *OpeningHours) Validate() error {
	if h.TimeZone == "" {
		return Errorf(EINVALID, "opening_hours.time_zone is required (an IANA time zone such as Europe/Berlin)")
	}
	if _, err := loadZone(h.TimeZone); err != nil {
		return Errorf(EINVALID, "opening_hours.time_zone %q is not a known IANA time zone", h.TimeZone)
	}
	for d := range h.Week {
		if err := validDay(h.Week[d]); err != nil {
			return Errorf(EINVALID, "opening_hours.weekly.%s: %s", weekdayNames[d], err)
		}
		slices.SortFunc(h.Week[d], func(a, b HoursInterval) int { return strings.Compare(a.Open, b.Open) })
	}
	if len(h.Exceptions) > MaxHoursExceptions {
		return Errorf(EINVALID, "opening_hours.exceptions may list at most %d dates", MaxHoursExceptions)
	}
	seen := map[string]bool{}
	for i := range h.Exceptions {
		e := &h.Exceptions[i]
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			return Errorf(EINVALID, "opening_hours.exceptions: date %q is not a date of the form YYYY-MM-DD", e.Date)
		}
		if seen[e.Date] {
			return Errorf(EINVALID, "opening_hours.exceptions: date %s is listed twice", e.Date)
		}
		seen[e.Date] = true
		switch {
		case e.Closed && len(e.Intervals) > 0:
			return Errorf(EINVALID, "opening_hours.exceptions %s: a closed day cannot have intervals", e.Date)
		case !e.Closed && len(e.Intervals) == 0:
			return Errorf(EINVALID, "opening_hours.exceptions %s: set closed, or list the special intervals", e.Date)
		case len([]rune(e.Note)) > maxHoursNote:
			return Errorf(EINVALID, "opening_hours.exceptions %s: note must have at most %d characters", e.Date, maxHoursNote)
		}
		if err := validDay(e.Intervals); err != nil {
			return Errorf(EINVALID, "opening_hours.exceptions %s: %s", e.Date, err)
		}
		slices.SortFunc(e.Intervals, func(a, b HoursInterval) int { return strings.Compare(a.Open, b.Open) })
	}
	slices.SortFunc(h.Exceptions, func(a, b HoursException) int { return strings.Compare(a.Date, b.Date) })
	return nil
}

// validDay checks one day's intervals: well-formed, not empty, and not
// overlapping each other.
func validDay(ivs []HoursInterval) error {
	if len(ivs) > MaxIntervalsPerDay {
		return fmt.Errorf("at most %d intervals per day", MaxIntervalsPerDay)
	}
	type span struct{ o, c int }
	spans := make([]span, 0, len(ivs))
	for _, iv := range ivs {
		o, ok := hhmm(iv.Open, false)
		if !ok {
			return fmt.Errorf("opening time %q is not a time of the form HH:MM (00:00 to 23:59)", iv.Open)
		}
		c, ok := hhmm(iv.Close, true)
		if !ok {
			return fmt.Errorf("closing time %q is not a time of the form HH:MM (00:00 to 24:00)", iv.Close)
		}
		if o == c {
			return fmt.Errorf("interval %s–%s is empty (for a whole day use 00:00–24:00)", iv.Open, iv.Close)
		}
		if c <= o {
			c = 24 * 60
		}
		spans = append(spans, span{o, c})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.o - b.o })
	for i := 1; i < len(spans); i++ {
		if spans[i].o < spans[i-1].c {
			return fmt.Errorf("intervals overlap")
		}
	}
	return nil
}

// hhmm parses "HH:MM" into minutes after midnight; "24:00" only as a
// closing time.
func hhmm(s string, closing bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && (m != 0 || !closing) {
		return 0, false
	}
	return h*60 + m, true
}

// minutes returns the interval as minutes after midnight of its day;
// close is past 1440 for overnight intervals. Call only after Validate.
func (iv HoursInterval) minutes() (open, close int) {
	open, _ = hhmm(iv.Open, false)
	close, _ = hhmm(iv.Close, true)
	if close <= open {
		close += 24 * 60
	}
	return open, close
}

var zones sync.Map // name → *time.Location

// loadZone is time.LoadLocation with a cache: OpenAt runs for every
// search result.
func loadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("the process's local zone is not a business's zone")
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// Location returns the hours' time zone (UTC when it is unknown).
func (h *OpeningHours) Location() *time.Location {
	if l, err := loadZone(h.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

// day returns the intervals that open on the given local date.
func (h *OpeningHours) day(y int, m time.Month, d int) []HoursInterval {
	if len(h.Exceptions) > 0 {
		date := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
		if i, ok := slices.BinarySearchFunc(h.Exceptions, date, func(e HoursException, d string) int { return strings.Compare(e.Date, d) }); ok {
			return h.Exceptions[i].Intervals
		}
	}
	return h.Week[time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()]
}

// OpenAt reports whether the business is open at t. Hours that are not
// published are never open.
func (h *OpeningHours) OpenAt(t time.Time) bool {
	if h.IsZero() {
		return false
	}
	lt := t.In(h.Location())
	y, m, d := lt.Date()
	now := lt.Hour()*60 + lt.Minute()
	for _, iv := range h.day(y, m, d) {
		if o, c := iv.minutes(); o <= now && now < c {
			return true
		}
	}
	for _, iv := range h.day(y, m, d-1) { // time.Date normalizes d-1
		if _, c := iv.minutes(); now+24*60 < c {
			return true
		}
	}
	return false
}

// NextChange returns the first instant after t at which the business
// opens (opens true) or closes (opens false); ok is false when nothing
// changes within a year (always open, or no hours published).
func (h *OpeningHours) NextChange(t time.Time) (at time.Time, opens bool, ok bool) {
	if h.IsZero() {
		return time.Time{}, false, false
	}
	loc := h.Location()
	open := h.OpenAt(t)
	lt := t.In(loc)
	y, m, d := lt.Date()
	var cands []time.Time
	for k := -1; k <= 367; k++ {
		cands = cands[:0]
		for _, iv := range h.day(y, m, d+k) {
			o, c := iv.minutes()
			cands = append(cands, wallInstant(y, m, d+k, o, loc), wallInstant(y, m, d+k, c, loc))
		}
		slices.SortFunc(cands, func(a, b time.Time) int { return a.Compare(b) })
		for _, c := range cands {
			if c.After(t) && h.OpenAt(c) != open {
				return c, !open, true
			}
		}
	}
	return time.Time{}, false, false
}

// NextOpen returns when the business opens next after t.
func (h *OpeningHours) NextOpen(t time.Time) (time.Time, bool) {
	for i := 0; i < 2; i++ {
		at, opens, ok := h.NextChange(t)
		if !ok || opens {
			return at, ok
		}
		t = at
	}
	return time.Time{}, false
}

// NextClose returns when the business closes next after t.
func (h *OpeningHours) NextClose(t time.Time) (time.Time, bool) {
	for i := 0; i < 2; i++ {
		at, opens, ok := h.NextChange(t)
		if !ok || !opens {
			return at, ok
		}
		t = at
	}
	return time.Time{}, false
}

// wallInstant is the instant the wall clock in loc shows min minutes
// after midnight of the date (min may exceed a day). A wall time that a
// daylight-saving change skips maps to the end of the gap; one that
// occurs twice maps to its first occurrence.
func wallInstant(y int, m time.Month, d, min int, loc *time.Location) time.Time {
	d += min / (24 * 60)
	min %= 24 * 60
	t := time.Date(y, m, d, min/60, min%60, 0, 0, loc)
	wy, wm, wd := t.Date()
	wy2, wm2, wd2 := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Date()
	got := t.Hour()*60 + t.Minute()
	if wy != wy2 || wm != wm2 || wd != wd2 || got != min {
		// In a gap: the wall clock jumped over min. The gap ends where
		// the zone period that contains t (after the jump) starts, or,
		// when t lies before the jump, where its period ends.
		start, end := t.ZoneBounds()
		if t.Hour()*60+t.Minute() > min || wd != wd2 {
			return start
		}
		return end
	}
	for _, back := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
		if e := t.Add(-back).In(loc); e.Hour() == t.Hour() && e.Minute() == t.Minute() && e.Day() == t.Day() {
			return e // the first of two occurrences
		}
	}
	return t
}

// hoursJSON is the wire and storage form of OpeningHours.
type hoursJSON struct {
	TimeZone   string                     `json:"time_zone"`
	Weekly     map[string][]HoursInterval `json:"weekly"`
	Exceptions []HoursException           `json:"exceptions,omitempty"`
}

// MarshalJSON writes {"time_zone", "weekly": {"monday": [...]}, "exceptions"}.
func (h OpeningHours) MarshalJSON() ([]byte, error) {
	out := hoursJSON{TimeZone: h.TimeZone, Weekly: map[string][]HoursInterval{}, Exceptions: h.Exceptions}
	for d, ivs := range h.Week {
		if len(ivs) > 0 {
			out.Weekly[weekdayNames[d]] = ivs
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes; unknown weekday names
// and fields are errors, so that typos do not silently close a day.
func (h *OpeningHours) UnmarshalJSON(b []byte) error {
	var in hoursJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Errorf(EINVALID, "opening_hours is not valid: %s", hoursJSONProblem(err))
	}
	*h = OpeningHours{TimeZone: in.TimeZone, Exceptions: in.Exceptions}
	for name, ivs := range in.Weekly {
		i := slices.Index(weekdayNames[:], strings.ToLower(name))
		if i < 0 {
			return Errorf(EINVALID, "opening_hours.weekly: %q is not a weekday (monday … sunday)", name)
		}
		h.Week[i] = ivs
	}
	return nil
}

func hoursJSONProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s must be %s", te.Field, te.Type)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "expected {\"time_zone\": …, \"weekly\": {\"monday\": [{\"open\": \"09:00\", \"close\": \"17:00\"}]}, \"exceptions\": […]}"
}

// ParseOpeningHours decodes and validates opening hours from JSON; an
// empty input, "null" or "{}" mean none.
func ParseOpeningHours(b []byte) (*OpeningHours, error) {
	s := strings.TrimSpace(string(b))
	if s == "" || s == "null" || s == "{}" {
		return &OpeningHours{}, nil
	}
	h := &OpeningHours{}
	if err := json.Unmarshal([]byte(s), h); err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, Errorf(EINVALID, "opening_hours is not valid: %s", hoursJSONProblem(err))
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}
