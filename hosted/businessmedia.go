package hosted

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/crypto"
	"github.com/parley-chat/parley/sdk"
)

// CodeMediaUpload is Meta's "Media upload error": a media id that is
// unknown (or another business's), a link that cannot be fetched or
// holds no supported file, or a file the customer's attachment cannot
// carry.
const CodeMediaUpload = 131053

// BusinessMedia is where hosted business devices find the media a
// business sends by id and keep the files customers send
// (service.Business implements it).
type BusinessMedia interface {
	// NumberMedia returns a media object of n's business and its bytes;
	// ENOTFOUND when there is none.
	NumberMedia(ctx context.Context, n *parley.BusinessNumber, id string) (*parley.BusinessMedia, []byte, error)
	// ReceiveMedia stores a file a customer sent to n.
	ReceiveMedia(ctx context.Context, n *parley.BusinessNumber, kind parley.MediaKind, mimeType, filename string, data []byte) (*parley.BusinessMedia, error)
}

// mediaFailure is a media problem that fails the message (131053)
// instead of being retried.
type mediaFailure struct{ msg string }

func (e *mediaFailure) Error() string { return "media: " + e.msg }

// mediaRef is the media a Cloud API message carries: the type's object,
// or a template's media header.
type mediaRef struct {
	kind string // sdk.MediaImage, …
	m    *parley.CloudMedia
}

func messageMedia(body []byte) *mediaRef {
	var cm parley.CloudMessage
	if json.Unmarshal(body, &cm) != nil {
		return nil
	}
	for _, r := range []mediaRef{{sdk.MediaImage, cm.Image}, {sdk.MediaVideo, cm.Video}, {sdk.MediaAudio, cm.Audio},
		{sdk.MediaDocument, cm.Document}, {sdk.MediaSticker, cm.Sticker}} {
		if r.m != nil {
			return &r
		}
	}
	if cm.Template != nil {
		for _, c := range cm.Template.Components {
			if !strings.EqualFold(c.Type, "header") {
				continue
			}
			for _, p := range c.Parameters {
				for _, r := range []mediaRef{{sdk.MediaImage, p.Image}, {sdk.MediaVideo, p.Video}, {sdk.MediaDocument, p.Document}} {
					if r.m != nil {
						return &r
					}
				}
			}
		}
	}
	return nil
}

// attach resolves the media of an outbound message (by id from the
// business's media, by link with the SSRF-guarded client), encrypts it
// for the customer and uploads it. nil when the message has no media.
func (b *Business) attach(ctx context.Context, n *parley.BusinessNumber, m *sdk.Messenger, o *parley.Outbound) (*sdk.Attachment, error) {
	ref := messageMedia(o.Body)
	if ref == nil {
		return nil, nil
	}
	var data []byte
	var mimeType, name string
	switch {
	case ref.m.ID != "":
		if b.Media == nil {
			return nil, &mediaFailure{"media are not available on this server"}
		}
		bm, d, err := b.Media.NumberMedia(ctx, n, ref.m.ID)
		if parley.Match(err, parley.ENOTFOUND) {
			return nil, &mediaFailure{"unknown media id " + ref.m.ID}
		}
		if err != nil {
			return nil, err
		}
		data, mimeType, name = d, bm.MIMEType, bm.Filename
	case ref.m.Link != "":
		var err error
		if data, mimeType, err = b.fetch(ctx, ref.m.Link); err != nil {
			return nil, err
		}
		if u, err := url.Parse(ref.m.Link); err == nil {
			name = u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		}
	default:
		return nil, &mediaFailure{"neither id nor link"}
	}
	if ref.m.Filename != "" {
		name = ref.m.Filename
	}
	if _, k, err := parley.ParseCloudMediaType(mimeType); ref.kind != sdk.MediaDocument && (err != nil || string(k) != ref.kind) {
		return nil, &mediaFailure{fmt.Sprintf("a %s message cannot carry %s", ref.kind, mimeType)}
	}
	a, err := m.Client().UploadAttachment(ctx, ref.kind, data, mimeType, name)
	var se *sdk.Error
	if errors.As(err, &se) && (se.Code == sdk.CodeInvalid || se.Code == sdk.CodeTooLarge) {
		return nil, &mediaFailure{"the attachment was refused: " + se.Error()}
	}
	return a, err
}

