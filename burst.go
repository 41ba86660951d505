package parley

// A Burst groups the callbacks that one group commit answers: a store
// that takes callbacks (the Then methods of service.ThenMailbox) runs
// those of one commit one after another on one goroutine, and then the
// functions handed to Finally. A connection that several of them write
// to is held for the burst and written once (see gateway).
type Burst struct {
	finally []func()
	keys    map[any]struct{}
}

// Finally arranges for fn to run after the burst's last callback, unless
// a function was arranged for key already; it reports whether fn was
// taken. Functions run in the order they were taken.
func (b *Burst) Finally(key any, fn func()) bool {
	if _, ok := b.keys[key]; ok {
		return false
	}
	if b.keys == nil {
		b.keys = make(map[any]struct{})
	}
	b.keys[key] = struct{}{}
	b.finally = append(b.finally, fn)
	return true
}

// End runs the functions handed to Finally; the store calls it after the
// burst's last callback.
func (b *Burst) End() {
	for _, fn := range b.finally {
		fn()
	}
	b.finally, b.keys = nil, nil
}
