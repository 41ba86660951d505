package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/parley-chat/parley"
)

// Agents' passwords are hashed with argon2id (RFC 9106) at OWASP's
// recommended minimum: 19 MiB, 2 passes, 1 lane. The PHC string form
// keeps the parameters with each hash, so that they can be raised later
// without invalidating stored hashes.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32

	minPassword = 10
	maxPassword = 256
)

// Sign-in limits.
const (
	// LoginFailures in a row lock an agent out for LoginLockout.
	LoginFailures = 5
	LoginLockout  = 15 * time.Minute
	// Per client address and per email, per minute.
	loginPerAddr  = 20
	loginPerEmail = 10

	// SessionIdle is how long a session lives without use; SessionMax
	// bounds it however much it is used.
	SessionIdle = 12 * time.Hour
	SessionMax  = 30 * 24 * time.Hour
	// AgentOnline is how recently an agent must have been seen (a
	// request or the event stream's heartbeat) to count as online for
	// round-robin assignment.
	AgentOnline = 2 * time.Minute
)

// argonSlots bounds the argon2id computations running at once: each
// takes 19 MiB, and a burst of sign-ins from many addresses must not
// take the node's memory.
var argonSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

func argonKey(password, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey(password, salt, t, m, p, n)
}

func hashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argonKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// checkPassword compares in constant time; a malformed hash never matches.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<22 || t > 64 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argonKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the email is unknown, so that a
// sign-in takes as long whether or not the agent exists.
var dummyHash = sync.OnceValue(func() string { return hashPassword("parley-no-such-agent") })

func validPassword(p string) error {
	if n := utf8.RuneCountInString(p); n < minPassword || len(p) > maxPassword {
		return parley.Errorf(parley.EINVALID, "password must have %d to %d characters", minPassword, maxPassword)
	}
	return nil
}

// AgentAuth is a signed-in agent: its session and itself.
type AgentAuth struct {
	Agent   *parley.Agent
	Session *parley.AgentSession
}

// Can reports whether the agent's role is at least role.
func (a *AgentAuth) Can(role string) bool {
	rank := map[string]int{parley.AgentMember: 1, parley.AgentAdmin: 2, parley.AgentOwner: 3}
	return rank[a.Agent.Role] >= rank[role]
}

func (a *AgentAuth) require(role string) error {
	if !a.Can(role) {
		return parley.Errorf(parley.EFORBIDDEN, "this needs the %s role", role)
	}
	return nil
}

// Login is a new session: the token goes into the session cookie, the
// CSRF token into the X-CSRF-Token header of every state-changing
// request.
type Login struct {
	Token string
	CSRF  string
	Auth  *AgentAuth
	// Choose is set instead of the rest when the email and password fit
	// agents of several businesses: sign in again naming one of them.
	Choose []BusinessChoice
}

// BusinessChoice is a business offered at sign-in (Login.Choose).
type BusinessChoice struct {
	ID   string
	Name string
}

// maxAgentsPerEmail bounds the businesses one email is an agent of that
// a sign-in considers (each costs a password check).
const maxAgentsPerEmail = 20

func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// audit appends to the audit log; a failure is logged, not returned:
// the action happened.
func (s *Inbox) audit(ctx context.Context, business, agent, action, target, detail string) {
	e := &parley.AuditEntry{Business: business, Agent: agent, Action: action, Target: target, Detail: detail, At: s.clock.Now()}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Error("inbox: audit entry lost", "action", action, "err", err)
	}
}

// AddAgent creates an agent of a business (operator, or an owner or
// admin through the inbox API).
func (s *Inbox) AddAgent(ctx context.Context, business, email, name, role, password string) (*parley.Agent, error) {
	a, err := s.createAgent(ctx, business, email, name, role, password)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, business, "", "agent.add", a.ID, a.Email+" "+a.Role)
	return a, nil
}

