package parley

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The business directory: business numbers that chose to be listed,
// searchable by clients by name, category and distance, and the list of
// names that clients match messages against (mention-to-chat) on the
// device.

// DirectoryListing is a business number's entry in the directory. The
// business sets Listed, Category, location, Address and City; the
// operator sets Verified; Name is the number's verified name, which only
// the operator can change, so that no business can list itself under
// another's name.
type DirectoryListing struct {
	Number              string // phone_number_id
	Business            string // the WABA owning the number
	Account             string // the number's Parley account id (E.164 digits)
	Name                string // the number's verified name, copied when the listing is written
	Listed              bool
	Category            string // one of DirectoryCategories
	HasLocation         bool
	Latitude, Longitude float64 // degrees, WGS 84
	Address, City       string
	Verified            bool // the operator's verified badge
	UpdatedAt           time.Time

	// Filled in by searches:
	Hours    *OpeningHours // from the number's profile; zero when none
	Distance float64       // km from the query's point, when it had one
}

// DirectoryCategories are the categories a listing may name: the
// profile verticals without UNDEFINED and NOT_A_BIZ.
var DirectoryCategories = slices.DeleteFunc(slices.Clone(Verticals), func(v string) bool { return v == "UNDEFINED" || v == "NOT_A_BIZ" })

// ValidDirectoryCategory reports whether c is one of DirectoryCategories.
func ValidDirectoryCategory(c string) bool { return slices.Contains(DirectoryCategories, c) }

// Validate checks the business-owned fields.
func (l *DirectoryListing) Validate() error {
	l.Address, l.City = strings.TrimSpace(l.Address), strings.TrimSpace(l.City)
	switch {
	case l.Category != "" && !ValidDirectoryCategory(l.Category):
		return Errorf(EINVALID, "category must be one of %s", strings.Join(DirectoryCategories, ", "))
	case l.Listed && l.Category == "":
		return Errorf(EINVALID, "a listed business needs a category (one of %s)", strings.Join(DirectoryCategories, ", "))
	case utf8.RuneCountInString(l.Address) > 256:
		return Errorf(EINVALID, "address must have at most 256 characters")
	case utf8.RuneCountInString(l.City) > 128:
		return Errorf(EINVALID, "city must have at most 128 characters")
	}
	if l.HasLocation {
		if err := ValidCoordinates(l.Latitude, l.Longitude); err != nil {
			return err
		}
	}
	return nil
}

// ValidCoordinates checks a latitude and longitude in degrees.
func ValidCoordinates(lat, lng float64) error {
	switch {
	case math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90:
		return Errorf(EINVALID, "latitude must be a number between -90 and 90")
	case math.IsNaN(lng) || math.IsInf(lng, 0) || lng < -180 || lng > 180:
		return Errorf(EINVALID, "longitude must be a number between -180 and 180")
	}
	return nil
}

const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between two
// points, in kilometres.
func DistanceKm(lat1, lng1, lat2, lng2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(a)))
}

// BoundingBox returns the latitude and longitude ranges that contain
// every point within radiusKm of (lat, lng): the cheap prefilter a
// database index can answer before the exact distance is computed.
// Near the poles, or when the box crosses the antimeridian, the
// longitude range is the whole circle.
func BoundingBox(lat, lng, radiusKm float64) (minLat, maxLat, minLng, maxLng float64) {
	dLat := radiusKm / earthRadiusKm * 180 / math.Pi
	minLat, maxLat = math.Max(-90, lat-dLat), math.Min(90, lat+dLat)
	if minLat == -90 || maxLat == 90 {
		return minLat, maxLat, -180, 180
	}
	dLng := dLat / math.Cos(math.Max(math.Abs(minLat), math.Abs(maxLat))*math.Pi/180)
	minLng, maxLng = lng-dLng, lng+dLng
	if minLng < -180 || maxLng > 180 {
		return minLat, maxLat, -180, 180
	}
	return minLat, maxLat, minLng, maxLng
}

