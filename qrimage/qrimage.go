// Package qrimage draws QR codes (byte mode, error correction level M)
// as PNG and SVG images. The symbol itself is made by
// github.com/piglig/go-qr, a port of Nayuki's reference QR library;
// this package only chooses its parameters and draws the modules.
package qrimage

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"

	qr "github.com/piglig/go-qr"
)

// Quiet is the light border around the symbol, in modules (the standard
// asks for 4).
const Quiet = 4

// Matrix returns the symbol for data: byte mode, level M (never raised),
// the smallest version that fits, the mask of lowest penalty; mask >= 0
// forces a mask (tests). m[y][x] is true for a dark module.
func Matrix(data []byte, mask int) ([][]bool, error) {
	seg, err := qr.MakeBytes(data)
	if err != nil {
		return nil, err
	}
	code, err := qr.EncodeSegments([]*qr.QrSegment{seg}, qr.Medium, qr.MinVersion, qr.MaxVersion, mask, false)
	if err != nil {
		return nil, fmt.Errorf("qrimage: %w", err)
	}
	n := code.Size()
	m := make([][]bool, n)
	for y := range m {
		m[y] = make([]bool, n)
		for x := range m[y] {
			m[y][x] = code.Module(x, y)
		}
	}
	return m, nil
}

// PNG draws data's symbol with scale pixels per module, black on white,
// with the quiet zone.
func PNG(data []byte, scale int) ([]byte, error) {
	m, err := Matrix(data, -1)
	if err != nil {
		return nil, err
	}
	scale = max(scale, 1)
	side := (len(m) + 2*Quiet) * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y, row := range m {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range scale {
				off := img.PixOffset((x+Quiet)*scale, (y+Quiet)*scale+dy)
				for dx := range scale {
					img.Pix[off+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SVG draws data's symbol as one path in a scalable viewBox of modules,
// with the quiet zone and a title for screen readers.
func SVG(data []byte, title string) ([]byte, error) {
	m, err := Matrix(data, -1)
	if err != nil {
		return nil, err
	}
	side := strconv.Itoa(len(m) + 2*Quiet)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ` + side + ` ` + side + `" shape-rendering="crispEdges" role="img">`)
	b.WriteString(`<title>` + escape(title) + `</title>`)
	b.WriteString(`<rect width="100%" height="100%" fill="#FFFFFF"/><path fill="#000000" d="`)
	for y, row := range m {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d,%dh1v1h-1z", x+Quiet, y+Quiet)
			}
		}
	}
	b.WriteString(`"/></svg>` + "\n")
	return []byte(b.String()), nil
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func escape(s string) string { return escaper.Replace(s) }
