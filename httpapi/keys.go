package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// The key directory (docs/protocol.md, "Key directory"). Keys travel as
// standard base64 with padding, like message bodies. Requests carry them
// as strings, decoded here, so that a bad one is named in the error.

type signedPrekeyJSON struct {
	ID        uint32 `json:"id"`
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
}

type prekeyJSON struct {
	ID        uint32 `json:"id"`
	PublicKey string `json:"public_key"`
}

type putKeysRequest struct {
	IdentityKey    string            `json:"identity_key"`
	RegistrationID uint32            `json:"registration_id"`
	SignedPrekey   *signedPrekeyJSON `json:"signed_prekey"`
	OneTimePrekeys []prekeyJSON      `json:"one_time_prekeys"`
}

type addPrekeysRequest struct {
	OneTimePrekeys []prekeyJSON `json:"one_time_prekeys"`
}

type keyCountJSON struct {
	OneTimePrekeys  int   `json:"one_time_prekeys"`
	SignedPrekeyAge int64 `json:"signed_prekey_age"` // seconds
	Rotate          bool  `json:"rotate"`
}

func keyCountOf(c *service.KeyCount) keyCountJSON {
	return keyCountJSON{OneTimePrekeys: c.OneTimePrekeys, SignedPrekeyAge: int64(c.SignedPrekeyAge.Seconds()), Rotate: c.Rotate}
}

// Responses carry []byte, which encoding/json writes as standard base64.
type bundleJSON struct {
	Device         uint32          `json:"device"`
	IdentityKey    []byte          `json:"identity_key"`
	RegistrationID uint32          `json:"registration_id"`
	SignedPrekey   signedPrekeyOut `json:"signed_prekey"`
	OneTimePrekey  *prekeyOut      `json:"one_time_prekey"` // null when the device's pool is empty
}

type signedPrekeyOut struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"`
	Signature []byte `json:"signature"`
}

type prekeyOut struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"`
}

func bundleOf(b *parley.Bundle) bundleJSON {
	out := bundleJSON{Device: b.Device, IdentityKey: b.IdentityKey, RegistrationID: b.RegistrationID,
		SignedPrekey: signedPrekeyOut{ID: b.SignedPrekey.ID, PublicKey: b.SignedPrekey.PublicKey, Signature: b.SignedPrekey.Signature}}
	if p := b.OneTimePrekey; p != nil {
		out.OneTimePrekey = &prekeyOut{ID: p.ID, PublicKey: p.PublicKey}
	}
	return out
}

func decodeKey(field, s string) ([]byte, error) {
	if s == "" {
		return nil, parley.Errorf(parley.EINVALID, "%s is required", field)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "%s is not valid base64 (standard alphabet, padded)", field)
	}
	return b, nil
}

func (j *signedPrekeyJSON) decode(field string) (parley.SignedPrekey, error) {
	if j == nil {
		return parley.SignedPrekey{}, parley.Errorf(parley.EINVALID, "%s is required", field)
	}
	pub, err := decodeKey(field+".public_key", j.PublicKey)
	if err != nil {
		return parley.SignedPrekey{}, err
	}
	sig, err := decodeKey(field+".signature", j.Signature)
	if err != nil {
		return parley.SignedPrekey{}, err
	}
	return parley.SignedPrekey{ID: j.ID, PublicKey: pub, Signature: sig}, nil
}

func decodePrekeys(js []prekeyJSON) ([]parley.OneTimePrekey, error) {
	// Checked before decoding so that an oversized list costs nothing.
	if len(js) > parley.MaxOneTimePrekeys {
		return nil, parley.Errorf(parley.ETOOLARGE, "at most %d one-time prekeys per upload, got %d", parley.MaxOneTimePrekeys, len(js))
	}
	out := make([]parley.OneTimePrekey, len(js))
	for i, j := range js {
		pub, err := decodeKey(fmt.Sprintf("one_time_prekeys[%d].public_key", i), j.PublicKey)
		if err != nil {
			return nil, err
		}
		out[i] = parley.OneTimePrekey{ID: j.ID, PublicKey: pub}
	}
	return out, nil
}

// putKeys publishes the calling device's keys: PUT /v1/keys.
func (s *Server) putKeys(w http.ResponseWriter, r *http.Request) error {
	var req putKeysRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	identity, err := decodeKey("identity_key", req.IdentityKey)
	if err != nil {
		return err
	}
	spk, err := req.SignedPrekey.decode("signed_prekey")
	if err != nil {
		return err
	}
	otps, err := decodePrekeys(req.OneTimePrekeys)
	if err != nil {
		return err
	}
	c, err := s.Keys.Upload(r.Context(), device(r), identity, req.RegistrationID, spk, otps)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyCountOf(c))
	return nil
}

// addPrekeys replenishes the calling device's one-time prekeys: POST
// /v1/keys/prekeys.
func (s *Server) addPrekeys(w http.ResponseWriter, r *http.Request) error {
	var req addPrekeysRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	otps, err := decodePrekeys(req.OneTimePrekeys)
	if err != nil {
		return err
	}
	c, err := s.Keys.AddPrekeys(r.Context(), device(r), otps)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyCountOf(c))
	return nil
}

// rotateSignedPrekey replaces the calling device's signed prekey: PUT
// /v1/keys/signed_prekey.
func (s *Server) rotateSignedPrekey(w http.ResponseWriter, r *http.Request) error {
	var req signedPrekeyJSON
	if err := decode(w, r, &req); err != nil {
		return err
	}
	spk, err := req.decode("signed_prekey")
	if err != nil {
		return err
	}
	c, err := s.Keys.RotateSignedPrekey(r.Context(), device(r), spk)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyCountOf(c))
	return nil
}

// keyCount reports the calling device's key status: GET /v1/keys/count.
func (s *Server) keyCount(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Keys.Status(r.Context(), device(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyCountOf(c))
	return nil
}

// claimKeys hands out bundles: GET /v1/keys/{account} for every device
// of the account, GET /v1/keys/{account}/{device} for one.
func (s *Server) claimKeys(w http.ResponseWriter, r *http.Request) error {
	var dev uint32
	if d := r.PathValue("device"); d != "" {
		id, err := strconv.ParseUint(d, 10, 32)
		if err != nil || id == 0 {
			return parley.Errorf(parley.EINVALID, "device id must be a positive number")
		}
		dev = uint32(id)
	}
	c, err := s.Keys.Claim(r.Context(), device(r), r.PathValue("account"), dev)
	if err != nil {
		return err
	}
	out := struct {
		Account string       `json:"account"`
		Bundles []bundleJSON `json:"bundles"`
		Missing []uint32     `json:"missing"` // active devices that have published no keys
	}{Account: c.Account, Bundles: make([]bundleJSON, len(c.Bundles)), Missing: c.Missing}
	for i := range c.Bundles {
		out.Bundles[i] = bundleOf(&c.Bundles[i])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
