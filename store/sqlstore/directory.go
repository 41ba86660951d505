package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

const listingColumns = `d.number, d.business, d.account, d.name, d.listed, d.category, d.has_location, d.latitude, d.longitude,
	d.address, d.city, d.verified, d.updated_at`

var (
	qListingNumber = newQuery(`SELECT business, account, verified_name FROM business_numbers WHERE id = ?`)
	qListing       = newQuery(`SELECT ` + listingColumns + ` FROM directory_listings d WHERE d.number = ?`)
	qPutListing    = newQuery(`INSERT INTO directory_listings (number, business, account, name, name_fold, listed, category,
		has_location, latitude, longitude, address, city, verified, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
		ON CONFLICT (number) DO UPDATE SET business = excluded.business, account = excluded.account, name = excluded.name,
		name_fold = excluded.name_fold, listed = excluded.listed, category = excluded.category, has_location = excluded.has_location,
		latitude = excluded.latitude, longitude = excluded.longitude, address = excluded.address, city = excluded.city,
		updated_at = excluded.updated_at`)
	qSetVerified = newQuery(`INSERT INTO directory_listings (number, business, account, name, name_fold, verified, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET verified = excluded.verified, updated_at = excluded.updated_at`)

	// Both searches take: name pattern ('' for any), category ('' for
	// any). The name search ranks names starting with the query first.
	qSearchNear = newQuery(`SELECT ` + listingColumns + `, COALESCE(p.opening_hours, '')
		FROM directory_listings d LEFT JOIN business_profiles p ON p.number = d.number
		WHERE d.listed <> 0 AND d.has_location <> 0 AND d.latitude BETWEEN ? AND ? AND d.longitude BETWEEN ? AND ?
		AND (? = '' OR d.name_fold LIKE ? ESCAPE '\') AND (? = '' OR d.category = ?)
		LIMIT ?`)
	qSearchName = newQuery(`SELECT ` + listingColumns + `, COALESCE(p.opening_hours, '')
		FROM directory_listings d LEFT JOIN business_profiles p ON p.number = d.number
		WHERE d.listed <> 0 AND (? = '' OR d.name_fold LIKE ? ESCAPE '\') AND (? = '' OR d.category = ?)
		ORDER BY CASE WHEN d.name_fold LIKE ? ESCAPE '\' THEN 0 ELSE 1 END, d.name_fold, d.number
		LIMIT ? OFFSET ?`)
	qDirectoryNames = newQuery(`SELECT name, account FROM directory_listings WHERE listed <> 0 ORDER BY account`)
)

var _ parley.DirectoryStore = (*Store)(nil)

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// listingNumber reads what a listing copies from its number.
func (s *Store) listingNumber(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name, number string) (business, account, verifiedName string, err error) {
	err = q.QueryRowContext(ctx, s.sql(qListingNumber), number).Scan(&business, &account, &verifiedName)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.objectNotFound(name, "business number", number)
	}
	return
}

// PutListing stores the business-owned fields of a listing.
func (s *Store) PutListing(ctx context.Context, l *parley.DirectoryListing) error {
	return s.writeTx(ctx, "PutListing", func(tx *sql.Tx) error {
		business, account, name, err := s.listingNumber(ctx, tx, "PutListing", l.Number)
		if err != nil {
			return err
		}
		if business != l.Business {
			return s.objectNotFound("PutListing", "business number of another business", l.Number)
		}
		lat, lng := l.Latitude, l.Longitude
		if !l.HasLocation {
			lat, lng = 0, 0
		}
		_, err = tx.ExecContext(ctx, s.sql(qPutListing), l.Number, business, account, name, parley.FoldName(name), b2i(l.Listed), l.Category,
			b2i(l.HasLocation), lat, lng, l.Address, l.City, micros(l.UpdatedAt))
		return err
	})
}

// SetVerified sets the operator's badge.
func (s *Store) SetVerified(ctx context.Context, number string, verified bool, at time.Time) error {
	return s.writeTx(ctx, "SetVerified", func(tx *sql.Tx) error {
		business, account, name, err := s.listingNumber(ctx, tx, "SetVerified", number)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sql(qSetVerified), number, business, account, name, parley.FoldName(name), b2i(verified), micros(at))
		return err
	})
}

func scanListing(r scanner, hours *string) (parley.DirectoryListing, error) {
	var l parley.DirectoryListing
	var listed, hasLoc, verified int
	var updated int64
	dest := []any{&l.Number, &l.Business, &l.Account, &l.Name, &listed, &l.Category, &hasLoc, &l.Latitude, &l.Longitude,
		&l.Address, &l.City, &verified, &updated}
	if hours != nil {
		dest = append(dest, hours)
	}
	if err := r.Scan(dest...); err != nil {
		return l, err
	}
	l.Listed, l.HasLocation, l.Verified, l.UpdatedAt = listed != 0, hasLoc != 0, verified != 0, fromMicros(updated)
	return l, nil
}

// Listing returns a number's listing, unlisted when it never had one.
func (s *Store) Listing(ctx context.Context, number string) (*parley.DirectoryListing, error) {
	l, err := scanListing(s.r.QueryRowContext(ctx, s.sql(qListing), number), nil)
	if err == nil {
		return &l, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, s.wrap("Listing", err)
	}
	business, account, name, err := s.listingNumber(ctx, s.r, "Listing", number)
	if err != nil {
		return nil, s.wrap("Listing", err)
	}
	return &parley.DirectoryListing{Number: number, Business: business, Account: account, Name: name}, nil
}

// likeEscape escapes LIKE's wildcards in s (the queries name \ as the
// escape character).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SearchDirectory returns the listed businesses q selects.
func (s *Store) SearchDirectory(ctx context.Context, q parley.DirectoryQuery) ([]parley.DirectoryListing, error) {
	name := parley.FoldName(q.Name)
	contains, prefix := "", ""
	if name != "" {
		contains, prefix = "%"+likeEscape(name)+"%", likeEscape(name)+"%"
	}
	var rows *sql.Rows
	var err error
	if q.HasPoint {
		minLat, maxLat, minLng, maxLng := parley.BoundingBox(q.Lat, q.Lng, q.RadiusKm)
		rows, err = s.r.QueryContext(ctx, s.sql(qSearchNear), minLat, maxLat, minLng, maxLng, name, contains, q.Category, q.Category,
			parley.MaxDirectoryCandidates)
	} else {
		rows, err = s.r.QueryContext(ctx, s.sql(qSearchName), name, contains, q.Category, q.Category, prefix, q.Limit+1, q.Offset)
	}
	if err != nil {
		return nil, s.wrap("SearchDirectory", err)
	}
	var out []parley.DirectoryListing
	err = scanAll(rows, func(r scanner) error {
		var hours string
		l, err := scanListing(r, &hours)
		if err != nil {
			return err
		}
		if l.Hours, err = parley.ParseOpeningHours([]byte(hours)); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, s.wrap("SearchDirectory", err)
	}
	return out, nil
}

// DirectoryNames lists every listed business's name and account.
func (s *Store) DirectoryNames(ctx context.Context) ([]parley.DirectoryName, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qDirectoryNames))
	if err != nil {
		return nil, s.wrap("DirectoryNames", err)
	}
	var out []parley.DirectoryName
	err = scanAll(rows, func(r scanner) error {
		var n parley.DirectoryName
		if err := r.Scan(&n.Name, &n.Account); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, s.wrap("DirectoryNames", err)
	}
	return out, nil
}
