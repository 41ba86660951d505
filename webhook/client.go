package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is returned (wrapped) when a callback URL leads to an
// address that is not public and private targets are not allowed.
var ErrPrivateAddress = errors.New("webhook: address is not public")

// ClientOptions configure NewClient.
type ClientOptions struct {
	// AllowPrivate lets webhooks reach loopback, private and other
	// non-public addresses (development: receivers on localhost).
	AllowPrivate bool
	// Timeout bounds one request, from dialing to the end of the
	// response (10s).
	Timeout time.Duration
	// MaxConnsPerHost bounds connections to one receiver (64); as many
	// are kept idle for reuse.
	MaxConnsPerHost int
}

// NewClient returns the HTTP client webhooks are sent with. Unless
// AllowPrivate is set, its dialer refuses every address PublicAddr
// rejects. The check runs in the dialer's Control hook, on the address
// actually being connected to after DNS resolution, so a name that
// resolves to a public address when a URL is checked and to a private one
// when it is used (DNS rebinding) is refused too. It uses no proxy from
// the environment (the guard would then check the proxy's address, not
// the receiver's) and follows no redirects (a 3xx is a failed delivery).
//
// Security review: this is the SSRF guard for operator-supplied and
// business-supplied callback URLs.
func NewClient(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 64
	}
	d := &net.Dialer{Timeout: min(o.Timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		d.Control = guardDial
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * o.MaxConnsPerHost,
		MaxIdleConnsPerHost:   o.MaxConnsPerHost,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// guardDial is the dialer's Control hook: address is the resolved
// ip:port about to be connected.
func guardDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrPrivateAddress, address)
	}
	if !PublicAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s (allow private targets only in development)", ErrPrivateAddress, ap.Addr())
	}
	return nil
}

// nonPublic lists special-purpose ranges (RFC 6890 and successors) that
// the netip predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: could reach private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ...)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds any IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// PublicAddr reports whether a webhook may connect to ip when private
// targets are not allowed: not loopback, private (RFC 1918, fc00::/7),
// link-local, multicast, unspecified, or any other special-purpose range.
// IPv4-mapped IPv6 addresses are judged as their IPv4 address.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
