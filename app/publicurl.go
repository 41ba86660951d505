package app

import (
	"fmt"
	"net/url"
)

// checkPublicURL accepts "" or an absolute http(s) URL of a host with no
// query or fragment: links are made by appending paths to it.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("public URL %q: want http(s)://host[:port][/path] without query, fragment or user", s)
	}
	return nil
}
