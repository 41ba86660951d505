package webhook

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-chat/parley"
)

// VerifyCallback performs Meta's verification handshake against a
// callback URL before it is accepted: GET
// <url>?hub.mode=subscribe&hub.challenge=<random digits>&hub.verify_token=<token>
// must answer 200 with exactly the challenge as its body. client should
// be NewClient's, so that the same address rules apply as to deliveries.
// It returns EINVALID, with a message fit for the business, when the
// receiver does not pass.
func VerifyCallback(ctx context.Context, client *http.Client, callback, verifyToken string) error {
	if err := ValidateURL(callback); err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		return err
	}
	challenge := fmt.Sprint(1_000_000_000 + n.Int64())
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", challenge)
	q.Set("hub.verify_token", verifyToken)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "callback URL is not usable")
	}
	resp, err := client.Do(req)
	if err != nil {
		if IsPrivateAddressError(err) {
			return &parley.Error{Code: parley.EINVALID, Message: "callback URL does not lead to a public address", Err: err}
		}
		return &parley.Error{Code: parley.EINVALID, Message: "callback URL could not be reached", Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != challenge {
		return parley.Errorf(parley.EINVALID, "callback URL did not return the challenge (HTTP %d); check the verify token", resp.StatusCode)
	}
	return nil
}
