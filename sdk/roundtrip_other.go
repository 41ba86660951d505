//go:build !js

package sdk

import "net/http"

// roundTrip does req with hc (nil: http.DefaultClient).
func roundTrip(hc *http.Client, req *http.Request) (*http.Response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	return hc.Do(req)
}
