package app_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/bus/natstest"
	"github.com/parley-chat/parley/store/postgres/pgtest"
)

// sharedKey writes an at-rest key file for nodes that share a database:
// they must share the key too (hosted devices move between them, and
// inbox events travel between them sealed).
func sharedKey(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	path := filepath.Join(t.TempDir(), "at-rest-key")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Two nodes sharing PostgreSQL and NATS: a customer's message, whichever
// node's hosted device decrypts it, reaches agents connected to either
// node, and an assignment made on one node reaches the agent on the
// other.
func TestInboxTwoNodes(t *testing.T) {
	natsURL, dsn, key := natstest.URL(t), pgtest.DSN(t), sharedKey(t)
	na := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "inbox-a", AtRestKeyFile: key})
	nb := startNode(t, app.Config{Database: dsn, NATS: natsURL, Node: "inbox-b", AtRestKeyFile: key})
	b := createBusiness(t, na, nil)
	agentA := signIn(t, na, b.WABAID, "agent")
	agentB := signIn(t, nb, b.WABAID, "admin")
	evA, evB := agentA.events(), agentB.events()

	c := customer{t: t, n: nb, phone: "+4915100000711"}
	c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "across the cluster"})
	isIn := func(ev map[string]any) bool {
		return ev["type"] == "message" && textOf(msgOf(ev)) == "across the cluster"
	}
	evs := []map[string]any{waitEvent(t, evA, "message on node a", isIn), waitEvent(t, evB, "message on node b", isIn)}
	convID := evs[0]["conversation"].(map[string]any)["id"].(string)
	if evs[1]["conversation"].(map[string]any)["id"] != convID {
		t.Fatalf("the nodes disagree on the conversation: %v", evs)
	}

	// Round robin among online agents, from node b; node a hears of it.
	var cv map[string]any
	agentB.do("GET", "/conversations/"+convID, nil, &cv, false)
	if code := agentB.do("PUT", "/conversations/"+convID+"/assignee", map[string]any{"agent": "auto", "version": cv["version"]}, &cv, true); code != 200 {
		t.Fatalf("auto-assign: %d %v", code, cv)
	}
	if !slices.Contains([]any{agentA.me["id"], agentB.me["id"]}, cv["assignee"]) {
		t.Fatalf("assigned to %v, want one of the two online agents", cv["assignee"])
	}
	waitEvent(t, evA, "assignment on node a", func(ev map[string]any) bool {
		c, _ := ev["conversation"].(map[string]any)
		return ev["type"] == "conversation" && c["assignee"] == cv["assignee"]
	})
	// A note written on node a reaches node b.
	if code := agentA.do("POST", "/conversations/"+convID+"/notes", map[string]any{"text": "checking stock"}, nil, true); code != 200 {
		t.Fatalf("note: %d", code)
	}
	waitEvent(t, evB, "note on node b", func(ev map[string]any) bool { return msgOf(ev)["direction"] == "note" })
}

// BenchmarkInboxLatency measures how long a customer's message takes from
// reaching the server (its server timestamp) to an agent's event stream:
// sandbox customer → hosted business device (decrypt) → webhook outbox
// and inbox (sealed) → bus → SSE. One message at a time; reports the
// median and the worst. With PARLEY_TEST_POSTGRES and PARLEY_TEST_NATS
// set, BenchmarkInboxLatencyTwoNodes does the same with the agent on the
// other node.
func BenchmarkInboxLatency(b *testing.B) {
	n := startNode(b, app.Config{})
	benchLatency(b, n, n)
}

func BenchmarkInboxLatencyTwoNodes(b *testing.B) {
	natsURL, dsn, key := natstest.URL(b), pgtest.DSN(b), sharedKey(b)
	na := startNode(b, app.Config{Database: dsn, NATS: natsURL, Node: "lat-a", AtRestKeyFile: key})
	nb := startNode(b, app.Config{Database: dsn, NATS: natsURL, Node: "lat-b", AtRestKeyFile: key})
	benchLatency(b, na, nb)
}

func benchLatency(b *testing.B, customerNode, agentNode *node) {
	biz := createBusiness(b, customerNode, nil)
	agent := signIn(b, agentNode, biz.WABAID, "agent")
	ev := agent.events()
	phone := fmt.Sprintf("+49151%08d", 20000000+agentSeq.Add(1))
	c := customer{t: nil, n: customerNode, phone: phone}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		text := fmt.Sprintf("latency %d", i)
		sendAsCustomer(b, c, "+"+biz.Account, text)
		e := waitEvent(b, ev, text, func(e map[string]any) bool { return textOf(msgOf(e)) == text })
		got := time.Now()
		created := time.UnixMilli(int64(msgOf(e)["created_at"].(float64)))
		lat = append(lat, got.Sub(created))
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	}
}

// sendAsCustomer is customer.post for benchmarks.
func sendAsCustomer(b testing.TB, c customer, to, text string) {
	b.Helper()
	if st := call(b, "POST", c.n.base+"/admin/v1/customers/"+c.phone+"/messages", adminToken(b, c.n),
		map[string]string{"to": to, "text": text}, nil); st != 200 {
		b.Fatalf("customer send: status %d", st)
	}
}