// Directory search limits.
const (
	MaxDirectoryRadiusKm = 20_000.0
	MaxDirectoryLimit    = 50
	MaxDirectoryQuery    = 64
	// MaxDirectoryCandidates bounds how many listings in a bounding box
	// a distance search ranks; a denser area needs a smaller radius.
	MaxDirectoryCandidates = 2000
)

// DirectoryQuery selects listed businesses.
type DirectoryQuery struct {
	// Name matches names case-insensitively: as a prefix of the name or
	// of any word in it, or as a substring. Prefix matches rank first.
	Name     string
	Category string
	// Near: HasPoint with a radius in km ranks by distance and leaves out
	// listings without a location or farther away.
	HasPoint bool
	Lat, Lng float64
	RadiusKm float64
	Limit    int
	Offset   int
}

// Validate checks the query and fills in defaults.
func (q *DirectoryQuery) Validate() error {
	q.Name = strings.TrimSpace(q.Name)
	switch {
	case utf8.RuneCountInString(q.Name) > MaxDirectoryQuery:
		return Errorf(EINVALID, "q must have at most %d characters", MaxDirectoryQuery)
	case q.Category != "" && !ValidDirectoryCategory(q.Category):
		return Errorf(EINVALID, "category must be one of %s", strings.Join(DirectoryCategories, ", "))
	case q.Limit < 0 || q.Limit > MaxDirectoryLimit:
		return Errorf(EINVALID, "limit must be between 1 and %d", MaxDirectoryLimit)
	case q.Offset < 0:
		return Errorf(EINVALID, "cursor is not valid")
	}
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.HasPoint {
		if err := ValidCoordinates(q.Lat, q.Lng); err != nil {
			return err
		}
		if q.RadiusKm == 0 {
			q.RadiusKm = 25
		}
		if math.IsNaN(q.RadiusKm) || q.RadiusKm <= 0 || q.RadiusKm > MaxDirectoryRadiusKm {
			return Errorf(EINVALID, "radius_km must be between 0 and %g", MaxDirectoryRadiusKm)
		}
	} else if q.RadiusKm != 0 {
		return Errorf(EINVALID, "radius_km needs lat and lng")
	}
	return nil
}

// FoldName is the case-folded form of a name that directory searches
// compare (Unicode lower case, so that SQLite and PostgreSQL agree).
func FoldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// DirectoryName is one entry of the names list clients match messages
// against.
type DirectoryName struct {
	Name    string
	Account string
}

// DirectoryStore keeps directory listings. Every listing belongs to a
// business number; writes name the number's business, and a number of
// another business is ENOTFOUND (ReasonObject), so that no business can
// change another's listing even through a service bug.
type DirectoryStore interface {
	// PutListing inserts or replaces the business-owned fields of the
	// listing of l.Number (Listed, Category, location, Address, City) and
	// copies the number's verified name and account into it, leaving
	// Verified as it is. ENOTFOUND unless the number belongs to
	// l.Business.
	PutListing(ctx context.Context, l *DirectoryListing) error
	// Listing returns a number's listing; a number that never had one
	// returns an unlisted listing (not ENOTFOUND); an unknown number is
	// ENOTFOUND.
	Listing(ctx context.Context, number string) (*DirectoryListing, error)
	// SetVerified sets the operator's verified badge of a number (whether
	// it is listed or not); ENOTFOUND for an unknown number.
	SetVerified(ctx context.Context, number string, verified bool, at time.Time) error
	// SearchDirectory returns the listed businesses q selects, with
	// their opening hours. With a point, it returns the candidates in
	// the bounding box (up to MaxDirectoryCandidates, unordered, Offset
	// and Limit not applied) for the caller to rank by exact distance;
	// otherwise it applies the name ranking, Offset and Limit+1 (so the
	// caller can tell whether there are more).
	SearchDirectory(ctx context.Context, q DirectoryQuery) ([]DirectoryListing, error)
	// DirectoryNames lists the names and accounts of every listed
	// business, by account.
	DirectoryNames(ctx context.Context) ([]DirectoryName, error)
}