// fetch downloads a link: http(s) only, through the SSRF-guarded client,
// at most parley.MaxCloudMedia bytes, of a type the Cloud API supports.
func (b *Business) fetch(ctx context.Context, link string) ([]byte, string, error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", &mediaFailure{"link is not an http(s) URL"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", &mediaFailure{"link is not a valid URL"}
	}
	req.Header.Set("User-Agent", "Parley-Media-Fetcher/1")
	client := b.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", &mediaFailure{fmt.Sprintf("link could not be fetched: %v", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", &mediaFailure{fmt.Sprintf("link answered %d", resp.StatusCode)}
	}
	mt, _, err := parley.ParseCloudMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return nil, "", &mediaFailure{"link holds an unsupported type " + t}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, parley.MaxCloudMedia+1))
	if err != nil {
		return nil, "", &mediaFailure{fmt.Sprintf("link could not be read: %v", err)}
	}
	if len(data) > parley.MaxCloudMedia || len(data) == 0 {
		return nil, "", &mediaFailure{"link holds an empty or too large file"}
	}
	return data, mt, nil
}

// receiveMedia turns a customer's attachment (image, video, audio,
// document, sticker) into a media object of the business: it downloads
// and decrypts the blob, stores the file and shapes the webhook's object
// ({"id","mime_type","sha256","caption"}, with "filename" for documents).
// A blob that cannot be opened makes the message unsupported; a network
// failure is returned, so that the message comes again.
func (b *Business) receiveMedia(ctx context.Context, n *parley.BusinessNumber, m *sdk.Messenger, e *sdk.Message, in *InboundMessage) error {
	switch e.Type {
	case sdk.MediaImage, sdk.MediaVideo, sdk.MediaAudio, sdk.MediaDocument, sdk.MediaSticker:
	default:
		return nil
	}
	if e.Err != nil || e.Attachment == nil || b.Media == nil {
		return nil
	}
	a := e.Attachment
	if a.Size > parley.MaxCloudMedia {
		b.Log.Info("business device: customer's file too large", "number", n.ID, "size", a.Size)
		return nil // unsupported (Meta: 131052)
	}
	data, err := m.Client().DownloadAttachment(ctx, a)
	var se *sdk.Error
	switch {
	case errors.As(err, &se) && se.Code == sdk.CodeNotFound, errors.Is(err, crypto.ErrAuthFailed):
		b.Log.Info("business device: customer's file cannot be opened", "number", n.ID, "err", err)
		return nil
	case err != nil:
		return err
	}
	mimeType := a.MIME
	if t, _, err := mime.ParseMediaType(mimeType); err != nil || !strings.Contains(t, "/") {
		mimeType = "application/octet-stream"
	}
	bm, err := b.Media.ReceiveMedia(ctx, n, parley.MediaKind(e.Type), mimeType, a.Name, data)
	if err != nil {
		return err
	}
	obj := map[string]any{"id": bm.ID, "mime_type": bm.MIMEType, "sha256": base64.StdEncoding.EncodeToString(bm.SHA256)}
	if e.Caption != "" && e.Type != sdk.MediaAudio && e.Type != sdk.MediaSticker {
		obj["caption"] = e.Caption
	}
	switch e.Type {
	case sdk.MediaDocument:
		obj["filename"] = a.Name
	case sdk.MediaAudio:
		obj["voice"] = strings.HasPrefix(bm.MIMEType, "audio/ogg")
	case sdk.MediaSticker:
		obj["animated"] = false
	}
	in.Type, in.Object = e.Type, mustJSON(obj)
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
