package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
)

// hookRecorder is the business's webhook endpoint for the conformance
// suite: it answers the verification handshake and keeps every POST
// exactly as it arrived (raw body, signature header), so that the Node
// libraries can verify and parse the bytes Parley sent with their own
// code. GET /recorded?after=N lists the POSTs after the N-th.
type hookRecorder struct {
	t           *testing.T
	verifyToken string
	mu          sync.Mutex
	posts       []recordedHook
}

type recordedHook struct {
	Seq           int    `json:"seq"`
	Body          string `json:"body"`
	Signature     string `json:"signature"`
	ContentType   string `json:"content_type"`
	ContentLength int64  `json:"content_length"`
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == "GET" && r.URL.Path == "/recorded":
		after, _ := strconv.Atoi(r.URL.Query().Get("after"))
		h.mu.Lock()
		out := []recordedHook{}
		if after < len(h.posts) {
			out = append(out, h.posts[after:]...)
		}
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	case r.Method == "GET":
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != h.verifyToken {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		io.WriteString(w, q.Get("hub.challenge"))
	case r.Method == "POST":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.posts = append(h.posts, recordedHook{Seq: len(h.posts) + 1, Body: string(body),
			Signature: r.Header.Get("X-Hub-Signature-256"), ContentType: r.Header.Get("Content-Type"), ContentLength: r.ContentLength})
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// nodeForConformance finds node and the installed conformance packages.
// Under CI=true both must exist; elsewhere the test skips and says why.
func nodeForConformance(t *testing.T) (string, string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("conformance suite cannot run under CI: %s", why)
		}
		t.Skipf("skipping the Node conformance suite: %s", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	dir, err := filepath.Abs(filepath.Join("..", "conformance"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"@kapso/whatsapp-cloud-api", "whatsapp-api-js", "@chat-adapter/whatsapp"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			missing(pkg + " is not installed: run `npm ci` in conformance/")
		}
	}
	return node, dir
}

// Parley driven by client libraries nobody here wrote: a business is
// created through the operator API with its webhook on a local recorder,
// three sandbox customers open their 24-hour windows, and `node --test`
// runs conformance/*.test.js, one file per library, against the node.
func TestConformanceNodeLibraries(t *testing.T) {
	node, dir := nodeForConformance(t)
	n := startNode(t, app.Config{BusinessThroughput: 1000})
	rec := &hookRecorder{t: t, verifyToken: "vt-conformance"}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	b := createBusiness(t, n, map[string]any{"webhook_url": srv.URL + "/hook", "verify_token": rec.verifyToken})

	// One customer per library, so that the pair rate limit and the
	// webhooks of one library's test never meet another's.
	customers := map[string]string{"KAPSO": "+4915100000301", "WAJS": "+4915100000302", "CHAT": "+4915100000303"}
	env := append(os.Environ(),
		"PARLEY_URL="+n.base,
		"PARLEY_ADMIN_TOKEN="+adminToken(t, n),
		"PARLEY_HOOKS_URL="+srv.URL,
		"PARLEY_ACCESS_TOKEN="+b.AccessToken,
		"PARLEY_APP_ID="+b.AppID,
		"PARLEY_APP_SECRET="+b.AppSecret,
		"PARLEY_WABA_ID="+b.WABAID,
		"PARLEY_PHONE_NUMBER_ID="+b.PhoneNumberID,
		"PARLEY_BUSINESS_NUMBER="+b.Account,
		"PARLEY_VERIFY_TOKEN="+rec.verifyToken,
	)
	for lib, phone := range customers {
		c := customer{t: t, n: n, phone: phone}
		id := c.post("/messages", map[string]string{"to": "+" + b.Account, "text": "hello from " + strings.ToLower(lib)})
		env = append(env, "PARLEY_CUSTOMER_"+lib+"="+strings.TrimPrefix(phone, "+"), "PARLEY_CUSTOMER_"+lib+"_MESSAGE="+id)
	}
	for _, phone := range customers {
		deadline := time.Now().Add(20 * time.Second)
		for {
			if last, err := n.m.Store().LastInbound(t.Context(), b.PhoneNumberID, strings.TrimPrefix(phone, "+")); err == nil && !last.IsZero() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the window with %s did not open", phone)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance/*.test.js (%v)", err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("conformance suite failed: %v", err)
	}
}
