package app_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/crypto"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type uploaded struct {
	ID        string `json:"id"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	ExpiresAt int64  `json:"expires_at"`
}

// upload posts data as a blob of kind; chunked hides its length so that
// the request goes out without Content-Length.
func upload(t *testing.T, n *node, token, kind string, data []byte, chunked bool) (int, uploaded, apiError) {
	t.Helper()
	var body io.Reader = bytes.NewReader(data)
	if chunked {
		body = io.MultiReader(body) // no Len: sent chunked
	}
	req, _ := http.NewRequest("POST", n.base+"/v1/media?kind="+kind, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var up uploaded
	var e apiError
	if resp.StatusCode == http.StatusCreated {
		json.Unmarshal(b, &up)
	} else {
		json.Unmarshal(b, &e)
	}
	return resp.StatusCode, up, e
}

func mustUpload(t *testing.T, n *node, token, kind string, data []byte) uploaded {
	t.Helper()
	st, up, e := upload(t, n, token, kind, data, false)
	if st != http.StatusCreated {
		t.Fatalf("upload: status %d %+v", st, e)
	}
	return up
}

// download GETs a blob with the given extra headers.
func download(t *testing.T, n *node, method, token, id string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, n.base+"/v1/media/"+id, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("download body: %v", err)
	}
	return resp, b
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i/997)
	}
	return b
}

func TestMediaUploadLimits(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000101")

	// A Content-Length over the kind's limit is refused before any of
	// the body is sent: the request goes out with headers only.
	for _, kind := range []parley.MediaKind{parley.MediaDocument, parley.MediaImage, parley.MediaVideo, parley.MediaAudio, parley.MediaSticker} {
		t.Run("Declared-"+string(kind), func(t *testing.T) {
			for _, size := range []int64{kind.MaxSize() + 1, 1 << 40} {
				st, code := headersOnly(t, n, alice.Token, string(kind), size)
				if st != http.StatusRequestEntityTooLarge || code != "too_large" {
					t.Errorf("Content-Length %d: status %d %q, want 413 too_large", size, st, code)
				}
			}
		})
	}
	limit := parley.MediaSticker.MaxSize()
	t.Run("AtLimit", func(t *testing.T) {
		data := pattern(int(limit))
		st, up, e := upload(t, n, alice.Token, "sticker", data, false)
		sum := sha256.Sum256(data)
		if st != http.StatusCreated || up.Size != limit || up.SHA256 != hex.EncodeToString(sum[:]) || !parley.ValidMediaID(up.ID) {
			t.Fatalf("upload at the limit: status %d %+v %+v", st, up, e)
		}
		if d := time.Until(time.Unix(up.ExpiresAt, 0)); d < 23*time.Hour || d > 25*time.Hour {
			t.Errorf("expires_at is %v from now, want about 24h", d)
		}
	})
	t.Run("ChunkedOver", func(t *testing.T) {
		st, _, e := upload(t, n, alice.Token, "sticker", pattern(int(limit)+1), true)
		if st != http.StatusRequestEntityTooLarge || e.Error.Code != "too_large" {
			t.Fatalf("chunked upload over the limit: status %d %+v", st, e)
		}
	})
	t.Run("ChunkedWithin", func(t *testing.T) {
		if st, up, e := upload(t, n, alice.Token, "image", pattern(3*parley.MediaChunkSize/2), true); st != http.StatusCreated || up.Size != 3*parley.MediaChunkSize/2 {
			t.Fatalf("chunked upload: status %d %+v %+v", st, up, e)
		}
	})
	for _, tc := range []struct{ name, kind, code string }{
		{"NoKind", "", "invalid"},
		{"BadKind", "gif", "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, _, e := upload(t, n, alice.Token, tc.kind, []byte("x"), false); st != http.StatusBadRequest || e.Error.Code != tc.code {
				t.Fatalf("status %d %+v, want 400 %s", st, e, tc.code)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		if st, _, e := upload(t, n, alice.Token, "image", nil, false); st != http.StatusBadRequest || e.Error.Code != "invalid" {
			t.Fatalf("empty upload: status %d %+v", st, e)
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		if st, _, e := upload(t, n, "", "image", []byte("x"), false); st != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Fatalf("upload without token: status %d %+v", st, e)
		}
	})
}

// headersOnly sends an upload's headers with the given Content-Length
// and no body, and returns the answer's status and error code.
func headersOnly(t *testing.T, n *node, token, kind string, length int64) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(n.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST /v1/media?kind=%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", kind, token, length)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer before the body: %v", err)
	}
	defer resp.Body.Close()
	var e apiError
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Error.Code
}

func TestMediaDownload(t *testing.T) {
	n := startNode(t, app.Config{})
	alice := register(t, n, "+4915100000111")
	bob := register(t, n, "+4915100000112")
	data := pattern(5*parley.MediaChunkSize/2 + 3)
	up := mustUpload(t, n, alice.Token, "document", data)
	size := len(data)
	etag := `"` + up.SHA256 + `"`

	t.Run("Whole", func(t *testing.T) {
		resp, b := download(t, n, "GET", bob.Token, up.ID) // any device may download
		sum := sha256.Sum256(b)
		if resp.StatusCode != 200 || !bytes.Equal(b, data) || hex.EncodeToString(sum[:]) != up.SHA256 {
			t.Fatalf("status %d, %d bytes, want 200 and the %d uploaded", resp.StatusCode, len(b), size)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(size) {
			t.Errorf("Content-Length = %q, want %d", got, size)
		}
		if got := resp.Header.Get("ETag"); got != etag {
			t.Errorf("ETag = %q, want %q", got, etag)
		}
		if got := resp.Header.Get("Accept-Ranges"); got != "bytes" {
			t.Errorf("Accept-Ranges = %q, want bytes", got)
		}
	})
	ranges := []struct {
		name, header string
		from, to     int // inclusive
	}{
		{"AcrossChunks", fmt.Sprintf("bytes=%d-%d", parley.MediaChunkSize-10, parley.MediaChunkSize+9), parley.MediaChunkSize - 10, parley.MediaChunkSize + 9},
		{"Resume", fmt.Sprintf("bytes=%d-", 2*parley.MediaChunkSize+1), 2*parley.MediaChunkSize + 1, size - 1},
		{"Suffix", "bytes=-7", size - 7, size - 1},
		{"First", "bytes=0-0", 0, 0},
		{"PastEnd", fmt.Sprintf("bytes=%d-%d", size-2, size+100), size - 2, size - 1},
	}
	for _, rg := range ranges {
		t.Run("Range-"+rg.name, func(t *testing.T) {
			resp, b := download(t, n, "GET", alice.Token, up.ID, "Range", rg.header)
			want := data[rg.from : rg.to+1]
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, want) {
				t.Fatalf("status %d, %d bytes; want 206 and bytes %d-%d", resp.StatusCode, len(b), rg.from, rg.to)
			}
			if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", rg.from, rg.to, size); got != want {
				t.Errorf("Content-Range = %q, want %q", got, want)
			}
		})
	}
	t.Run("Unsatisfiable", func(t *testing.T) {
		resp, _ := download(t, n, "GET", alice.Token, up.ID, "Range", fmt.Sprintf("bytes=%d-", size))
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
			t.Fatalf("status %d, Content-Range %q; want 416 bytes */%d", resp.StatusCode, resp.Header.Get("Content-Range"), size)
		}
	})
	t.Run("SeveralRanges", func(t *testing.T) {
		resp, b := download(t, n, "GET", alice.Token, up.ID, "Range", "bytes=0-1,5-6")
		if resp.StatusCode != 200 || len(b) != size {
			t.Fatalf("status %d, %d bytes; want the whole blob", resp.StatusCode, len(b))
		}
	})
	t.Run("IfRangeChanged", func(t *testing.T) {
		resp, b := download(t, n, "GET", alice.Token, up.ID, "Range", "bytes=0-1", "If-Range", `"other"`)
		if resp.StatusCode != 200 || len(b) != size {
			t.Fatalf("status %d, %d bytes; want the whole blob", resp.StatusCode, len(b))
		}
	})
	t.Run("IfNoneMatch", func(t *testing.T) {
		if resp, _ := download(t, n, "GET", alice.Token, up.ID, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("status %d, want 304", resp.StatusCode)
		}
	})
	t.Run("Head", func(t *testing.T) {
		resp, b := download(t, n, "HEAD", alice.Token, up.ID)
		if resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != int64(size) {
			t.Fatalf("HEAD: status %d, %d body bytes, length %d", resp.StatusCode, len(b), resp.ContentLength)
		}
	})
	for _, tc := range []struct {
		name, token, id string
		status          int
		code            string
	}{
		{"NoToken", "", up.ID, 401, "unauthorized"},
		{"BadToken", "4915100000111.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", up.ID, 401, "unauthorized"},
		{"Unknown", alice.Token, strings.Repeat("A", parley.MediaIDSize), 404, "not_found"},
		{"Malformed", alice.Token, "x", 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := download(t, n, "GET", tc.token, tc.id)
			var e apiError
			json.Unmarshal(b, &e)
			if resp.StatusCode != tc.status || e.Error.Code != tc.code {
				t.Fatalf("status %d %+v, want %d %s", resp.StatusCode, e, tc.status, tc.code)
			}
		})
	}
	t.Run("Delete", func(t *testing.T) {
		var e apiError
		if st := call(t, "DELETE", n.base+"/v1/media/"+up.ID, bob.Token, nil, &e); st != 403 || e.Error.Code != "forbidden" {
			t.Fatalf("delete by another account: %d %+v, want 403 forbidden", st, e)
		}
		if resp, _ := download(t, n, "GET", bob.Token, up.ID); resp.StatusCode != 200 {
			t.Fatalf("after refused delete: status %d", resp.StatusCode)
		}
		if st := call(t, "DELETE", n.base+"/v1/media/"+up.ID, alice.Token, nil, nil); st != 204 {
			t.Fatalf("delete by the uploader: %d, want 204", st)
		}
		if resp, _ := download(t, n, "GET", alice.Token, up.ID); resp.StatusCode != 404 {
			t.Fatalf("after delete: status %d, want 404", resp.StatusCode)
		}
		if st := call(t, "DELETE", n.base+"/v1/media/"+up.ID, alice.Token, nil, nil); st != 404 {
			t.Fatalf("second delete: %d, want 404", st)
		}
	})
}

// attachment is what a client puts in the encrypted message that sends a
// file: the blob's id, key and digest (plain JSON here: the test clients
// do not encrypt message bodies).
type attachment struct {
	Media  string `json:"media"`
	Key    []byte `json:"key"`
	Digest []byte `json:"digest"`
}

// The whole lifetime of a blob: sealed and uploaded by Alice, named in a
// message, downloaded and opened by Bob, kept through the grace period
// after Bob's ack, then swept; an upload nobody names is swept after a
// day.
func TestMediaLifetime(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	n := startNode(t, app.Config{Clock: clock, MediaGrace: time.Hour})
	alice := register(t, n, "+4915100000121")
	bob := register(t, n, "+4915100000122")

	plain := pattern(parley.MediaChunkSize + 500)
	blob, key, digest, err := crypto.SealAttachment(plain)
	if err != nil {
		t.Fatal(err)
	}
	up := mustUpload(t, n, alice.Token, "image", blob)
	if up.SHA256 != hex.EncodeToString(digest) {
		t.Fatalf("server digest %s, client digest %x", up.SHA256, digest)
	}
	unnamed := mustUpload(t, n, alice.Token, "sticker", []byte("never sent"))

	a := connect(t, n, alice)
	body, _ := json.Marshal(attachment{Media: up.ID, Key: key, Digest: digest})
	// Only the uploader may name a blob, and only a known one.
	b := connect(t, n, bob)
	b.send(map[string]any{"type": "send", "id": "steal", "to": alice.Account, "copies": text(alice, "x"), "media": []string{up.ID}})
	if f := b.nextAny(); f.Type != "error" || f.ID != "steal" || f.Code != "forbidden" {
		t.Fatalf("naming another account's blob: %+v, want a forbidden error", f)
	}
	a.send(map[string]any{"type": "send", "id": "ghost", "to": bob.Account, "copies": text(bob, "x"), "media": []string{strings.Repeat("Z", parley.MediaIDSize)}})
	if f := a.nextAny(); f.Type != "error" || f.ID != "ghost" || f.Code != "not_found" {
		t.Fatalf("naming an unknown blob: %+v, want a not_found error", f)
	}
	tooMany := make([]string, parley.MaxMediaPerMessage+1)
	for i := range tooMany {
		tooMany[i] = up.ID[:parley.MediaIDSize-1] + string(rune('a'+i))
	}
	a.send(map[string]any{"type": "send", "id": "many", "to": bob.Account, "copies": text(bob, "x"), "media": tooMany})
	if f := a.nextAny(); f.Type != "error" || f.ID != "many" || f.Code != "too_large" {
		t.Fatalf("naming 11 blobs: %+v, want a too_large error", f)
	}

	a.send(map[string]any{"type": "send", "id": "photo", "to": bob.Account, "copies": text(bob, string(body)), "media": []string{up.ID}})
	sent := a.next("sent")

	it := b.next("item")
	if it.MessageID != sent.MessageID {
		t.Fatalf("bob got %+v", it)
	}
	var att attachment
	if err := json.Unmarshal(it.Body, &att); err != nil {
		t.Fatal(err)
	}
	resp, got := download(t, n, "GET", bob.Token, att.Media)
	if resp.StatusCode != 200 {
		t.Fatalf("bob's download: status %d", resp.StatusCode)
	}
	opened, err := crypto.OpenAttachment(got, att.Key, att.Digest)
	if err != nil || !bytes.Equal(opened, plain) {
		t.Fatalf("bob opened %d bytes, %v; want the %d Alice sealed", len(opened), err, len(plain))
	}

	// Before the ack the blob stays whatever the time.
	clock.Add(2 * time.Hour)
	sweep(t, n)
	if resp, _ := download(t, n, "GET", bob.Token, up.ID); resp.StatusCode != 200 {
		t.Fatalf("before bob's ack: status %d", resp.StatusCode)
	}
	b.send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})
	if r := a.next("item"); r.Kind != "delivered" {
		t.Fatalf("alice got %+v, want the delivered receipt", r)
	}
	sweep(t, n) // released now
	clock.Add(59 * time.Minute)
	sweep(t, n)
	if resp, _ := download(t, n, "GET", bob.Token, up.ID); resp.StatusCode != 200 {
		t.Fatalf("within the grace period: status %d, want 200 (bob may download again)", resp.StatusCode)
	}
	clock.Add(2 * time.Minute)
	sweep(t, n)
	var e apiError
	resp, eb := download(t, n, "GET", bob.Token, up.ID)
	json.Unmarshal(eb, &e)
	if resp.StatusCode != 404 || e.Error.Code != "not_found" {
		t.Fatalf("after the grace period: status %d %+v, want 404 not_found", resp.StatusCode, e)
	}

	// The upload nobody named: gone a day after it was made.
	if resp, _ := download(t, n, "GET", alice.Token, unnamed.ID); resp.StatusCode != 200 {
		t.Fatalf("unnamed upload after 3h: status %d", resp.StatusCode)
	}
	clock.Add(21 * time.Hour)
	sweep(t, n)
	if resp, _ := download(t, n, "GET", alice.Token, unnamed.ID); resp.StatusCode != 404 {
		t.Fatalf("unnamed upload after 24h: status %d, want 404", resp.StatusCode)
	}
}

func sweep(t *testing.T, n *node) {
	t.Helper()
	if err := n.m.Sweep(context.Background()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
}

// A disappearing message is delivered with its expires_in while it is
// young, never handed out once expired, and purged.
func TestExpiringMessages(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	n := startNode(t, app.Config{Clock: clock})
	alice := register(t, n, "+4915100000131")
	bob := register(t, n, "+4915100000132")

	a := connect(t, n, alice)
	for _, bad := range []any{59, 90*24*3600 + 1, -1, 1.5} {
		a.send(map[string]any{"type": "send", "id": "bad", "to": bob.Account, "copies": text(bob, "x"), "expires_in": bad})
		if f := a.nextAny(); f.Type != "error" || f.Code != "invalid" {
			t.Fatalf("expires_in %v: %+v, want an invalid error", bad, f)
		}
	}
	// Bob is offline: one message that expires, one that does not.
	a.send(map[string]any{"type": "send", "id": "gone", "to": bob.Account, "copies": text(bob, "self-destructs"), "expires_in": 60})
	a.next("sent")
	a.send(map[string]any{"type": "send", "id": "kept", "to": bob.Account, "copies": text(bob, "stays")})
	a.next("sent")
	clock.Add(61 * time.Second)

	b := connect(t, n, bob)
	it := b.next("item")
	if string(it.Body) != "stays" || it.ExpiresIn != 0 {
		t.Fatalf("bob's first item = %+v, want only the message that does not expire", it)
	}
	b.send(map[string]any{"type": "ack", "seqs": []uint64{it.Seq}})

	// A live one carries expires_in.
	a.send(map[string]any{"type": "send", "id": "live", "to": bob.Account, "copies": text(bob, "read me soon"), "expires_in": 3600})
	a.next("sent")
	live := b.next("item")
	if string(live.Body) != "read me soon" || live.ExpiresIn != 3600 {
		t.Fatalf("live item = %+v, want expires_in 3600", live)
	}
	b.send(map[string]any{"type": "ack", "seqs": []uint64{live.Seq}})

	// The expired copy is still stored until the purge, then gone.
	stored := func() []parley.Item {
		// The zero time leaves nothing out: what the store still holds.
		items, err := n.m.Store().Fetch(context.Background(), bob.Account, bob.Device, 0, 10, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	// Acks are not answered, but a read receipt sent after one commits
	// after it: once it is answered, the ack has committed.
	b.send(map[string]any{"type": "read", "id": "r", "to": alice.Account, "message_ids": []string{live.MessageID}})
	b.next("ok")
	if items := stored(); len(items) != 1 || string(items[0].Body) != "self-destructs" {
		t.Fatalf("before the purge the store holds %+v", items)
	}
	sweep(t, n)
	if items := stored(); len(items) != 0 {
		t.Fatalf("after the purge the store holds %+v", items)
	}
}

// Two nodes sharing PostgreSQL serve each other's blobs.
func TestMediaAcrossNodes(t *testing.T) {
	natsURL := natstest.URL(t)
	dsn := pgtest.DSN(t)
	na := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "node-a"})
	nb := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "node-b"})
	alice := register(t, na, "+4915100000141")
	bob := register(t, nb, "+4915100000142")
	data := pattern(2*parley.MediaChunkSize + 1)
	up := mustUpload(t, na, alice.Token, "video", data)
	resp, got := download(t, nb, "GET", bob.Token, up.ID, "Range", "bytes=1-")
	if resp.StatusCode != 206 || !bytes.Equal(got, data[1:]) {
		t.Fatalf("download on node b: status %d, %d bytes", resp.StatusCode, len(got))
	}
	if st := call(t, "DELETE", nb.base+"/v1/media/"+up.ID, alice.Token, nil, nil); st != 204 {
		t.Fatalf("delete on node b: %d", st)
	}
	if resp, _ := download(t, na, "GET", alice.Token, up.ID); resp.StatusCode != 404 {
		t.Fatalf("node a after delete on node b: status %d", resp.StatusCode)
	}
}