// createAgent stores a new agent; the caller writes the audit entry
// (the operator's or the agent's who added it).
func (s *Inbox) createAgent(ctx context.Context, business, email, name, role, password string) (*parley.Agent, error) {
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	if err := validPassword(password); err != nil {
		return nil, err
	}
	a := &parley.Agent{ID: newID(8), Business: business, Email: email, Name: name, Role: role, CreatedAt: s.clock.Now()}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	a.PasswordHash = hashPassword(password)
	if err := s.store.CreateAgent(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Agents lists a business's agents.
func (s *Inbox) Agents(ctx context.Context, business string) ([]parley.Agent, error) {
	if _, err := s.store.Business(ctx, business); err != nil {
		return nil, err
	}
	return s.store.Agents(ctx, business)
}

func (s *Inbox) agentOf(ctx context.Context, business, email string) (*parley.Agent, error) {
	as, err := s.store.AgentsByEmail(ctx, strings.ToLower(strings.TrimSpace(email)), maxAgentsPerEmail)
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].Business == business {
			return &as[i], nil
		}
	}
	return nil, parley.Errorf(parley.ENOTFOUND, "business %s has no agent %s", business, email)
}

// RemoveAgent deletes an agent of a business and its sessions.
func (s *Inbox) RemoveAgent(ctx context.Context, business, email string) error {
	a, err := s.agentOf(ctx, business, email)
	if err != nil {
		return err
	}
	if err := s.store.DeleteAgent(ctx, a.ID); err != nil {
		return err
	}
	s.audit(ctx, business, "", "agent.remove", a.ID, a.Email)
	return nil
}

// ResetPassword sets a new password (and clears the second factor when
// clearTOTP), ends the agent's sessions and lifts a lock-out.
func (s *Inbox) ResetPassword(ctx context.Context, business, email, password string, clearTOTP bool) error {
	a, err := s.agentOf(ctx, business, email)
	if err != nil {
		return err
	}
	if err := validPassword(password); err != nil {
		return err
	}
	a.PasswordHash = hashPassword(password)
	if clearTOTP {
		a.TOTPSealed, a.TOTPLastStep = nil, 0
	}
	if err := s.store.UpdateAgent(ctx, a); err != nil {
		return err
	}
	if err := s.store.AgentLoginSucceeded(ctx, a.ID); err != nil {
		return err
	}
	if err := s.store.RevokeAgentSession(ctx, a.ID, "", s.clock.Now()); err != nil {
		return err
	}
	s.audit(ctx, business, "", "agent.reset_password", a.ID, a.Email)
	return nil
}

var errLogin = parley.Errorf(parley.EUNAUTHORIZED, "wrong email, password or code")

