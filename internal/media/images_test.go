package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

// Test images, made here (WebP, which Go cannot encode, from testdata:
// gopher.webp is golang.org/x/image's gopher-doc.1bpp.lossless.webp).

func picture(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 5), 120, 255})
		}
	}
	return img
}

func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, picture(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, picture(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func webpFile(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/gopher.webp")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jpegWithMetadata puts EXIF and XMP segments and a comment after SOI.
func jpegWithMetadata(t testing.TB, w, h int) []byte {
	j := jpegOf(t, w, h)
	seg := func(m byte, payload string) []byte {
		s := []byte{0xFF, m, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
		return append(s, payload...)
	}
	var out []byte
	out = append(out, j[:2]...)
	out = append(out, seg(0xE1, "Exif\x00\x00MM\x00\x2aGPS 34.26N 108.94E Canon")...)
	out = append(out, seg(0xE1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>secret</x:xmpmeta>")...)
	out = append(out, seg(0xE2, "ICC_PROFILE\x00\x01\x01profile")...)
	out = append(out, seg(0xFE, "a comment")...)
	return append(out, j[2:]...)
}

func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngWithMetadata puts text, EXIF and time chunks after IHDR and junk
// after IEND.
func pngWithMetadata(t testing.TB, w, h int) []byte {
	p := pngOf(t, w, h)
	const afterIHDR = 8 + 25
	var out []byte
	out = append(out, p[:afterIHDR]...)
	out = append(out, pngChunk("tEXt", []byte("Author\x00Somebody"))...)
	out = append(out, pngChunk("eXIf", []byte("MM\x00\x2aGPS"))...)
	out = append(out, pngChunk("tIME", []byte{0x07, 0xEA, 1, 1, 0, 0, 0})...)
	out = append(out, p[afterIHDR:]...)
	return append(out, "PK\x03\x04 appended archive"...)
}

// pngBomb is a valid small PNG whose header declares w×h pixels.
func pngBomb(t testing.TB, w, h int) []byte {
	p := append([]byte(nil), pngOf(t, 1, 1)...)
	binary.BigEndian.PutUint32(p[16:], uint32(w))
	binary.BigEndian.PutUint32(p[20:], uint32(h))
	binary.BigEndian.PutUint32(p[29:], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// webpWithMetadata wraps the simple WebP in a VP8X container announcing
// and carrying ICC, EXIF and XMP chunks.
func webpWithMetadata(t testing.TB) []byte {
	src := webpFile(t)
	w, h := 0, 0
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(src)); err == nil {
		w, h = cfg.Width, cfg.Height
	} else {
		t.Fatal(err)
	}
	chunk := func(typ string, data []byte) []byte {
		c := []byte(typ)
		c = binary.LittleEndian.AppendUint32(c, uint32(len(data)))
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	vp8x := make([]byte, 10)
	vp8x[0] = vp8xICC | vp8xEXIF | vp8xXMP
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(vp8x[4:], w-1)
	put24(vp8x[7:], h-1)
	var body []byte
	body = append(body, "WEBP"...)
	body = append(body, chunk("VP8X", vp8x)...)
	body = append(body, chunk("ICCP", []byte("profile"))...)
	body = append(body, src[12:]...) // the image's own chunk
	body = append(body, chunk("EXIF", []byte("MM\x00\x2aGPS 34.26N"))...)
	body = append(body, chunk("XMP ", []byte("<x:xmpmeta>secret</x:xmpmeta>"))...)
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}
