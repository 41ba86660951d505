package qrimage

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var samples = []string{
	"https://chat.example.com/message/4O4YGZEG3RIVE1?src=qr",
	"http://127.0.0.1:8080/message/ABCDEFGHIJKLMN",
	"https://parley.example.org/c/4915100000001?text=" + strings.Repeat("Hallo%20Welt%20", 12),
}

// TestMatchesQRCodeGenerator cross-checks the symbol against an
// independent encoder, the npm package qrcode-generator (which the web
// client uses), for the same data, level M and byte mode: the version
// must be the same and the modules identical under the mask it chose.
func TestMatchesQRCodeGenerator(t *testing.T) {
	lib := filepath.Join("..", "web", "node_modules", "qrcode-generator")
	node, err := exec.LookPath("node")
	if _, serr := os.Stat(lib); err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: node (%v) and web/node_modules/qrcode-generator (%v) are required", err, serr)
		}
		t.Skip("node or web/node_modules missing (run make web)")
	}
	abs, _ := filepath.Abs(lib)
	script := `const q = require(process.argv[1]); const out = [];
for (const d of JSON.parse(process.argv[2])) {
  const c = q(0, 'M'); c.addData(d, 'Byte'); c.make();
  const n = c.getModuleCount(), rows = [];
  for (let y = 0; y < n; y++) { let r = ''; for (let x = 0; x < n; x++) r += c.isDark(y, x) ? '1' : '0'; rows.push(r); }
  out.push(rows);
}
console.log(JSON.stringify(out));`
	in, _ := json.Marshal(samples)
	b, err := exec.Command(node, "-e", script, abs, string(in)).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want [][]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("node output: %v", err)
	}
	for i, d := range samples {
		mine, err := Matrix([]byte(d), -1)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != len(want[i]) {
			t.Errorf("%q: %d modules a side, qrcode-generator %d", d, len(mine), len(want[i]))
			continue
		}
		matched := -1
		for mask := 0; mask < 8 && matched < 0; mask++ {
			m, err := Matrix([]byte(d), mask)
			if err != nil {
				t.Fatal(err)
			}
			if rows(m) == strings.Join(want[i], "\n") {
				matched = mask
			}
		}
		if matched < 0 {
			t.Errorf("%q: no mask gives qrcode-generator's symbol", d)
		}
	}
}

func rows(m [][]bool) string {
	var b strings.Builder
	for y, row := range m {
		if y > 0 {
			b.WriteByte('\n')
		}
		for _, d := range row {
			if d {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
	}
	return b.String()
}

// TestStructure checks what every symbol must have: a size of 17+4v,
// the three finder patterns with their separators, the timing patterns
// and format information that says level M (both copies agree).
func TestStructure(t *testing.T) {
	for _, d := range samples {
		m, err := Matrix([]byte(d), -1)
		if err != nil {
			t.Fatal(err)
		}
		n := len(m)
		if (n-17)%4 != 0 || n < 21 {
			t.Fatalf("%q: size %d is not 17+4v", d, n)
		}
		finder := func(x0, y0 int) {
			for y := -1; y <= 7; y++ {
				for x := -1; x <= 7; x++ {
					X, Y := x0+x, y0+y
					if X < 0 || Y < 0 || X >= n || Y >= n {
						continue
					}
					ring := max(abs(x-3), abs(y-3))
					want := ring != 2 && ring != 4 // dark: centre 3x3 and the outer ring; separator (ring 4) light
					if m[Y][X] != want {
						t.Fatalf("%q: finder at (%d,%d): module (%d,%d) = %v", d, x0, y0, X, Y, m[Y][X])
					}
				}
			}
		}
		finder(0, 0)
		finder(n-7, 0)
		finder(0, n-7)
		for i := 8; i < n-8; i++ {
			if m[6][i] != (i%2 == 0) || m[i][6] != (i%2 == 0) {
				t.Fatalf("%q: timing pattern broken at %d", d, i)
			}
		}
		// Format information (ISO/IEC 18004 §7.9): two copies of 15 bits,
		// masked with 0x5412; the top two data bits are the level (00 =
		// M), then the mask, then a BCH code over the five data bits.
		var f1, f2 int
		set := func(f *int, i int, dark bool) { *f |= b(dark) << i }
		for i := 0; i <= 5; i++ {
			set(&f1, i, m[i][8])
		}
		set(&f1, 6, m[7][8])
		set(&f1, 7, m[8][8])
		set(&f1, 8, m[8][7])
		for i := 9; i < 15; i++ {
			set(&f1, i, m[8][14-i])
		}
		for i := 0; i < 8; i++ {
			set(&f2, i, m[8][n-1-i])
		}
		for i := 8; i < 15; i++ {
			set(&f2, i, m[n-15+i][8])
		}
		if f1 != f2 {
			t.Errorf("%q: the two copies of the format information differ: %015b, %015b", d, f1, f2)
		}
		v := f1 ^ 0x5412
		data := v >> 10
		rem := data
		for i := 0; i < 10; i++ {
			rem = rem<<1 ^ (rem>>9)*0x537
		}
		if level := data >> 3; level != 0 || v&0x3FF != rem&0x3FF {
			t.Errorf("%q: format information %015b: level bits %02b (want 00 = M), BCH ok %v", d, f1, level, v&0x3FF == rem&0x3FF)
		}
		if !m[n-8][8] {
			t.Errorf("%q: the dark module is missing", d)
		}
	}
}

func b(v bool) int {
	if v {
		return 1
	}
	return 0
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestImages checks that the PNG decodes to the symbol (scale and quiet
// zone as asked) and that the SVG draws each dark module once.
func TestImages(t *testing.T) {
	d := []byte(samples[0])
	m, _ := Matrix(d, -1)
	raw, err := PNG(d, 6)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	side := (len(m) + 2*Quiet) * 6
	if img.Bounds().Dx() != side || img.Bounds().Dy() != side {
		t.Fatalf("PNG is %v, want %dx%d", img.Bounds(), side, side)
	}
	for y := range m {
		for x := range m {
			r, _, _, _ := img.At((x+Quiet)*6+3, (y+Quiet)*6+3).RGBA()
			if dark := r == 0; dark != m[y][x] {
				t.Fatalf("PNG module (%d,%d) dark=%v, want %v", x, y, dark, m[y][x])
			}
		}
	}
	svg, err := SVG(d, `Chat <&> "us"`)
	if err != nil {
		t.Fatal(err)
	}
	dark := 0
	for _, row := range m {
		for _, v := range row {
			dark += b(v)
		}
	}
	if got := strings.Count(string(svg), "h1v1h-1z"); got != dark {
		t.Errorf("SVG draws %d modules, want %d", got, dark)
	}
	if !strings.Contains(string(svg), "<title>Chat &lt;&amp;&gt; &quot;us&quot;</title>") {
		t.Errorf("SVG title not escaped: %s", svg[:200])
	}
}