// Login signs an agent in from addr. Too many attempts from one address
// or for one email are refused for a minute (ERATELIMIT); LoginFailures
// wrong passwords in a row lock the agent out for LoginLockout
// (ELOCKED). Unknown emails, wrong passwords and wrong codes get the
// same answer. One email may be an agent of several businesses: business
// names one; without it, when the password fits the agents of several,
// Login answers with the businesses to choose from (Login.Choose) and
// signs nobody in.
func (s *Inbox) Login(ctx context.Context, email, password, code, business, addr, userAgent string) (*Login, error) {
	now := s.clock.Now()
	email = strings.ToLower(strings.TrimSpace(email))
	for _, k := range []struct {
		key   string
		limit int
	}{{"agentlogin|ip|" + addr, loginPerAddr}, {"agentlogin|email|" + email, loginPerEmail}} {
		ok, _, err := s.store.Hit(ctx, k.key, time.Minute, k.limit, now)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, parley.Errorf(parley.ERATELIMIT, "too many sign-in attempts; wait a minute")
		}
	}
	all, err := s.store.AgentsByEmail(ctx, email, maxAgentsPerEmail)
	if err != nil {
		return nil, err
	}
	cands := all[:0]
	for _, a := range all {
		if business == "" || a.Business == business {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		checkPassword(dummyHash(), password)
		return nil, errLogin
	}
	var fits, open []*parley.Agent
	var lockedUntil time.Time
	for i := range cands {
		a := &cands[i]
		if now.Before(a.LockedUntil) {
			lockedUntil = a.LockedUntil
			continue
		}
		open = append(open, a)
		if checkPassword(a.PasswordHash, password) {
			fits = append(fits, a)
		}
	}
	switch {
	case len(open) == 0:
		return nil, parley.Errorf(parley.ELOCKED, "too many failed sign-ins; try again after %s", lockedUntil.Format(time.RFC3339))
	case len(fits) == 0:
		for _, a := range open {
			if err := s.loginFailed(ctx, a, addr, now); err != nil {
				return nil, err
			}
		}
		return nil, errLogin
	case len(fits) > 1:
		l := &Login{}
		for _, a := range fits {
			b, err := s.store.Business(ctx, a.Business)
			if err != nil {
				return nil, err
			}
			l.Choose = append(l.Choose, BusinessChoice{ID: b.ID, Name: b.Name})
		}
		return l, nil
	}
	a := fits[0]
	var step int64
	if a.TOTPSealed != nil && a.TOTPLastStep >= 0 {
		secret, err := s.sealer.Open(a.TOTPSealed, parley.AgentTOTPAAD(a.ID))
		if err != nil {
			return nil, err
		}
		var ok bool
		step, ok = verifyTOTP(secret, strings.TrimSpace(code), now, a.TOTPLastStep)
		clear(secret)
		if !ok {
			if err := s.loginFailed(ctx, a, addr, now); err != nil {
				return nil, err
			}
			return nil, errLogin
		}
	}
	if step > 0 {
		a.TOTPLastStep = step
		if err := s.store.UpdateAgent(ctx, a); err != nil {
			return nil, err
		}
	}
	if a.Failures > 0 {
		if err := s.store.AgentLoginSucceeded(ctx, a.ID); err != nil {
			return nil, err
		}
	}
	token := newSecret()
	csrf := CSRFToken(token)
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	x := &parley.AgentSession{ID: newID(8), Hash: hashSecret(token), CSRFHash: hashSecret(csrf), Agent: a.ID, Business: a.Business,
		UserAgent: strings.ToValidUTF8(userAgent, ""), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionIdle)}
	if err := s.store.CreateAgentSession(ctx, x); err != nil {
		return nil, err
	}
	s.store.TouchAgent(ctx, a.ID, now)
	s.audit(ctx, a.Business, a.ID, "session.login", x.ID, addr)
	return &Login{Token: token, CSRF: csrf, Auth: &AgentAuth{Agent: a, Session: x}}, nil
}

// loginFailed counts a failed sign-in of a, locking it out after
// LoginFailures in a row.
func (s *Inbox) loginFailed(ctx context.Context, a *parley.Agent, addr string, now time.Time) error {
	locked, err := s.store.AgentLoginFailed(ctx, a.ID, LoginFailures, now.Add(LoginLockout))
	if err != nil {
		return err
	}
	if locked {
		s.audit(ctx, a.Business, a.ID, "agent.locked", a.ID, "after "+fmt.Sprint(LoginFailures)+" failed sign-ins from "+addr)
	}
	return nil
}

// Authenticate returns the agent of a session token. Use extends the
// session (by SessionIdle, up to SessionMax after sign-in) and marks
// the agent online.
func (s *Inbox) Authenticate(ctx context.Context, token string) (*AgentAuth, error) {
	if len(token) < 16 || len(token) > 128 {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "not signed in")
	}
	x, err := s.store.AgentSession(ctx, hashSecret(token))
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "not signed in")
	}
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if !x.RevokedAt.IsZero() {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "the session was ended; sign in again")
	}
	if !now.Before(x.ExpiresAt) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "the session expired; sign in again")
	}
	a, err := s.store.Agent(ctx, x.Agent)
	if parley.Match(err, parley.ENOTFOUND) {
		return nil, parley.Errorf(parley.EUNAUTHORIZED, "the agent was removed")
	}
	if err != nil {
		return nil, err
	}
	// Write at most once a minute per session.
	if now.Sub(x.LastSeenAt) >= time.Minute {
		exp := now.Add(SessionIdle)
		if max := x.CreatedAt.Add(SessionMax); exp.After(max) {
			exp = max
		}
		if err := s.store.TouchAgentSession(ctx, x.ID, now, exp); err != nil {
			return nil, err
		}
		x.LastSeenAt, x.ExpiresAt = now, exp
	}
	if now.Sub(a.LastSeenAt) >= 10*time.Second {
		s.store.TouchAgent(ctx, a.ID, now)
	}
	return &AgentAuth{Agent: a, Session: x}, nil
}

