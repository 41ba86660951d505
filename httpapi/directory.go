package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// The business directory on the client API (search, names list) and
// the operator API (verified badge, listing on a business's behalf).

func (s *Server) directoryRoutes(mux *http.ServeMux) {
	if s.Directory == nil {
		return
	}
	mux.Handle("GET /v1/directory", s.authed(s.searchDirectory))
	mux.Handle("GET /v1/directory/names", s.authed(s.directoryNames))
	mux.Handle("PUT /admin/v1/numbers/{id}/verified", s.admin(s.setVerified))
	mux.Handle("POST /admin/v1/numbers/{id}/listing", s.admin(s.operatorListing))
}

// DirectoryResult is one result of GET /v1/directory.
type DirectoryResult struct {
	Account    string   `json:"account"` // the number to chat with
	Name       string   `json:"name"`
	Category   string   `json:"category"`
	Address    string   `json:"address,omitempty"`
	City       string   `json:"city,omitempty"`
	Latitude   *float64 `json:"latitude,omitempty"`
	Longitude  *float64 `json:"longitude,omitempty"`
	DistanceKm *float64 `json:"distance_km,omitempty"` // with lat and lng
	Verified   bool     `json:"verified"`
	HasHours   bool     `json:"has_hours"`
	OpenNow    bool     `json:"open_now"` // false when no hours are published
}

func queryFloat(q map[string][]string, name string) (float64, bool, error) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = strings.TrimSpace(vs[0])
	}
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, parley.Errorf(parley.EINVALID, "%s must be a number", name)
	}
	return f, true, nil
}

// searchDirectory is GET /v1/directory?q=&category=&lat=&lng=&radius_km=&limit=&cursor=.
func (s *Server) searchDirectory(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	q := parley.DirectoryQuery{Name: qs.Get("q"), Category: strings.ToUpper(strings.TrimSpace(qs.Get("category")))}
	lat, hasLat, err := queryFloat(qs, "lat")
	if err != nil {
		return err
	}
	lng, hasLng, err := queryFloat(qs, "lng")
	if err != nil {
		return err
	}
	if hasLat != hasLng {
		return parley.Errorf(parley.EINVALID, "lat and lng must be given together")
	}
	q.HasPoint, q.Lat, q.Lng = hasLat, lat, lng
	if q.RadiusKm, _, err = queryFloat(qs, "radius_km"); err != nil {
		return err
	}
	if v := qs.Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 {
			return parley.Errorf(parley.EINVALID, "limit must be between 1 and %d", parley.MaxDirectoryLimit)
		}
	}
	if v := qs.Get("cursor"); v != "" {
		if q.Offset, err = strconv.Atoi(v); err != nil || q.Offset < 0 {
			return parley.Errorf(parley.EINVALID, "cursor is not valid")
		}
	}
	res, next, err := s.Directory.Search(r.Context(), device(r).Account, q)
	if err != nil {
		return err
	}
	out := struct {
		Results    []DirectoryResult `json:"results"`
		NextCursor string            `json:"next_cursor,omitempty"`
	}{Results: make([]DirectoryResult, 0, len(res))}
	for _, l := range res {
		d := DirectoryResult{Account: l.Account, Name: l.Name, Category: l.Category, Address: l.Address, City: l.City,
			Verified: l.Verified, HasHours: l.HasHours, OpenNow: l.OpenNow}
		if l.HasLocation {
			d.Latitude, d.Longitude = &l.Latitude, &l.Longitude
		}
		if l.HasDist {
			km := math.Round(l.Distance*100) / 100
			d.DistanceKm = &km
		}
		out.Results = append(out.Results, d)
	}
	if next > 0 {
		out.NextCursor = strconv.Itoa(next)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// directoryNames is GET /v1/directory/names: every listed business's
// name and number, for matching messages on the device. A client that
// sends If-None-Match with the ETag it has gets 304 while nothing
// changed.
func (s *Server) directoryNames(w http.ResponseWriter, r *http.Request) error {
	ns, etag, err := s.Directory.Names(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag)
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if t = strings.TrimPrefix(strings.TrimSpace(t), "W/"); t == etag || t == "*" {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	type name struct {
		Name    string `json:"name"`
		Account string `json:"account"`
	}
	out := struct {
		Names []name `json:"names"`
	}{Names: make([]name, 0, len(ns))}
	for _, n := range ns {
		out.Names = append(out.Names, name{n.Name, n.Account})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ListingJSON is a directory listing as the operator API answers it
// (parley admin business verify|listing --json).
type ListingJSON struct {
	PhoneNumberID string   `json:"phone_number_id"`
	Account       string   `json:"account"`
	Name          string   `json:"name"`
	Listed        bool     `json:"listed"`
	Category      string   `json:"category"`
	Latitude      *float64 `json:"latitude,omitempty"`
	Longitude     *float64 `json:"longitude,omitempty"`
	Address       string   `json:"address"`
	City          string   `json:"city"`
	Verified      bool     `json:"verified"`
}

func listingJSON(l *parley.DirectoryListing) ListingJSON {
	out := ListingJSON{PhoneNumberID: l.Number, Account: l.Account, Name: l.Name, Listed: l.Listed, Category: l.Category,
		Address: l.Address, City: l.City, Verified: l.Verified}
	if l.HasLocation {
		out.Latitude, out.Longitude = &l.Latitude, &l.Longitude
	}
	return out
}

// setVerified is PUT /admin/v1/numbers/{id}/verified {"verified": bool};
// id is a phone_number_id or the phone number.
func (s *Server) setVerified(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Verified *bool `json:"verified"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Verified == nil {
		return parley.Errorf(parley.EINVALID, "verified (true or false) is required")
	}
	l, err := s.Directory.SetVerified(r.Context(), r.PathValue("id"), *req.Verified)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listingJSON(l))
	return nil
}

// operatorListing is POST /admin/v1/numbers/{id}/listing with the
// fields of the Cloud API's directory_listing (only those sent change).
func (s *Server) operatorListing(w http.ResponseWriter, r *http.Request) error {
	var req map[string]json.RawMessage
	if err := decode(w, r, &req); err != nil {
		return err
	}
	str := func(name string) string {
		raw := req[name]
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
		return string(raw)
	}
	has := func(name string) bool { _, ok := req[name]; return ok }
	u, err := service.ParseListingUpdate(has, str)
	if err != nil {
		return err
	}
	l, err := s.Directory.OperatorListing(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listingJSON(l))
	return nil
}

// hoursJSON is the card's view of opening hours: the hours, whether the
// business is open now, and when that changes.
type hoursJSON struct {
	OpenNow    bool   `json:"open_now"`
	NextChange *int64 `json:"next_change,omitempty"` // Unix milliseconds
}

func hoursState(h *parley.OpeningHours, now time.Time) hoursJSON {
	out := hoursJSON{OpenNow: h.OpenAt(now)}
	if at, _, ok := h.NextChange(now); ok {
		ms := at.UnixMilli()
		out.NextChange = &ms
	}
	return out
}
