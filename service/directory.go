package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

// DirectoryStore is what the business directory needs from storage.
type DirectoryStore interface {
	parley.DirectoryStore
	parley.RateStore
	BusinessNumber(ctx context.Context, id string) (*parley.BusinessNumber, error)
	BusinessNumberByAccount(ctx context.Context, account string) (*parley.BusinessNumber, error)
}

// DirectoryOptions configure the directory. Zero values take the
// defaults noted.
type DirectoryOptions struct {
	// SearchesPerMinute bounds directory searches per account, counted
	// in the shared store so that every node applies the same limit (60).
	SearchesPerMinute int
	// NamesTTL is how long a node serves the names list it read before
	// reading it again (10s). Clients revalidate with If-None-Match.
	NamesTTL time.Duration
}

// Directory is the business directory: businesses list themselves
// (Cloud API extension) or are listed by the operator; the operator
// alone sets the verified badge; signed-in clients search it and fetch
// the names list they match messages against on the device.
type Directory struct {
	store DirectoryStore
	biz   *Business
	clock parley.Clock
	opt   DirectoryOptions

	mu    sync.Mutex
	names []parley.DirectoryName
	etag  string
	read  time.Time
}

// NewDirectory returns the directory service; biz scopes Cloud API
// callers to their own numbers.
func NewDirectory(store DirectoryStore, biz *Business, clock parley.Clock, opt DirectoryOptions) *Directory {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if opt.SearchesPerMinute <= 0 {
		opt.SearchesPerMinute = 60
	}
	if opt.NamesTTL <= 0 {
		opt.NamesTTL = 10 * time.Second
	}
	return &Directory{store: store, biz: biz, clock: clock, opt: opt}
}

// Listing returns the directory listing of a number of the caller's
// business.
func (d *Directory) Listing(ctx context.Context, c *Caller, numberID string) (*parley.DirectoryListing, error) {
	if _, err := d.biz.number(ctx, c, numberID); err != nil {
		return nil, err
	}
	return d.store.Listing(ctx, numberID)
}

// ListingUpdate holds the fields of a listing update; nil fields are
// left as they are. Latitude and Longitude come together; ClearLocation
// removes the location.
type ListingUpdate struct {
	Listed              *bool
	Category            *string
	Latitude, Longitude *float64
	ClearLocation       bool
	Address, City       *string
}

// UpdateListing changes the fields u names of a number of the caller's
// business and returns the listing.
func (d *Directory) UpdateListing(ctx context.Context, c *Caller, numberID string, u ListingUpdate) (*parley.DirectoryListing, error) {
	n, err := d.biz.number(ctx, c, numberID)
	if err != nil {
		return nil, err
	}
	return d.update(ctx, n, u)
}

func (d *Directory) update(ctx context.Context, n *parley.BusinessNumber, u ListingUpdate) (*parley.DirectoryListing, error) {
	l, err := d.store.Listing(ctx, n.ID)
	if err != nil {
		return nil, err
	}
	if (u.Latitude == nil) != (u.Longitude == nil) {
		return nil, parley.Errorf(parley.EINVALID, "latitude and longitude must be given together")
	}
	if u.Listed != nil {
		l.Listed = *u.Listed
	}
	if u.Category != nil {
		l.Category = strings.ToUpper(strings.TrimSpace(*u.Category))
	}
	if u.Address != nil {
		l.Address = *u.Address
	}
	if u.City != nil {
		l.City = *u.City
	}
	switch {
	case u.ClearLocation:
		l.HasLocation, l.Latitude, l.Longitude = false, 0, 0
	case u.Latitude != nil:
		l.HasLocation, l.Latitude, l.Longitude = true, *u.Latitude, *u.Longitude
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	l.Business, l.UpdatedAt = n.Business, d.clock.Now()
	if err := d.store.PutListing(ctx, l); err != nil {
		return nil, err
	}
	d.invalidateNames()
	return d.store.Listing(ctx, n.ID)
}

// operatorNumber finds a number by phone_number_id or phone number
// ("+E164" or its digits; a 15-digit reference is tried as a Graph id
// first).
func (d *Directory) operatorNumber(ctx context.Context, ref string) (*parley.BusinessNumber, error) {
	ref = strings.TrimSpace(ref)
	if parley.ValidGraphID(ref) {
		n, err := d.store.BusinessNumber(ctx, ref)
		if err == nil || !parley.Match(err, parley.ENOTFOUND) || !parley.ValidAccountID(ref) {
			return n, err
		}
	}
	acct := ref
	if !parley.ValidAccountID(acct) {
		var err error
		if acct, err = parley.ParsePhone(ref); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "name the number by its phone_number_id or its phone number")
		}
	}
	n, err := d.store.BusinessNumberByAccount(ctx, acct)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.ENOTFOUND, "+%s is not a business number", acct)
	}
	return n, err
}

