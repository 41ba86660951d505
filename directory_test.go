package parley_test

import (
	"math"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestDistanceKm(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		want, tol              float64
	}{
		{"same_point", 52.52, 13.405, 52.52, 13.405, 0, 1e-9},
		{"berlin_hamburg", 52.5200, 13.4050, 53.5511, 9.9937, 255.3, 1},
		{"across_antimeridian", -16.5, 179.9, -16.5, -179.9, 21.3, 0.5},
		{"pole_to_pole", 90, 0, -90, 0, math.Pi * 6371.0088, 0.01},
		{"antipodes", 0, 0, 0, 180, math.Pi * 6371.0088, 0.01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parley.DistanceKm(tc.lat1, tc.lng1, tc.lat2, tc.lng2); math.Abs(got-tc.want) > tc.tol {
				t.Errorf("DistanceKm = %.3f, want %.3f ± %g", got, tc.want, tc.tol)
			}
		})
	}
}

// Every point within the radius lies inside the bounding box.
func TestBoundingBoxContainsRadius(t *testing.T) {
	for _, c := range []struct{ lat, lng, r float64 }{{52.52, 13.405, 25}, {-16.5, 179.99, 50}, {89.9, 10, 30}, {0, 0, 5000}, {60, -179, 200}} {
		minLat, maxLat, minLng, maxLng := parley.BoundingBox(c.lat, c.lng, c.r)
		for bearing := 0.0; bearing < 360; bearing += 7.5 {
			// The point at distance 0.999 r in this direction.
			d := 0.999 * c.r / 6371.0088
			la1, lo1, th := c.lat*math.Pi/180, c.lng*math.Pi/180, bearing*math.Pi/180
			la2 := math.Asin(math.Sin(la1)*math.Cos(d) + math.Cos(la1)*math.Sin(d)*math.Cos(th))
			lo2 := lo1 + math.Atan2(math.Sin(th)*math.Sin(d)*math.Cos(la1), math.Cos(d)-math.Sin(la1)*math.Sin(la2))
			lat, lng := la2*180/math.Pi, math.Mod(lo2*180/math.Pi+540, 360)-180
			if lat < minLat || lat > maxLat || lng < minLng || lng > maxLng {
				t.Errorf("point %.4f,%.4f at %.0f° from %v is outside the box %.4f..%.4f, %.4f..%.4f", lat, lng, bearing, c, minLat, maxLat, minLng, maxLng)
			}
		}
	}
}

func TestDirectoryValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    parley.DirectoryListing
		want string
	}{
		{"ok_unlisted", parley.DirectoryListing{}, ""},
		{"ok_listed", parley.DirectoryListing{Listed: true, Category: "RESTAURANT", HasLocation: true, Latitude: -90, Longitude: 180}, ""},
		{"listed_without_category", parley.DirectoryListing{Listed: true}, "needs a category"},
		{"unknown_category", parley.DirectoryListing{Category: "PIZZA"}, "category must be one of"},
		{"not_a_biz", parley.DirectoryListing{Category: "NOT_A_BIZ"}, "category must be one of"},
		{"latitude", parley.DirectoryListing{HasLocation: true, Latitude: 90.0001}, "latitude"},
		{"longitude", parley.DirectoryListing{HasLocation: true, Longitude: -180.5}, "longitude"},
		{"nan", parley.DirectoryListing{HasLocation: true, Latitude: math.NaN()}, "latitude"},
		{"address", parley.DirectoryListing{Address: strings.Repeat("a", 257)}, "address"},
		{"city", parley.DirectoryListing{City: strings.Repeat("ö", 129)}, "city"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.l.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (!parley.Match(err, parley.EINVALID) || !strings.Contains(parley.ErrorMessage(err), tc.want)) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		q    parley.DirectoryQuery
		want string
	}{
		{"defaults", parley.DirectoryQuery{}, ""},
		{"point_default_radius", parley.DirectoryQuery{HasPoint: true, Lat: 1, Lng: 2}, ""},
		{"long_query", parley.DirectoryQuery{Name: strings.Repeat("x", 65)}, "at most 64"},
		{"limit", parley.DirectoryQuery{Limit: 51}, "limit must be between 1 and 50"},
		{"radius_without_point", parley.DirectoryQuery{RadiusKm: 5}, "needs lat and lng"},
		{"radius_too_large", parley.DirectoryQuery{HasPoint: true, RadiusKm: 20001}, "radius_km"},
		{"radius_negative", parley.DirectoryQuery{HasPoint: true, RadiusKm: -1}, "radius_km"},
		{"bad_point", parley.DirectoryQuery{HasPoint: true, Lat: -91}, "latitude"},
		{"offset", parley.DirectoryQuery{Offset: -1}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			err := q.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (!parley.Match(err, parley.EINVALID) || !strings.Contains(parley.ErrorMessage(err), tc.want)) {
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
			if tc.want == "" && (q.Limit != 20 || q.HasPoint && q.RadiusKm != 25) {
				t.Errorf("defaults: limit %d, radius %g", q.Limit, q.RadiusKm)
			}
		})
	}
}
