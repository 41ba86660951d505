package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

// listed creates a business named name and lists its number.
func listed(t *testing.T, s parley.Store, name, category string, lat, lng float64, hasLoc bool) *bizFixture {
	t.Helper()
	f := mustBusiness(t, s)
	f.n.VerifiedName = name
	if err := s.UpdateBusinessNumber(ctxT(t), &f.n); err != nil {
		t.Fatalf("UpdateBusinessNumber: %v", err)
	}
	l := &parley.DirectoryListing{Number: f.n.ID, Business: f.b.ID, Listed: true, Category: category,
		HasLocation: hasLoc, Latitude: lat, Longitude: lng, Address: "Hauptstraße 1", City: "Berlin", UpdatedAt: t0}
	if err := s.PutListing(ctxT(t), l); err != nil {
		t.Fatalf("PutListing(%s): %v", name, err)
	}
	return f
}

func names(ls []parley.DirectoryListing) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

func search(t *testing.T, s parley.Store, q parley.DirectoryQuery) []string {
	t.Helper()
	if err := q.Validate(); err != nil {
		t.Fatalf("DirectoryQuery.Validate: %v", err)
	}
	ls, err := s.SearchDirectory(ctxT(t), q)
	if err != nil {
		t.Fatalf("SearchDirectory(%+v): %v", q, err)
	}
	got := names(ls)
	if q.HasPoint {
		slices.Sort(got) // candidates come unordered
	}
	return got
}

