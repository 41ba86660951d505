//go:build js

package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"syscall/js"

	"github.com/parley-chat/parley/sdk"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	core := jsObject.New()
	method(core, "requestCode", func(a []js.Value) any {
		server, phone := str(a, 0), str(a, 1)
		return async(func() (any, error) {
			r, err := sdk.RequestCode(context.Background(), server, phone)
			if err != nil {
				return nil, err
			}
			return map[string]any{"expiresIn": r.ExpiresIn.Seconds(), "development": r.Development}, nil
		})
	})
	method(core, "verify", func(a []js.Value) any {
		server, phone, code, name := str(a, 0), str(a, 1), str(a, 2), str(a, 3)
		return async(func() (any, error) {
			return sdk.Verify(context.Background(), server, phone, code, name, "web")
		})
	})
	method(core, "accountID", func(a []js.Value) any {
		id, err := sdk.AccountID(str(a, 0))
		if err != nil {
			return js.Null()
		}
		return id
	})
	method(core, "newLinkCode", func([]js.Value) any { return sdk.NewLinkCode() })
	method(core, "linkWait", func(a []js.Value) any {
		server, code := str(a, 0), str(a, 1)
		return async(func() (any, error) { return sdk.LinkWait(context.Background(), server, code) })
	})
	// start(credentials, storage, onEvent) → Promise<session>
	method(core, "start", func(a []js.Value) any {
		credsV, storage, onEvent := arg(a, 0), arg(a, 1), arg(a, 2)
		return async(func() (any, error) {
			var creds sdk.Credentials
			if err := fromJS(credsV, &creds); err != nil {
				return nil, err
			}
			if onEvent.Type() != js.TypeFunction {
				return nil, errors.New("start: onEvent must be a function")
			}
			s, err := startSession(creds, kv{storage}, onEvent)
			if err != nil {
				return nil, err
			}
			return s.object(), nil
		})
	})
	js.Global().Set("parleyCore", core)
	if cb := js.Global().Get("onParleyCore"); cb.Type() == js.TypeFunction {
		cb.Invoke(core)
	}
	select {}
}

// errorCode returns the server's error code of err ("" when it has none),
// or the close code of a fatal connection close ("closed:4001").
func errorCode(err error) string {
	var ce *sdk.CloseError
	if errors.As(err, &ce) {
		return "closed:" + strconv.Itoa(ce.Code)
	}
	return sdk.ErrorCode(err)
}
