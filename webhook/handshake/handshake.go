// Package handshake performs the Cloud API's webhook verification
// handshake: before a callback URL is stored, Parley GETs it with
// hub.mode=subscribe, hub.verify_token and a random hub.challenge, and
// accepts the URL only when the answer is 200 with the challenge as the
// body. Connections to loopback, private, link-local and other
// non-public addresses are refused at dial time (after DNS resolution,
// so a name cannot smuggle one in) unless the operator allows them.
package handshake

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/webhook"
)

// Verifier runs handshakes. The zero value refuses private addresses.
type Verifier struct {
	AllowPrivate bool          // allow loopback and private addresses (development)
	Timeout      time.Duration // for the whole exchange (10s)
}

// errPrivate marks a refused address.
var errPrivate = errors.New("address is not public")

// Private reports whether ip is not a public unicast address: the
// webhook client's rule (webhook.PublicAddr), so that the handshake and
// the deliveries refuse the same addresses.
func Private(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return !ok || !webhook.PublicAddr(a)
}

func (v *Verifier) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !v.AllowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || Private(ip) {
				return errPrivate
			}
			return nil
		}
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil, TLSHandshakeTimeout: 5 * time.Second,
			ResponseHeaderTimeout: 5 * time.Second, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func failed(format string, args ...any) error {
	e := parley.Errorf(parley.EINVALID, format, args...)
	e.Reason = parley.ReasonCallbackVerify
	return e
}

// VerifyCallback runs the handshake against rawURL with verifyToken.
func (v *Verifier) VerifyCallback(ctx context.Context, rawURL, verifyToken string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return parley.Errorf(parley.EINVALID, "callback_url must be an http(s) URL")
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	challenge := n.String()
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.verify_token", verifyToken)
	q.Set("hub.challenge", challenge)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "callback_url must be an http(s) URL")
	}
	req.Header.Set("User-Agent", "parley-webhook-verify")
	resp, err := v.client().Do(req)
	if errors.Is(err, errPrivate) {
		return parley.Errorf(parley.EINVALID, "callback_url points to a private or loopback address, which this server does not call (the operator may allow it with --webhook-allow-private)")
	}
	if err != nil {
		return failed("Callback verification failed with the following errors: curl_errno = 7; curl_error = couldn't connect to the callback URL")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return failed("Callback verification failed with the following errors: HTTP Status Code = %d; HTTP Message = %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if strings.TrimSpace(string(body)) != challenge {
		return failed("The URL couldn't be validated. Response does not match challenge, expected value=\"%s\", received=\"%s\"", challenge, truncate(string(body), 64))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