func testDirectory(t *testing.T, open func(t *testing.T) parley.Store) {
	t.Run("ListingReadWrite", func(t *testing.T) {
		s := open(t)
		f := mustBusiness(t, s)
		l, err := s.Listing(ctxT(t), f.n.ID)
		if err != nil || l.Listed || l.Name != "Lucky Shrub" || l.Account != f.n.Account || l.Business != f.b.ID {
			t.Fatalf("Listing before any = %+v, %v; want unlisted with the number's name", l, err)
		}
		if _, err := s.Listing(ctxT(t), graphID()); !parley.Match(err, parley.ENOTFOUND) {
			t.Errorf("Listing(unknown) = %v, want ENOTFOUND", err)
		}
		put := &parley.DirectoryListing{Number: f.n.ID, Business: f.b.ID, Listed: true, Category: "RESTAURANT", HasLocation: true,
			Latitude: 52.5200, Longitude: 13.4050, Address: "Unter den Linden 1", City: "Berlin", UpdatedAt: t0}
		if err := s.PutListing(ctxT(t), put); err != nil {
			t.Fatalf("PutListing: %v", err)
		}
		if err := s.SetVerified(ctxT(t), f.n.ID, true, t0.Add(time.Minute)); err != nil {
			t.Fatalf("SetVerified: %v", err)
		}
		// Writing the listing again keeps the operator's badge.
		put.City = "Berlin-Mitte"
		if err := s.PutListing(ctxT(t), put); err != nil {
			t.Fatalf("PutListing again: %v", err)
		}
		got, err := s.Listing(ctxT(t), f.n.ID)
		want := parley.DirectoryListing{Number: f.n.ID, Business: f.b.ID, Account: f.n.Account, Name: "Lucky Shrub", Listed: true,
			Category: "RESTAURANT", HasLocation: true, Latitude: 52.52, Longitude: 13.405, Address: "Unter den Linden 1",
			City: "Berlin-Mitte", Verified: true, UpdatedAt: at(0)}
		if err != nil || *got != want {
			t.Errorf("Listing = %+v, %v\nwant %+v", got, err, want)
		}
		if err := s.SetVerified(ctxT(t), graphID(), true, t0); !parley.Match(err, parley.ENOTFOUND) {
			t.Errorf("SetVerified(unknown) = %v, want ENOTFOUND", err)
		}
		// The badge can be set before a listing exists, and taken away.
		g := mustBusiness(t, s)
		if err := s.SetVerified(ctxT(t), g.n.ID, true, t0); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Listing(ctxT(t), g.n.ID); !l.Verified || l.Listed {
			t.Errorf("Listing after SetVerified only = %+v, want verified and unlisted", l)
		}
		if err := s.SetVerified(ctxT(t), g.n.ID, false, t0); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Listing(ctxT(t), g.n.ID); l.Verified {
			t.Errorf("Listing after SetVerified(false) = %+v, want not verified", l)
		}
	})

	t.Run("OnlyOwnListing", func(t *testing.T) {
		s := open(t)
		a := listed(t, s, "Alpha Bakery", "RESTAURANT", 0, 0, false)
		b := mustBusiness(t, s)
		// Business b names a's number: refused, and a's listing unchanged.
		err := s.PutListing(ctxT(t), &parley.DirectoryListing{Number: a.n.ID, Business: b.b.ID, Listed: false, UpdatedAt: t0})
		if !parley.Match(err, parley.ENOTFOUND) || parley.ErrorReason(err) != parley.ReasonObject {
			t.Errorf("PutListing of another business's number = %v, want ENOTFOUND (object)", err)
		}
		if l, _ := s.Listing(ctxT(t), a.n.ID); !l.Listed || l.Category != "RESTAURANT" {
			t.Errorf("victim's listing = %+v, want unchanged", l)
		}
		if err := s.PutListing(ctxT(t), &parley.DirectoryListing{Number: graphID(), Business: b.b.ID, UpdatedAt: t0}); !parley.Match(err, parley.ENOTFOUND) {
			t.Errorf("PutListing(unknown number) = %v, want ENOTFOUND", err)
		}
	})

	t.Run("SearchByNameAndCategory", func(t *testing.T) {
		s := open(t)
		listed(t, s, "Zebra Books", "RETAIL", 0, 0, false)
		listed(t, s, "Café Zebra", "RESTAURANT", 0, 0, false)
		listed(t, s, "ÖKO Laden", "GROCERY", 0, 0, false)
		listed(t, s, "100% Pizza_Bar", "RESTAURANT", 0, 0, false)
		mustBusiness(t, s) // "Lucky Shrub", never listed
		for _, tc := range []struct {
			name string
			q    parley.DirectoryQuery
			want []string
		}{
			{"all_by_name", parley.DirectoryQuery{}, []string{"100% Pizza_Bar", "Café Zebra", "Zebra Books", "ÖKO Laden"}},
			{"prefix_first", parley.DirectoryQuery{Name: "zeb"}, []string{"Zebra Books", "Café Zebra"}},
			{"case_insensitive_unicode", parley.DirectoryQuery{Name: "öko"}, []string{"ÖKO Laden"}},
			{"substring", parley.DirectoryQuery{Name: "ladEN"}, []string{"ÖKO Laden"}},
			{"like_wildcards_literal", parley.DirectoryQuery{Name: "0%"}, []string{"100% Pizza_Bar"}},
			{"underscore_literal", parley.DirectoryQuery{Name: "a_b"}, []string{"100% Pizza_Bar"}},
			{"percent_only", parley.DirectoryQuery{Name: "%"}, []string{"100% Pizza_Bar"}},
			{"category", parley.DirectoryQuery{Category: "RESTAURANT"}, []string{"100% Pizza_Bar", "Café Zebra"}},
			{"name_and_category", parley.DirectoryQuery{Name: "zebra", Category: "RETAIL"}, []string{"Zebra Books"}},
			{"unlisted_never", parley.DirectoryQuery{Name: "lucky"}, nil},
			{"page_1", parley.DirectoryQuery{Limit: 2}, []string{"100% Pizza_Bar", "Café Zebra", "Zebra Books"}}, // Limit+1
			{"page_2", parley.DirectoryQuery{Limit: 2, Offset: 2}, []string{"Zebra Books", "ÖKO Laden"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := search(t, s, tc.q); !slices.Equal(got, tc.want) {
					t.Errorf("SearchDirectory(%+v) = %q, want %q", tc.q, got, tc.want)
				}
			})
		}
	})

	t.Run("SearchByDistance", func(t *testing.T) {
		s := open(t)
		listed(t, s, "Mitte", "RETAIL", 52.5200, 13.4050, true)      // Berlin centre
		listed(t, s, "Potsdam", "RETAIL", 52.3906, 13.0645, true)    // ~27 km
		listed(t, s, "Hamburg", "RETAIL", 53.5511, 9.9937, true)     // ~255 km
		listed(t, s, "Nowhere", "RETAIL", 0, 0, false)               // no location
		listed(t, s, "Dateline", "RETAIL", -16.5000, 179.9000, true) // Fiji, east of the antimeridian
		listed(t, s, "Dateline W", "RETAIL", -16.5000, -179.9, true) // west of it
		for _, tc := range []struct {
			name string
			q    parley.DirectoryQuery
			want []string
		}{
			{"near_10km", parley.DirectoryQuery{HasPoint: true, Lat: 52.52, Lng: 13.40, RadiusKm: 10}, []string{"Mitte"}},
			// The bounding box may hold more than the radius; the
			// service ranks by exact distance.
			{"near_50km", parley.DirectoryQuery{HasPoint: true, Lat: 52.52, Lng: 13.40, RadiusKm: 50}, []string{"Mitte", "Potsdam"}},
			{"near_300km_by_name", parley.DirectoryQuery{HasPoint: true, Lat: 52.52, Lng: 13.40, RadiusKm: 300, Name: "ham"}, []string{"Hamburg"}},
			{"across_antimeridian", parley.DirectoryQuery{HasPoint: true, Lat: -16.5, Lng: 179.99, RadiusKm: 50}, []string{"Dateline", "Dateline W"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := search(t, s, tc.q); !slices.Equal(got, tc.want) {
					t.Errorf("SearchDirectory(%+v) = %q, want %q", tc.q, got, tc.want)
				}
			})
		}
	})

	t.Run("UnlistHidesAndNames", func(t *testing.T) {
		s := open(t)
		a := listed(t, s, "Alpha", "RETAIL", 1, 1, true)
		b := listed(t, s, "Beta", "RETAIL", 1, 1, true)
		ns, err := s.DirectoryNames(ctxT(t))
		wantNames := []parley.DirectoryName{{Name: "Alpha", Account: a.n.Account}, {Name: "Beta", Account: b.n.Account}}
		if err != nil || !slices.Equal(ns, wantNames) {
			t.Errorf("DirectoryNames = %v, %v; want %v", ns, err, wantNames)
		}
		if err := s.PutListing(ctxT(t), &parley.DirectoryListing{Number: a.n.ID, Business: a.b.ID, Listed: false, Category: "RETAIL", UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if got := search(t, s, parley.DirectoryQuery{}); !slices.Equal(got, []string{"Beta"}) {
			t.Errorf("after unlisting: search = %q, want [Beta]", got)
		}
		if got := search(t, s, parley.DirectoryQuery{HasPoint: true, Lat: 1, Lng: 1, RadiusKm: 5}); !slices.Equal(got, []string{"Beta"}) {
			t.Errorf("after unlisting: search near = %q, want [Beta]", got)
		}
		if ns, _ := s.DirectoryNames(ctxT(t)); len(ns) != 1 || ns[0].Name != "Beta" {
			t.Errorf("after unlisting: DirectoryNames = %v, want Beta only", ns)
		}
	})

	t.Run("HoursWithProfile", func(t *testing.T) {
		s := open(t)
		a := listed(t, s, "Open Late", "RESTAURANT", 0, 0, false)
		h, err := parley.ParseOpeningHours([]byte(`{"time_zone":"Europe/Berlin","weekly":{"friday":[{"open":"20:00","close":"02:00"}]},
			"exceptions":[{"date":"2025-12-24","closed":true}]}`))
		if err != nil {
			t.Fatal(err)
		}
		p := &parley.BusinessProfile{Number: a.n.ID, About: "late", Hours: *h, UpdatedAt: t0}
		if err := s.PutProfile(ctxT(t), p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Profile(ctxT(t), a.n.ID)
		if err != nil || got.Hours.TimeZone != "Europe/Berlin" || len(got.Hours.Week[time.Friday]) != 1 || len(got.Hours.Exceptions) != 1 {
			t.Errorf("Profile hours = %+v, %v", got.Hours, err)
		}
		ls, err := s.SearchDirectory(ctxT(t), parley.DirectoryQuery{Limit: 10})
		if err != nil || len(ls) != 1 || ls[0].Hours == nil || ls[0].Hours.Week[time.Friday][0].Close != "02:00" {
			t.Fatalf("SearchDirectory hours = %+v, %v", ls, err)
		}
		fri := time.Date(2025, 3, 7, 22, 0, 0, 0, time.UTC) // a Friday, 23:00 in Berlin
		if !ls[0].Hours.OpenAt(fri) {
			t.Error("hours from the search: not open on Friday night")
		}
		// Clearing the hours stores none.
		p.Hours = parley.OpeningHours{}
		if err := s.PutProfile(ctxT(t), p); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Profile(ctxT(t), a.n.ID); !got.Hours.IsZero() {
			t.Errorf("Profile hours after clearing = %+v, want none", got.Hours)
		}
	})
}