// OperatorListing changes a listing on the operator's behalf (parley
// admin business listing); ref is a phone_number_id or phone number.
func (d *Directory) OperatorListing(ctx context.Context, ref string, u ListingUpdate) (*parley.DirectoryListing, error) {
	n, err := d.operatorNumber(ctx, ref)
	if err != nil {
		return nil, err
	}
	return d.update(ctx, n, u)
}

// SetVerified sets or removes the verified badge of a number (operator
// only; parley admin business verify).
func (d *Directory) SetVerified(ctx context.Context, ref string, verified bool) (*parley.DirectoryListing, error) {
	n, err := d.operatorNumber(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := d.store.SetVerified(ctx, n.ID, verified, d.clock.Now()); err != nil {
		return nil, err
	}
	return d.store.Listing(ctx, n.ID)
}

// DirectoryResult is one search result.
type DirectoryResult struct {
	parley.DirectoryListing
	OpenNow  bool
	HasHours bool
	HasDist  bool
}

// Search runs a directory search for a signed-in account, limited per
// account. It returns the results and the offset of the next page (0:
// none).
func (d *Directory) Search(ctx context.Context, account string, q parley.DirectoryQuery) ([]DirectoryResult, int, error) {
	if err := q.Validate(); err != nil {
		return nil, 0, err
	}
	now := d.clock.Now()
	ok, retry, err := d.store.Hit(ctx, "directory:"+account, time.Minute, d.opt.SearchesPerMinute, now)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, parley.Errorf(parley.ERATELIMIT, "too many directory searches; try again in %d seconds", int(math.Ceil(retry.Seconds())))
	}
	ls, err := d.store.SearchDirectory(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	if q.HasPoint {
		for i := range ls {
			ls[i].Distance = parley.DistanceKm(q.Lat, q.Lng, ls[i].Latitude, ls[i].Longitude)
		}
		ls = slices.DeleteFunc(ls, func(l parley.DirectoryListing) bool { return l.Distance > q.RadiusKm })
		slices.SortFunc(ls, func(a, b parley.DirectoryListing) int {
			if a.Distance != b.Distance {
				if a.Distance < b.Distance {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Account, b.Account)
		})
		if q.Offset >= len(ls) {
			ls = nil
		} else {
			ls = ls[q.Offset:]
		}
	}
	next := 0
	if len(ls) > q.Limit {
		ls, next = ls[:q.Limit], q.Offset+q.Limit
	}
	out := make([]DirectoryResult, len(ls))
	for i, l := range ls {
		out[i] = DirectoryResult{DirectoryListing: l, HasDist: q.HasPoint}
		if l.Hours != nil && !l.Hours.IsZero() {
			out[i].HasHours, out[i].OpenNow = true, l.Hours.OpenAt(now)
		}
	}
	return out, next, nil
}

// Names returns the names and numbers of every listed business and an
// entity tag that changes whenever they do.
func (d *Directory) Names(ctx context.Context) ([]parley.DirectoryName, string, error) {
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.etag != "" && now.Sub(d.read) < d.opt.NamesTTL && !now.Before(d.read) {
		return d.names, d.etag, nil
	}
	ns, err := d.store.DirectoryNames(ctx)
	if err != nil {
		return nil, "", err
	}
	h := sha256.New()
	for _, n := range ns {
		h.Write([]byte(n.Account + "\x00" + n.Name + "\x00"))
	}
	d.names, d.etag, d.read = ns, `"`+hex.EncodeToString(h.Sum(nil)[:12])+`"`, now
	return ns, d.etag, nil
}

func (d *Directory) invalidateNames() {
	d.mu.Lock()
	d.etag = ""
	d.mu.Unlock()
}

// ParseListingUpdate reads a listing update from request parameters
// (has and str as a Graph request has them); the Cloud API extension and
// the operator API take the same ones.
func ParseListingUpdate(has func(string) bool, str func(string) string) (ListingUpdate, error) {
	var u ListingUpdate
	if has("listed") {
		b, err := strconv.ParseBool(str("listed"))
		if err != nil {
			return u, parley.Errorf(parley.EINVALID, "Param listed must be true or false.")
		}
		u.Listed = &b
	}
	for name, dst := range map[string]**string{"category": &u.Category, "address": &u.Address, "city": &u.City} {
		if has(name) {
			v := str(name)
			*dst = &v
		}
	}
	lat, lng := strings.TrimSpace(str("latitude")), strings.TrimSpace(str("longitude"))
	switch {
	case !has("latitude") && !has("longitude"):
	case (lat == "" || lat == "null") && (lng == "" || lng == "null"):
		u.ClearLocation = true
	default:
		la, err1 := strconv.ParseFloat(lat, 64)
		ln, err2 := strconv.ParseFloat(lng, 64)
		if err1 != nil || err2 != nil {
			return u, parley.Errorf(parley.EINVALID, "Params latitude and longitude must both be numbers (degrees).")
		}
		if err := parley.ValidCoordinates(la, ln); err != nil {
			return u, err
		}
		u.Latitude, u.Longitude = &la, &ln
	}
	return u, nil
}
