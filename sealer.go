package parley

// Sealer encrypts secrets the server must keep in clear form for its own
// use (app secrets, to sign webhooks; hosted devices' Signal state) before
// they reach the store, with a key the store never sees. It never hands
// out its key.
//
// SECURITY REVIEW: everything sealed is only as safe as the key's file
// (or wherever the operator keeps it); see atrest.
type Sealer interface {
	// Seal encrypts and authenticates plaintext, bound to aad (say, the
	// id of the row it is stored in).
	Seal(plaintext, aad []byte) ([]byte, error)
	// Open reverses Seal; it fails when sealed or aad were altered or
	// the key differs.
	Open(sealed, aad []byte) ([]byte, error)
}
