package parley_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
)

func TestMediaKindMaxSize(t *testing.T) {
	tests := []struct {
		kind string
		want int64
	}{
		{"document", 100<<20 + 29},
		{"image", 16<<20 + 29},
		{"video", 16<<20 + 29},
		{"audio", 16<<20 + 29},
		{"sticker", 1<<20 + 29},
		{"gif", 0},
		{"", 0},
	}
	for _, tt := range tests {
		k, err := parley.ParseMediaKind(tt.kind)
		if got := k.MaxSize(); got != tt.want || (err == nil) != (tt.want > 0) {
			t.Errorf("ParseMediaKind(%q) = %q (max %d), %v; want max %d", tt.kind, k, got, err, tt.want)
		}
	}
}

func TestValidateMediaIDs(t *testing.T) {
	id := func(c string) string { return strings.Repeat(c, parley.MediaIDSize) }
	many := make([]string, parley.MaxMediaPerMessage+1)
	for i := range many {
		many[i] = id(string(rune('a' + i)))
	}
	tests := []struct {
		name string
		ids  []string
		code string
	}{
		{"None", nil, ""},
		{"Two", []string{id("a"), id("-")}, ""},
		{"Max", many[:parley.MaxMediaPerMessage], ""},
		{"TooMany", many, parley.ETOOLARGE},
		{"Short", []string{"abc"}, parley.EINVALID},
		{"BadChar", []string{id("a")[1:] + "/"}, parley.EINVALID},
		{"Twice", []string{id("a"), id("a")}, parley.EINVALID},
	}
	for _, tt := range tests {
		if got := parley.ErrorCode(parley.ValidateMediaIDs(tt.ids)); got != tt.code {
			t.Errorf("%s: code %q, want %q", tt.name, got, tt.code)
		}
	}
}

func TestExpiresInSeconds(t *testing.T) {
	tests := []struct {
		s    int64
		want time.Duration
		ok   bool
	}{
		{0, 0, true},
		{60, time.Minute, true},
		{90 * 24 * 3600, 90 * 24 * time.Hour, true},
		{59, 0, false},
		{90*24*3600 + 1, 0, false},
		{-60, 0, false},
		{1 << 62, 0, false},
	}
	for _, tt := range tests {
		got, err := parley.ExpiresInSeconds(tt.s)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ExpiresInSeconds(%d) = %v, %v; want %v, ok=%v", tt.s, got, err, tt.want, tt.ok)
		}
	}
	if err := parley.ValidateExpiresIn(time.Minute + time.Millisecond); err == nil {
		t.Errorf("ValidateExpiresIn accepted a fraction of a second")
	}
}
