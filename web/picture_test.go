package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
)

// uploadPicture runs Meta's resumable upload for a small PNG with the
// business's token and returns the handle for profile_picture_handle.
func uploadPicture(base, appID, token string) (string, error) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{30, 140, 60, 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	do := func(method, path string, hdr map[string]string, body []byte, out any) error {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "OAuth "+token)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, raw)
		}
		return json.Unmarshal(raw, out)
	}
	var s struct{ ID string }
	q := url.Values{"file_name": {"logo.png"}, "file_length": {fmt.Sprint(buf.Len())}, "file_type": {"image/png"}}
	if err := do("POST", "/v24.0/"+appID+"/uploads?"+q.Encode(), nil, nil, &s); err != nil {
		return "", err
	}
	var h struct{ H string }
	if err := do("POST", "/v24.0/"+s.ID, map[string]string{"file_offset": "0"}, buf.Bytes(), &h); err != nil {
		return "", err
	}
	return h.H, nil
}
