//go:build js

package main

import (
	"encoding/json"
	"errors"
	"syscall/js"
)

var (
	jsObject  = js.Global().Get("Object")
	jsPromise = js.Global().Get("Promise")
	jsJSON    = js.Global().Get("JSON")
	jsError   = js.Global().Get("Error")
	jsUint8   = js.Global().Get("Uint8Array")
)

// async returns a JavaScript Promise settled by fn, which runs on a new
// goroutine. fn's result is converted with toJS.
func async(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, a []js.Value) any {
		resolve, reject := a[0], a[1]
		go func() {
			defer executor.Release()
			v, err := fn()
			if err != nil {
				e := jsError.New(err.Error())
				e.Set("code", errorCode(err))
				reject.Invoke(e)
				return
			}
			resolve.Invoke(toJS(v))
		}()
		return nil
	})
	return jsPromise.New(executor)
}

// toJS converts a Go result: js.Value and []byte as they are (bytes as a
// Uint8Array), nil as undefined, anything else through JSON.
func toJS(v any) any {
	switch x := v.(type) {
	case nil:
		return js.Undefined()
	case js.Value:
		return x
	case []byte:
		u := jsUint8.New(len(x))
		js.CopyBytesToJS(u, x)
		return u
	case string, bool, int, float64:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return js.Undefined()
	}
	return jsJSON.Call("parse", string(b))
}

// fromJS decodes a JavaScript value into out through JSON.
func fromJS(v js.Value, out any) error {
	if v.IsUndefined() || v.IsNull() {
		return errors.New("missing argument")
	}
	return json.Unmarshal([]byte(jsJSON.Call("stringify", v).String()), out)
}

// bytesFromJS copies a Uint8Array.
func bytesFromJS(v js.Value) []byte {
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

// await waits for a promise; it must run on a goroutine, never in a
// js.Func callback.
func await(p js.Value) (js.Value, error) {
	if p.Type() != js.TypeObject || p.Get("then").Type() != js.TypeFunction {
		return p, nil
	}
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any {
		var v js.Value
		if len(a) > 0 {
			v = a[0]
		}
		ch <- result{v: v}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "rejected"
		if len(a) > 0 && a[0].Truthy() {
			msg = a[0].Call("toString").String()
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

// method installs fn as obj[name].
func method(obj js.Value, name string, fn func(args []js.Value) any) {
	obj.Set(name, js.FuncOf(func(_ js.Value, a []js.Value) any { return fn(a) }))
}

// arg returns a[i] or undefined.
func arg(a []js.Value, i int) js.Value {
	if i < len(a) {
		return a[i]
	}
	return js.Undefined()
}

// str returns a[i] as a string ("" when absent).
func str(a []js.Value, i int) string {
	v := arg(a, i)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}
