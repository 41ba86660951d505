package parley_test

import (
	"testing"

	"github.com/parley-chat/parley"
)

func TestNormalizeRecipient(t *testing.T) {
	const us, in, de = "15550783881", "919876543210", "4930123456"
	tests := []struct {
		name, to, from, want string
	}{
		{"PlusFormatted", "+1 (650) 555-1234", in, "16505551234"},
		{"PlusDots", "+49.30.1234.567", us, "49301234567"},
		{"WaIDEchoedBack", "16505551234", in, "16505551234"},
		{"InternationalOtherCountry", "4915112345678", us, "4915112345678"},
		{"NationalGetsBusinessCode", "(650) 555-1234", us, "16505551234"},
		{"NationalTrunkZero", "030 1234567", de, "49301234567"},
		{"IndiaNational", "98765 43210", in, "919876543210"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parley.NormalizeRecipient(tt.to, tt.from)
			if err != nil || got != tt.want {
				t.Errorf("NormalizeRecipient(%q, %s) = %q, %v; want %q", tt.to, tt.from, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "hello", "0016505551234", "+0123", "+1 650 x", "12"} {
		if got, err := parley.NormalizeRecipient(bad, us); err == nil {
			t.Errorf("NormalizeRecipient(%q) = %q, want an error", bad, got)
		} else if !parley.Match(err, parley.EINVALID) {
			t.Errorf("NormalizeRecipient(%q) code = %q", bad, parley.ErrorCode(err))
		}
	}
}

func TestTemplateShape(t *testing.T) {
	tpl := parley.Template{Status: parley.TemplateApproved, ParameterFormat: parley.FormatPositional, Components: []byte(
		`[{"type":"HEADER","format":"TEXT","text":"Hi {{1}}"},{"type":"BODY","text":"Order {{1}} ships {{2}}."},` +
			`{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},{"type":"URL","url":"https://x.example/{{1}}"},{"type":"URL","url":"https://x.example/"}]}]`)}
	sh, err := tpl.Shape()
	if err != nil {
		t.Fatal(err)
	}
	if len(sh.HeaderParams) != 1 || len(sh.BodyParams) != 2 || !sh.ButtonParams[1] || sh.ButtonParams[0] || sh.ButtonParams[2] {
		t.Errorf("Shape = %+v", sh)
	}
	auth := parley.Template{Status: parley.TemplateApproved, Category: parley.CategoryAuthentication, Components: []byte(
		`[{"type":"BODY"},{"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"COPY_CODE"}]}]`)}
	if sh, err := auth.Shape(); err != nil || len(sh.BodyParams) != 1 || !sh.ButtonParams[0] {
		t.Errorf("authentication Shape = %+v, %v; want the code in the body and the button", sh, err)
	}
}
