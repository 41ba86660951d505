package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/service"
)

// BenchmarkInboxSeeded measures the inbox API with issue 7's load: 10,000
// conversations (one message each, recorded through the inbox's own path,
// sealed) and 100 agents of one business, on one node (SQLite). Each
// sub-benchmark reports the request's time per operation; "fanout" is the
// time from recording a customer's message until all 100 agents' event
// streams have it.
func BenchmarkInboxSeeded(b *testing.B) {
	n := startNode(b, app.Config{TrustProxy: true})
	biz := createBusiness(b, n, nil)
	num, err := n.m.Store().BusinessNumber(b.Context(), biz.PhoneNumberID)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	base := time.Now().Add(-time.Hour)
	for i := range 10_000 {
		in := service.InboundChat{WAMID: fmt.Sprintf("wamid.seed%05d", i), From: fmt.Sprintf("49170%07d", i), Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Type: "text", Object: json.RawMessage(fmt.Sprintf(`{"body":"order %d: where is my parcel?"}`, i))}
		if err := n.m.Inbox().RecordInbound(b.Context(), num, in); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded 10,000 conversations in %v", time.Since(start))
	agents := make([]*agentClient, 100)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Go(func() {
			email, pw := addAgent(b, n, biz.WABAID, "agent")
			ag := newAgentClient(b, n)
			ag.addr = fmt.Sprintf("10.0.%d.%d", i/200, i%200+1)
			if code := ag.login(email, pw); code != 200 {
				b.Errorf("login %d: %d", i, code)
			}
			agents[i] = ag
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	a := agents[0]

	get := func(path string) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if code := a.do("GET", path, nil, nil, false); code != 200 {
					b.Fatalf("GET %s: %d", path, code)
				}
			}
		}
	}
	var list struct {
		Conversations []map[string]any `json:"conversations"`
	}
	a.do("GET", "/conversations", nil, &list, false)
	if len(list.Conversations) != 50 {
		b.Fatalf("first page has %d conversations", len(list.Conversations))
	}
	conv := list.Conversations[0]["id"].(string)
	b.Run("list", get("/conversations"))
	b.Run("listUnread", get("/conversations?unread=1&limit=100"))
	b.Run("listPage200", get("/conversations?before="+fmt.Sprint(int64(list.Conversations[49]["last_at"].(float64)))+"&limit=200"))
	b.Run("searchNumber", get("/conversations?q="+url.QueryEscape("+4917000099")))
	b.Run("searchText", get("/conversations?q=order+9999"))
	b.Run("messages", get("/conversations/"+conv+"/messages"))

	streams := make([]<-chan map[string]any, len(agents))
	for i, ag := range agents {
		streams[i] = ag.events()
	}
	b.Run("fanout100", func(b *testing.B) {
		var lat []time.Duration
		for i := 0; b.Loop(); i++ {
			text := fmt.Sprintf("fan-out %d", i)
			t0 := time.Now()
			in := service.InboundChat{WAMID: fmt.Sprintf("wamid.fan%06d", i), From: "4917000000001", Timestamp: t0, Type: "text",
				Object: json.RawMessage(fmt.Sprintf(`{"body":%q}`, text))}
			if err := n.m.Inbox().RecordInbound(b.Context(), num, in); err != nil {
				b.Fatal(err)
			}
			for _, ch := range streams {
				waitEvent(b, ch, text, func(e map[string]any) bool { return textOf(msgOf(e)) == text })
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	})
}
