// Package media keeps product images: it checks an upload by its content
// (JPEG, PNG or WebP, bounded in bytes and in pixels, fully decodable),
// strips its metadata, names it by the SHA-256 of the bytes it keeps and
// stores it in a Store (a local directory or an S3-compatible bucket). What
// the client declared (content type, file name) is never consulted.
package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"

	"golang.org/x/image/webp"

	"unionmall/internal/apperr"
)

// Limits bound what Check accepts.
type Limits struct {
	// MaxBytes bounds the file as uploaded.
	MaxBytes int64
	// MaxSide bounds the width and the height, MaxPixels their product;
	// both are read from the header before any pixel is decoded, so a
	// small file that declares a huge image costs nothing.
	MaxSide   int
	MaxPixels int64
}

// DefaultLimits: 10 MiB, 8192 pixels a side, 25 megapixels (a decoded RGBA
// image of 100 MB at most).
var DefaultLimits = Limits{MaxBytes: 10 << 20, MaxSide: 8192, MaxPixels: 25_000_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// Image is a checked image, ready to store.
type Image struct {
	// Data is what is stored: the upload without its metadata.
	Data          []byte
	ContentType   string
	Width, Height int
	// Hash is the hex SHA-256 of Data.
	Hash string
}

// Name is the blob's name in the store: hash and extension.
func (i *Image) Name() string { return i.Hash + "." + extOf[i.ContentType] }

// The formats accepted, by content type, and their file extensions.
const (
	JPEG = "image/jpeg"
	PNG  = "image/png"
	WebP = "image/webp"
)

var extOf = map[string]string{JPEG: "jpg", PNG: "png", WebP: "webp"}

type format struct {
	contentType  string
	strip        func([]byte) ([]byte, error)
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

// sniff recognises the formats by their signatures.
func sniff(b []byte) (format, bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return format{JPEG, stripJPEG, jpeg.DecodeConfig, jpeg.Decode}, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return format{PNG, stripPNG, png.DecodeConfig, png.Decode}, true
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return format{WebP, stripWebP, webp.DecodeConfig, webp.Decode}, true
	}
	return format{}, false
}

// decodeSlots bounds the images decoded at once (each may take
// MaxPixels × 4 bytes) to the CPUs, which decoding keeps busy anyway.
var decodeSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// Check reads an upload. It returns BAD_USER_INPUT (about field "file")
// when the bytes are too many, are not a JPEG, PNG or WebP image, declare
// too many pixels, or do not decode.
func Check(data []byte, l Limits) (*Image, error) {
	l = l.withDefaults()
	if int64(len(data)) > l.MaxBytes {
		return nil, tooLarge(l)
	}
	f, ok := sniff(data)
	if !ok {
		return nil, apperr.BadInput("file", "the file is not a JPEG, PNG or WebP image")
	}
	// Everything below reads the stripped bytes: what is checked is what
	// is stored.
	kept, err := f.strip(data)
	if err != nil {
		return nil, damaged(f)
	}
	cfg, err := f.decodeConfig(bytes.NewReader(kept))
	if err != nil {
		return nil, damaged(f)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > l.MaxSide || cfg.Height > l.MaxSide ||
		int64(cfg.Width)*int64(cfg.Height) > l.MaxPixels {
		return nil, apperr.BadInput("file", "the image is %d×%d pixels; at most %d pixels a side and %d pixels in all are accepted",
			cfg.Width, cfg.Height, l.MaxSide, l.MaxPixels)
	}
	decodeSlots <- struct{}{}
	img, err := f.decode(bytes.NewReader(kept))
	<-decodeSlots
	if err != nil {
		return nil, damaged(f)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, damaged(f)
	}
	sum := sha256.Sum256(kept)
	return &Image{Data: kept, ContentType: f.contentType, Width: cfg.Width, Height: cfg.Height, Hash: hex.EncodeToString(sum[:])}, nil
}

func tooLarge(l Limits) error {
	return apperr.BadInput("file", "the image is larger than %d bytes", l.MaxBytes)
}

func damaged(f format) error {
	return apperr.BadInput("file", "the file looks like %s but cannot be read as an image", f.contentType)
}

// ReadLimited reads r up to the limit, refusing (BAD_USER_INPUT) a larger
// file without reading the rest of it.
func ReadLimited(r io.Reader, l Limits) ([]byte, error) {
	l = l.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, l.MaxBytes+1))
	if err != nil {
		return nil, apperr.BadInput("file", "the file could not be read")
	}
	if int64(len(data)) > l.MaxBytes {
		return nil, tooLarge(l)
	}
	return data, nil
}