// CSRFToken derives a session's CSRF token from its session token, so
// that a reloaded page can ask for it again (GET /business/api/me)
// while a page of another origin, which cannot read the answer, cannot.
func CSRFToken(sessionToken string) string {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("parley csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports whether token is the session's CSRF token.
func (s *Inbox) CheckCSRF(a *AgentAuth, token string) bool {
	return token != "" && subtle.ConstantTimeCompare(hashSecret(token), a.Session.CSRFHash) == 1
}

// Heartbeat marks the agent online (the event stream calls it).
func (s *Inbox) Heartbeat(ctx context.Context, a *AgentAuth) {
	s.store.TouchAgent(ctx, a.Agent.ID, s.clock.Now())
}

// Sessions lists the agent's live sessions.
func (s *Inbox) Sessions(ctx context.Context, a *AgentAuth) ([]parley.AgentSession, error) {
	return s.store.AgentSessions(ctx, a.Agent.ID, s.clock.Now())
}

// RevokeSession ends one of the agent's sessions ("" : the current one).
func (s *Inbox) RevokeSession(ctx context.Context, a *AgentAuth, id string) error {
	if id == "" {
		id = a.Session.ID
	}
	if err := s.store.RevokeAgentSession(ctx, a.Agent.ID, id, s.clock.Now()); err != nil {
		if parley.Match(err, parley.ENOTFOUND) {
			return parley.Errorf(parley.ENOTFOUND, "no such session")
		}
		return err
	}
	s.audit(ctx, a.Agent.Business, a.Agent.ID, "session.revoke", id, "")
	return nil
}

// TOTPSetup is a second factor waiting for its first code.
type TOTPSetup struct {
	Secret string // base32, for typing in
	URL    string // otpauth://, for a QR code
}

// BeginTOTP creates a new TOTP secret for the agent, active once
// ConfirmTOTP saw a code of it. An active second factor must be turned
// off (DisableTOTP) first.
func (s *Inbox) BeginTOTP(ctx context.Context, a *AgentAuth) (*TOTPSetup, error) {
	ag, err := s.store.Agent(ctx, a.Agent.ID)
	if err != nil {
		return nil, err
	}
	if ag.TOTPSealed != nil && ag.TOTPLastStep >= 0 {
		return nil, parley.Errorf(parley.ECONFLICT, "two-factor sign-in is on already; turn it off first")
	}
	secret := make([]byte, 20)
	rand.Read(secret)
	defer clear(secret)
	if ag.TOTPSealed, err = s.sealer.Seal(secret, parley.AgentTOTPAAD(ag.ID)); err != nil {
		return nil, err
	}
	ag.TOTPLastStep = -1 // pending
	if err := s.store.UpdateAgent(ctx, ag); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: totpBase32.EncodeToString(secret), URL: totpURL(secret, "Parley", ag.Email)}, nil
}

// ConfirmTOTP turns the pending second factor on with a code of it.
func (s *Inbox) ConfirmTOTP(ctx context.Context, a *AgentAuth, code string) error {
	ag, err := s.store.Agent(ctx, a.Agent.ID)
	if err != nil {
		return err
	}
	if ag.TOTPSealed == nil || ag.TOTPLastStep >= 0 {
		return parley.Errorf(parley.ECONFLICT, "no two-factor setup is pending")
	}
	secret, err := s.sealer.Open(ag.TOTPSealed, parley.AgentTOTPAAD(ag.ID))
	if err != nil {
		return err
	}
	step, ok := verifyTOTP(secret, strings.TrimSpace(code), s.clock.Now(), 0)
	clear(secret)
	if !ok {
		return parley.Errorf(parley.EINVALID, "the code is wrong; check the authenticator's clock")
	}
	ag.TOTPLastStep = step
	if err := s.store.UpdateAgent(ctx, ag); err != nil {
		return err
	}
	s.audit(ctx, ag.Business, ag.ID, "agent.totp_on", ag.ID, "")
	return nil
}

// DisableTOTP turns the second factor off; it needs the password.
func (s *Inbox) DisableTOTP(ctx context.Context, a *AgentAuth, password string) error {
	ag, err := s.store.Agent(ctx, a.Agent.ID)
	if err != nil {
		return err
	}
	if err := s.checkOwnPassword(ctx, ag, password); err != nil {
		return err
	}
	ag.TOTPSealed, ag.TOTPLastStep = nil, 0
	if err := s.store.UpdateAgent(ctx, ag); err != nil {
		return err
	}
	s.audit(ctx, ag.Business, ag.ID, "agent.totp_off", ag.ID, "")
	return nil
}

// passwordChecks bounds how often a signed-in agent may try its own
// password (turning TOTP off, changing the password) per minute: a
// stolen session must not become a way to guess the password.
const passwordChecks = 5

// checkOwnPassword checks a signed-in agent's password. A wrong one is
// EFORBIDDEN, not EUNAUTHORIZED: the session is still good (the app
// takes 401 for a session that ended).
func (s *Inbox) checkOwnPassword(ctx context.Context, ag *parley.Agent, password string) error {
	ok, _, err := s.store.Hit(ctx, "agentpw|"+ag.ID, time.Minute, passwordChecks, s.clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return parley.Errorf(parley.ERATELIMIT, "too many password attempts; wait a minute")
	}
	if !checkPassword(ag.PasswordHash, password) {
		return parley.Errorf(parley.EFORBIDDEN, "the current password is wrong")
	}
	return nil
}

// ChangePassword sets the signed-in agent's new password after checking
// the current one, and ends the agent's other sessions (whoever else was
// signed in with the old password is out).
func (s *Inbox) ChangePassword(ctx context.Context, a *AgentAuth, current, next string) error {
	ag, err := s.store.Agent(ctx, a.Agent.ID)
	if err != nil {
		return err
	}
	if err := s.checkOwnPassword(ctx, ag, current); err != nil {
		return err
	}
	if err := validPassword(next); err != nil {
		return err
	}
	if next == current {
		return parley.Errorf(parley.EINVALID, "the new password must differ from the current one")
	}
	ag.PasswordHash = hashPassword(next)
	if err := s.store.UpdateAgent(ctx, ag); err != nil {
		return err
	}
	now := s.clock.Now()
	ss, err := s.store.AgentSessions(ctx, ag.ID, now)
	if err != nil {
		return err
	}
	ended := 0
	for _, x := range ss {
		if x.ID == a.Session.ID {
			continue
		}
		if err := s.store.RevokeAgentSession(ctx, ag.ID, x.ID, now); err != nil && !parley.Match(err, parley.ENOTFOUND) {
			return err
		}
		ended++
	}
	s.audit(ctx, ag.Business, ag.ID, "agent.password", ag.ID, fmt.Sprintf("%d other sessions ended", ended))
	return nil
}

// Audit lists the business's audit log (owners and admins).
func (s *Inbox) Audit(ctx context.Context, a *AgentAuth, before int64, limit int) ([]parley.AuditEntry, error) {
	if err := a.require(parley.AgentAdmin); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.Audit(ctx, a.Agent.Business, before, limit)
}
