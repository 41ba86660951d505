package sdk

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Media kinds; each has its own size limit (docs/protocol.md, "Media").
const (
	MediaImage    = "image"
	MediaVideo    = "video"
	MediaAudio    = "audio"
	MediaDocument = "document"
	MediaSticker  = "sticker"
)

// UploadedMedia is the server's record of an uploaded blob.
type UploadedMedia struct {
	ID     string // name it in Outgoing.Media; it is the capability to download the blob
	Size   int64
	SHA256 []byte // of the bytes the server stored: compare it with the digest of what was uploaded
	// ExpiresAt is when the server deletes the blob unless a message
	// names it first.
	ExpiresAt time.Time
}

// UploadMedia uploads one blob of the given kind, read from r; size is its
// length, or -1 when unknown (the request is then sent chunked).
//
// The SDK does not encrypt here: r must already be the sealed attachment
// (crypto.SealAttachment), whose key and digest go inside the end-to-end
// encrypted message that names the returned ID. The body is streamed
// where the platform allows it; in browsers (WebAssembly) the Fetch API
// takes the whole body in memory.
func (c *Client) UploadMedia(ctx context.Context, kind string, r io.Reader, size int64) (*UploadedMedia, error) {
	const path = "/v1/media"
	req, err := http.NewRequestWithContext(ctx, "POST", trimServer(c.Server)+path+"?kind="+url.QueryEscape(kind), r)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	if size < 0 {
		req.ContentLength = -1
	} else if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		return nil, decodeError(resp, b)
	}
	var out struct {
		ID        string `json:"id"`
		Size      int64  `json:"size"`
		SHA256    string `json:"sha256"`
		ExpiresAt int64  `json:"expires_at"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("POST %s: bad answer: %w", path, err)
	}
	sum, err := hex.DecodeString(out.SHA256)
	if err != nil {
		return nil, fmt.Errorf("POST %s: bad sha256 in answer: %w", path, err)
	}
	return &UploadedMedia{ID: out.ID, Size: out.Size, SHA256: sum, ExpiresAt: time.Unix(out.ExpiresAt, 0)}, nil
}

// DownloadMedia streams the blob id. The caller reads it to the end and
// closes it; check it against the digest from the message before
// trusting it (crypto.OpenAttachment does).
func (c *Client) DownloadMedia(ctx context.Context, id string) (io.ReadCloser, error) {
	return c.DownloadMediaFrom(ctx, id, 0)
}

// DownloadMediaFrom streams the blob id from byte offset on, to resume a
// download that was cut short.
func (c *Client) DownloadMediaFrom(ctx context.Context, id string, offset int64) (io.ReadCloser, error) {
	path := "/v1/media/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, "GET", trimServer(c.Server)+path, nil)
	if err != nil {
		return nil, err
	}
	want := http.StatusOK
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		want = http.StatusPartialContent
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		return nil, decodeError(resp, b)
	}
	return resp.Body, nil
}

// DeleteMedia deletes a blob this account uploaded: nobody can download it
// any more.
func (c *Client) DeleteMedia(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/media/"+url.PathEscape(id), nil, nil)
}

// send does req with the client's credentials.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := roundTrip(c.HTTPClient, req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}
