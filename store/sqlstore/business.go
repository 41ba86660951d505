package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

const (
	numberColumns = `id, business, account, display_phone, verified_name, quality, throughput, tier, webhook_url, webhook_verify_token, created_at`
	appColumns    = `id, business, name, secret_sealed, callback_url, verify_token, fields, created_at, max_changes`
	tokenColumns  = `id, business, name, hash, created_at, revoked_at`
)

// putProfileSQL inserts or replaces a whole profile.
const putProfileSQL = `INSERT INTO business_profiles (number, about, address, description, email, websites, vertical, picture_handle, opening_hours, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET about = excluded.about, address = excluded.address, description = excluded.description,
		email = excluded.email, websites = excluded.websites, vertical = excluded.vertical, picture_handle = excluded.picture_handle,
		opening_hours = excluded.opening_hours, updated_at = excluded.updated_at`

var (
	qInsertBusiness = newQuery(`INSERT INTO businesses (id, name, created_at) VALUES (?, ?, ?)`)
	qBusiness       = newQuery(`SELECT id, name, created_at FROM businesses WHERE id = ?`)
	qBusinesses     = newQuery(`SELECT id, name, created_at FROM businesses ORDER BY id`)

	qInsertNumber = newQuery(`INSERT INTO business_numbers (` + numberColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`)
	qNumber          = newQuery(`SELECT ` + numberColumns + ` FROM business_numbers WHERE id = ?`)
	qNumberByAccount = newQuery(`SELECT ` + numberColumns + ` FROM business_numbers WHERE account = ?`)
	qNumbers         = newQuery(`SELECT ` + numberColumns + ` FROM business_numbers WHERE business = ? ORDER BY created_at DESC, id`)
	qUpdateNumber    = newQuery(`UPDATE business_numbers SET verified_name = ?, quality = ?, throughput = ?, tier = ?,
		webhook_url = ?, webhook_verify_token = ? WHERE id = ?`)

	qInsertApp = newQuery(`INSERT INTO business_apps (` + appColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qApp       = newQuery(`SELECT ` + appColumns + ` FROM business_apps WHERE id = ?`)
	qApps      = newQuery(`SELECT ` + appColumns + ` FROM business_apps WHERE business = ? ORDER BY created_at, id`)
	qUpdateApp = newQuery(`UPDATE business_apps SET callback_url = ?, verify_token = ?, fields = ?, max_changes = ? WHERE id = ?`)

	qInsertToken = newQuery(`INSERT INTO access_tokens (` + tokenColumns + `) VALUES (?, ?, ?, ?, ?, ?)`)
	qToken       = newQuery(`SELECT ` + tokenColumns + ` FROM access_tokens WHERE id = ?`)
	qTokens      = newQuery(`SELECT ` + tokenColumns + ` FROM access_tokens WHERE business = ? ORDER BY created_at, id`)
	qRevokeToken = newQuery(`UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`)
	qTokenExists = newQuery(`SELECT COUNT(*) FROM access_tokens WHERE id = ?`)

	qSubscribe = newQuery(`INSERT INTO business_subscriptions (business, app, override_url, verify_token, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (business, app) DO UPDATE SET override_url = excluded.override_url, verify_token = excluded.verify_token`)
	qUnsubscribe   = newQuery(`DELETE FROM business_subscriptions WHERE business = ? AND app = ?`)
	qSubscriptions = newQuery(`SELECT business, app, override_url, verify_token, created_at FROM business_subscriptions
		WHERE business = ? ORDER BY created_at, app`)

	qProfile    = newQuery(`SELECT about, address, description, email, websites, vertical, picture_handle, opening_hours, updated_at FROM business_profiles WHERE number = ?`)
	qPutProfile = newQuery(putProfileSQL)
	// qPutProfileIf is qPutProfile that updates only the version the
	// writer saw (updated_at in milliseconds).
	qPutProfileIf = newQuery(putProfileSQL + ` WHERE business_profiles.updated_at / 1000 = ?`)
)

// objectNotFound is ENOTFOUND for a Graph object id (what: for the log),
// worded as the Graph API words it.
func (s *Store) objectNotFound(name, what, id string) error {
	e := parley.Errorf(parley.ENOTFOUND, "Object with ID '%s' does not exist", id)
	e.Err = errors.New(what + " not found")
	e.Op, e.Reason = s.op(name), parley.ReasonObject
	return e
}

// CreateBusiness commits the business, its app, number and token in one
// transaction.
func (s *Store) CreateBusiness(ctx context.Context, b *parley.Business, app *parley.App, n *parley.BusinessNumber, tok *parley.AccessToken) error {
	return s.writeTx(ctx, "CreateBusiness", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qInsertBusiness), b.ID, b.Name, micros(b.CreatedAt)); err != nil {
			return err
		}
		if err := s.insertApp(ctx, tx, app); err != nil {
			return err
		}
		if err := s.insertNumber(ctx, tx, n); err != nil {
			return err
		}
		return s.insertToken(ctx, tx, tok)
	})
}

func (s *Store) insertApp(ctx context.Context, tx *sql.Tx, a *parley.App) error {
	_, err := tx.ExecContext(ctx, s.sql(qInsertApp), a.ID, a.Business, a.Name, blob(a.SecretSealed), a.CallbackURL, a.VerifyToken,
		strings.Join(a.Fields, ","), micros(a.CreatedAt), a.MaxChangesPerPost)
	return err
}

func (s *Store) insertNumber(ctx context.Context, tx *sql.Tx, n *parley.BusinessNumber) error {
	res, err := tx.ExecContext(ctx, s.sql(qInsertNumber), n.ID, n.Business, n.Account, n.DisplayPhone, n.VerifiedName, n.Quality,
		int64(n.Throughput), n.MessagingTier, n.WebhookURL, n.WebhookVerifyToken, micros(n.CreatedAt))
	if err != nil {
		return err
	}
	if ok, err := rowsAffected(res); err != nil {
		return err
	} else if !ok {
		return parley.Errorf(parley.ECONFLICT, "+%s is already a business number", n.Account)
	}
	return nil
}

func (s *Store) insertToken(ctx context.Context, tx *sql.Tx, t *parley.AccessToken) error {
	_, err := tx.ExecContext(ctx, s.sql(qInsertToken), t.ID, t.Business, t.Name, blob(t.Hash), micros(t.CreatedAt), micros(t.RevokedAt))
	return err
}

// Business returns a business; ENOTFOUND when unknown.
func (s *Store) Business(ctx context.Context, id string) (*parley.Business, error) {
	var b parley.Business
	var created int64
	err := s.r.QueryRowContext(ctx, s.sql(qBusiness), id).Scan(&b.ID, &b.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.objectNotFound("Business", "business", id)
	}
	if err != nil {
		return nil, s.wrap("Business", err)
	}
	b.CreatedAt = fromMicros(created)
	return &b, nil
}

// Businesses lists every business by id.
func (s *Store) Businesses(ctx context.Context) ([]parley.Business, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qBusinesses))
	if err != nil {
		return nil, s.wrap("Businesses", err)
	}
	var out []parley.Business
	err = scanAll(rows, func(r scanner) error {
		var b parley.Business
		var created int64
		if err := r.Scan(&b.ID, &b.Name, &created); err != nil {
			return err
		}
		b.CreatedAt = fromMicros(created)
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, s.wrap("Businesses", err)
	}
	return out, nil
}

// AddBusinessNumber adds a number to an existing business.
func (s *Store) AddBusinessNumber(ctx context.Context, n *parley.BusinessNumber) error {
	return s.writeTx(ctx, "AddBusinessNumber", func(tx *sql.Tx) error { return s.insertNumber(ctx, tx, n) })
}

func scanNumber(r scanner) (*parley.BusinessNumber, error) {
	var n parley.BusinessNumber
	var throughput, created int64
	if err := r.Scan(&n.ID, &n.Business, &n.Account, &n.DisplayPhone, &n.VerifiedName, &n.Quality, &throughput, &n.MessagingTier,
		&n.WebhookURL, &n.WebhookVerifyToken, &created); err != nil {
		return nil, err
	}
	n.Throughput, n.CreatedAt = int(throughput), fromMicros(created)
	return &n, nil
}

// BusinessNumber returns a number by phone_number_id.
func (s *Store) BusinessNumber(ctx context.Context, id string) (*parley.BusinessNumber, error) {
	n, err := scanNumber(s.r.QueryRowContext(ctx, s.sql(qNumber), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.objectNotFound("BusinessNumber", "phone number", id)
	}
	if err != nil {
		return nil, s.wrap("BusinessNumber", err)
	}
	return n, nil
}

// BusinessNumberByAccount returns the number of a Parley account.
func (s *Store) BusinessNumberByAccount(ctx context.Context, account string) (*parley.BusinessNumber, error) {
	n, err := scanNumber(s.r.QueryRowContext(ctx, s.sql(qNumberByAccount), account))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("BusinessNumberByAccount", "no business number for +%s", account)
	}
	if err != nil {
		return nil, s.wrap("BusinessNumberByAccount", err)
	}
	return n, nil
}

// BusinessNumbers lists the business's numbers, newest first.
func (s *Store) BusinessNumbers(ctx context.Context, business string) ([]parley.BusinessNumber, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qNumbers), business)
	if err != nil {
		return nil, s.wrap("BusinessNumbers", err)
	}
	var out []parley.BusinessNumber
	err = scanAll(rows, func(r scanner) error {
		n, err := scanNumber(r)
		if err == nil {
			out = append(out, *n)
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("BusinessNumbers", err)
	}
	return out, nil
}

// UpdateBusinessNumber stores the number's mutable fields.
func (s *Store) UpdateBusinessNumber(ctx context.Context, n *parley.BusinessNumber) error {
	res, err := s.w.ExecContext(ctx, s.sql(qUpdateNumber), n.VerifiedName, n.Quality, int64(n.Throughput), n.MessagingTier,
		n.WebhookURL, n.WebhookVerifyToken, n.ID)
	if err != nil {
		return s.wrap("UpdateBusinessNumber", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("UpdateBusinessNumber", err)
	} else if !ok {
		return s.objectNotFound("UpdateBusinessNumber", "phone number", n.ID)
	}
	return nil
}

func scanApp(r scanner) (*parley.App, error) {
	var a parley.App
	var fields string
	var created int64
	if err := r.Scan(&a.ID, &a.Business, &a.Name, &a.SecretSealed, &a.CallbackURL, &a.VerifyToken, &fields, &created, &a.MaxChangesPerPost); err != nil {
		return nil, err
	}
	if fields != "" {
		a.Fields = strings.Split(fields, ",")
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

// App returns an app; ENOTFOUND when unknown.
func (s *Store) App(ctx context.Context, id string) (*parley.App, error) {
	a, err := scanApp(s.r.QueryRowContext(ctx, s.sql(qApp), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.objectNotFound("App", "app", id)
	}
	if err != nil {
		return nil, s.wrap("App", err)
	}
	return a, nil
}

// Apps lists the apps a business created.
func (s *Store) Apps(ctx context.Context, business string) ([]parley.App, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qApps), business)
	if err != nil {
		return nil, s.wrap("Apps", err)
	}
	var out []parley.App
	err = scanAll(rows, func(r scanner) error {
		a, err := scanApp(r)
		if err == nil {
			out = append(out, *a)
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("Apps", err)
	}
	return out, nil
}

// UpdateAppSubscription stores the app's webhook subscription.
func (s *Store) UpdateAppSubscription(ctx context.Context, a *parley.App) error {
	res, err := s.w.ExecContext(ctx, s.sql(qUpdateApp), a.CallbackURL, a.VerifyToken, strings.Join(a.Fields, ","), a.MaxChangesPerPost, a.ID)
	if err != nil {
		return s.wrap("UpdateAppSubscription", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("UpdateAppSubscription", err)
	} else if !ok {
		return s.objectNotFound("UpdateAppSubscription", "app", a.ID)
	}
	return nil
}

// CreateAccessToken stores a token.
func (s *Store) CreateAccessToken(ctx context.Context, t *parley.AccessToken) error {
	return s.writeTx(ctx, "CreateAccessToken", func(tx *sql.Tx) error { return s.insertToken(ctx, tx, t) })
}

func scanToken(r scanner) (*parley.AccessToken, error) {
	var t parley.AccessToken
	var created, revoked int64
	if err := r.Scan(&t.ID, &t.Business, &t.Name, &t.Hash, &created, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt, t.RevokedAt = fromMicros(created), fromMicros(revoked)
	return &t, nil
}

// AccessToken returns a token, revoked or not; ENOTFOUND when unknown.
func (s *Store) AccessToken(ctx context.Context, id string) (*parley.AccessToken, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, s.sql(qToken), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("AccessToken", "access token not found")
	}
	if err != nil {
		return nil, s.wrap("AccessToken", err)
	}
	return t, nil
}

// AccessTokens lists the business's tokens.
func (s *Store) AccessTokens(ctx context.Context, business string) ([]parley.AccessToken, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qTokens), business)
	if err != nil {
		return nil, s.wrap("AccessTokens", err)
	}
	var out []parley.AccessToken
	err = scanAll(rows, func(r scanner) error {
		t, err := scanToken(r)
		if err == nil {
			out = append(out, *t)
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("AccessTokens", err)
	}
	return out, nil
}

// RevokeAccessToken marks a token revoked; revoking twice keeps the
// first time.
func (s *Store) RevokeAccessToken(ctx context.Context, id string, at time.Time) error {
	return s.writeTx(ctx, "RevokeAccessToken", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qRevokeToken), micros(at), id); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(qTokenExists), id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return parley.Errorf(parley.ENOTFOUND, "access token not found")
		}
		return nil
	})
}

// Subscribe inserts or replaces a subscription.
func (s *Store) Subscribe(ctx context.Context, sub *parley.Subscription) error {
	_, err := s.w.ExecContext(ctx, s.sql(qSubscribe), sub.Business, sub.App, sub.OverrideCallbackURL, sub.VerifyToken, micros(sub.CreatedAt))
	return s.wrapIf("Subscribe", err)
}

// Unsubscribe removes a subscription.
func (s *Store) Unsubscribe(ctx context.Context, business, app string) error {
	res, err := s.w.ExecContext(ctx, s.sql(qUnsubscribe), business, app)
	if err != nil {
		return s.wrap("Unsubscribe", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("Unsubscribe", err)
	} else if !ok {
		return s.objectNotFound("Unsubscribe", "subscription of app", app)
	}
	return nil
}

// Subscriptions lists the apps subscribed to a business.
func (s *Store) Subscriptions(ctx context.Context, business string) ([]parley.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qSubscriptions), business)
	if err != nil {
		return nil, s.wrap("Subscriptions", err)
	}
	var out []parley.Subscription
	err = scanAll(rows, func(r scanner) error {
		var sub parley.Subscription
		var created int64
		if err := r.Scan(&sub.Business, &sub.App, &sub.OverrideCallbackURL, &sub.VerifyToken, &created); err != nil {
			return err
		}
		sub.CreatedAt = fromMicros(created)
		out = append(out, sub)
		return nil
	})
	if err != nil {
		return nil, s.wrap("Subscriptions", err)
	}
	return out, nil
}

// Profile returns the number's profile, empty when never set.
func (s *Store) Profile(ctx context.Context, number string) (*parley.BusinessProfile, error) {
	p := &parley.BusinessProfile{Number: number}
	var websites, hours string
	var updated int64
	err := s.r.QueryRowContext(ctx, s.sql(qProfile), number).Scan(&p.About, &p.Address, &p.Description, &p.Email, &websites,
		&p.Vertical, &p.PictureHandle, &hours, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return nil, s.wrap("Profile", err)
	}
	if err := json.Unmarshal([]byte(websites), &p.Websites); err != nil {
		return nil, s.wrap("Profile", err)
	}
	h, err := parley.ParseOpeningHours([]byte(hours))
	if err != nil {
		return nil, s.wrap("Profile", err)
	}
	p.Hours = *h
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PutProfile stores the whole profile.
func (s *Store) PutProfile(ctx context.Context, p *parley.BusinessProfile) error {
	args, err := profileArgs(p)
	if err != nil {
		return s.wrap("PutProfile", err)
	}
	_, err = s.w.ExecContext(ctx, s.sql(qPutProfile), args...)
	return s.wrapIf("PutProfile", err)
}

// PutProfileIf stores the whole profile if it is still the version seen.
func (s *Store) PutProfileIf(ctx context.Context, p *parley.BusinessProfile, seen time.Time) error {
	args, err := profileArgs(p)
	if err != nil {
		return s.wrap("PutProfileIf", err)
	}
	var ms int64
	if !seen.IsZero() {
		ms = seen.UnixMilli()
	}
	res, err := s.w.ExecContext(ctx, s.sql(qPutProfileIf), append(args, ms)...)
	if err != nil {
		return s.wrap("PutProfileIf", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("PutProfileIf", err)
	} else if !ok {
		e := parley.Errorf(parley.ECONFLICT, "the profile was changed by someone else since you opened it; reload it and make your changes again")
		e.Op = s.op("PutProfileIf")
		return e
	}
	return nil
}

// profileArgs are the arguments of qPutProfile.
func profileArgs(p *parley.BusinessProfile) ([]any, error) {
	websites, err := json.Marshal(p.Websites)
	if err != nil {
		return nil, err
	}
	if p.Websites == nil {
		websites = []byte("[]")
	}
	var hours []byte
	if !p.Hours.IsZero() {
		if hours, err = json.Marshal(p.Hours); err != nil {
			return nil, err
		}
	}
	return []any{p.Number, p.About, p.Address, p.Description, p.Email, string(websites),
		p.Vertical, p.PictureHandle, string(hours), micros(p.UpdatedAt)}, nil
}

// wrapIf is wrap for a possibly nil error.
func (s *Store) wrapIf(name string, err error) error {
	if err == nil {
		return nil
	}
	return s.wrap(name, err)
}

var _ parley.BusinessStore = (*Store)(nil)
