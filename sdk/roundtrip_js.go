//go:build js

package sdk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
)

// roundTrip does req with the browser's Fetch API. It does not go through
// an http.Client: a reference to (*http.Client).Do links net/http's whole
// transport (TLS, certificates, HTTP/2: about 5 MB of WebAssembly, 1.3 MB
// gzipped) although browsers never use it. hc is therefore ignored here.
// Bodies are held in memory both ways, as the Fetch API wants them.
func roundTrip(_ *http.Client, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	opts := js.Global().Get("Object").New()
	opts.Set("method", req.Method)
	h := js.Global().Get("Headers").New()
	for k, vs := range req.Header {
		for _, v := range vs {
			h.Call("append", k, v)
		}
	}
	opts.Set("headers", h)
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		u := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(u, b)
		opts.Set("body", u)
	}
	ac := js.Global().Get("AbortController").New()
	opts.Set("signal", ac.Get("signal"))
	stop := context.AfterFunc(ctx, func() { ac.Call("abort") })
	defer stop()

	resp, err := await(js.Global().Call("fetch", req.URL.String(), opts))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	arr := js.Global().Get("Uint8Array").New(buf)
	body := make([]byte, arr.Length())
	js.CopyBytesToGo(body, arr)

	header := http.Header{}
	each := js.FuncOf(func(_ js.Value, a []js.Value) any {
		header.Add(a[1].String(), a[0].String()) // forEach(value, key)
		return nil
	})
	resp.Get("headers").Call("forEach", each)
	each.Release()
	code := resp.Get("status").Int()
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + resp.Get("statusText").String(),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// await waits for a JavaScript promise. It must not run on the
// JavaScript event loop's goroutine (a js.Func callback), which would
// deadlock; the SDK's calls run on goroutines of their own.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{v: a[0]}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "fetch failed"
		if len(a) > 0 && a[0].Truthy() {
			if m := a[0].Get("message"); m.Type() == js.TypeString {
				msg = m.String()
			}
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	p.Call("then", ok, fail)
	r := <-ch
	ok.Release()
	fail.Release()
	return r.v, r.err
}
