package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/service"
)

// serveInboxSeed adds POST /inbox/seed?number=ID&n=N[&from=K]: N customers'
// messages recorded into the number's inbox through the inbox's own path
// (service.Inbox.RecordInbound: sealed, with events), as in
// app.BenchmarkInboxSeeded, so that the browser tests can measure the
// business app with issue 7's 10,000 conversations without running
// 10,000 customer devices. Customers are 49160 plus seven digits from K.
func serveInboxSeed(mux *http.ServeMux, node func() *app.Main) {
	mux.HandleFunc("POST /inbox/seed", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		count, err1 := strconv.Atoi(q.Get("n"))
		from, _ := strconv.Atoi(q.Get("from"))
		m := node()
		if err1 != nil || count < 1 || count > 20000 || m == nil {
			http.Error(w, "n must be 1 to 20000 (and the node running)", http.StatusBadRequest)
			return
		}
		num, err := m.Store().BusinessNumber(r.Context(), q.Get("number"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		start := time.Now()
		base := start.Add(-time.Hour)
		if count == 1 {
			base = start
		}
		for i := range count {
			k := from + i
			in := service.InboundChat{WAMID: fmt.Sprintf("wamid.seed%07d", k), From: fmt.Sprintf("49160%07d", k),
				Timestamp: base.Add(time.Duration(i) * time.Millisecond), Type: "text",
				Object: json.RawMessage(fmt.Sprintf(`{"body":"order %d: where is my parcel?"}`, k))}
			if err := m.Inbox().RecordInbound(r.Context(), num, in); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"seeded": count, "ms": time.Since(start).Milliseconds()})
	})
}
