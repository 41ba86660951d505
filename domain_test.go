package parley_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// The domain package must stay free of infrastructure.
func TestDomainImportsStdlibOnly(t *testing.T) {
	forbidden := []string{"database/sql", "net/http", "github.com/"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s; the domain package may import only the standard library", f, p)
				}
			}
		}
	}
}

// Every package in the module has a package doc comment.
func TestEveryPackageHasDoc(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && path != ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Doc != nil {
			seen[dir] = true
		} else if _, ok := seen[dir]; !ok {
			seen[dir] = false
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, ok := range seen {
		if !ok {
			t.Errorf("package in %s has no doc comment", dir)
		}
	}
}

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+49 (30) 1234-567", "49301234567", true},
		{"+1 415 555 0100", "14155550100", true},
		{"4915112345678", "", false},
		{"+0123456789", "", false},
		{"+1234567", "", false},
		{"+1234567890123456", "", false},
		{"+49x3012345", "", false},
		{"+4915112345678", "4915112345678", true},
		{" +4915112345678\n", "4915112345678", true},
		{"+", "", false},
		{"+４９１５１１２３４５６７８", "", false}, // full-width digits are not digits here
	}
	for _, tt := range tests {
		got, err := parley.ParsePhone(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !parley.Match(err, parley.EINVALID) {
			t.Errorf("ParsePhone(%q) error code = %q, want invalid", tt.in, parley.ErrorCode(err))
		}
	}
}

func TestValidAccountID(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"4915112345678", true},
		{"12345678", true},
		{"123456789012345", true},
		{"1234567", false},
		{"1234567890123456", false},
		{"0123456789", false},
		{"", false},
		{"4915112345678\n", false},
		{" 4915112345678", false},
		{"49-151-12345678", false},
		{"+4915112345678", false},
		{"４９１５１１２３４５６７８", false},
	} {
		if got := parley.ValidAccountID(tt.id); got != tt.ok {
			t.Errorf("ValidAccountID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
		// An account id is what ParsePhone makes of "+" and itself.
		if tt.ok {
			if got, err := parley.ParsePhone("+" + tt.id); err != nil || got != tt.id {
				t.Errorf("ParsePhone(+%s) = %q, %v", tt.id, got, err)
			}
		}
	}
	for s, want := range map[string]bool{"0": true, "0123": true, "": false, "12a": false, "١٢": false} {
		if got := parley.AllDigits(s); got != want {
			t.Errorf("AllDigits(%q) = %v, want %v", s, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parley.ValidAccountID("4915112345678") }); n != 0 {
		t.Errorf("ValidAccountID allocates %.0f times per call", n)
	}
}

func TestEnvelopeValidate(t *testing.T) {
	ok := parley.Envelope{From: "491511111111", FromDevice: 1, To: "491522222222", ClientID: "c1",
		Copies: []parley.Copy{{Account: "491522222222", Device: 1, Body: []byte("x")}, {Account: "491511111111", Device: 2, Body: []byte("y")}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid envelope: %v", err)
	}
	bad := []func(e *parley.Envelope){
		func(e *parley.Envelope) { e.ClientID = "" },
		func(e *parley.Envelope) { e.To = "abc" },
		func(e *parley.Envelope) { e.Copies = nil },
		func(e *parley.Envelope) { e.Copies[0].Account = "493333333333" },
		func(e *parley.Envelope) { e.Copies[1].Device = 1 },
		func(e *parley.Envelope) { e.Copies[0].Body = nil },
		func(e *parley.Envelope) { e.Copies[0].Body = make([]byte, parley.MaxBodySize+1) },
	}
	for i, mutate := range bad {
		e := ok
		e.Copies = append([]parley.Copy(nil), ok.Copies...)
		mutate(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("case %d: invalid envelope accepted", i)
		}
	}
}

func TestErrorMessageHidesInternalCause(t *testing.T) {
	err := &parley.Error{Code: parley.EINTERNAL, Message: "x", Err: os.ErrPermission}
	if got := parley.ErrorMessage(err); got != "internal error" {
		t.Errorf("ErrorMessage = %q, want generic", got)
	}
	if got := parley.ErrorMessage(os.ErrNotExist); got != "internal error" {
		t.Errorf("ErrorMessage(plain) = %q, want generic", got)
	}
	if got := parley.ErrorMessage(parley.Errorf(parley.EINVALID, "bad phone")); got != "bad phone" {
		t.Errorf("ErrorMessage = %q", got)
	}
}
