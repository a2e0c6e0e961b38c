package media

import (
	"bytes"
	"image"
	"strings"
	"testing"

	"unionmall/internal/apperr"
)

var small = Limits{MaxBytes: 64 << 10, MaxSide: 200, MaxPixels: 30_000}

func TestCheckRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string // in the message
	}{
		{"HTML sent as image/png", []byte("<!doctype html><script>alert(1)</script>"), "not a JPEG, PNG or WebP"},
		{"empty", nil, "not a JPEG, PNG or WebP"},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "not a JPEG, PNG or WebP"},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "not a JPEG, PNG or WebP"},
		{"too many bytes", bytes.Repeat([]byte{0xFF}, int(small.MaxBytes)+1), "larger than"},
		{"too wide", pngOf(t, 201, 10), "201×10 pixels"},
		{"too many pixels", pngOf(t, 200, 151), "200×151 pixels"},
		{"decompression bomb", pngBomb(t, 50000, 50000), "50000×50000"},
		{"JPEG too tall", jpegOf(t, 8, 300), "8×300"},
		{"truncated PNG", pngOf(t, 20, 20)[:60], "cannot be read"},
		{"PNG signature only", []byte("\x89PNG\r\n\x1a\n"), "cannot be read"},
		{"truncated JPEG", jpegOf(t, 20, 20)[:100], "cannot be read"},
		{"JPEG header with HTML", append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0, 0}, "<html>"...), "cannot be read"},
		{"RIFF but no image", []byte("RIFF\x04\x00\x00\x00WEBP"), "cannot be read"},
		{"WebP with a lying size", append([]byte("RIFF\xff\xff\xff\x00WEBP"), webpFile(t)[12:]...), "cannot be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := Check(c.data, small)
			if img != nil || !apperr.Is(err, apperr.BadUserInput) {
				t.Fatalf("got %v, %v; want BAD_USER_INPUT", img, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("message %q lacks %q", err, c.want)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	for _, c := range []struct {
		name        string
		data        []byte
		contentType string
		w, h        int
	}{
		{"PNG", pngOf(t, 40, 30), PNG, 40, 30},
		{"JPEG", jpegOf(t, 33, 17), JPEG, 33, 17},
		{"WebP", webpFile(t), WebP, 0, 0},
		{"largest", pngOf(t, 200, 150), PNG, 200, 150},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := Check(c.data, small)
			if err != nil {
				t.Fatal(err)
			}
			if img.ContentType != c.contentType || (c.w > 0 && (img.Width != c.w || img.Height != c.h)) {
				t.Fatalf("got %s %d×%d", img.ContentType, img.Width, img.Height)
			}
			if len(img.Hash) != 64 || !ValidName(img.Name()) {
				t.Fatalf("name %q", img.Name())
			}
		})
	}
}

// Metadata goes, pixels stay: the stripped file decodes to the same image.
func TestCheckStripsMetadata(t *testing.T) {
	for _, c := range []struct {
		name   string
		data   []byte
		absent []string
	}{
		{"JPEG with EXIF, XMP, ICC and a comment", jpegWithMetadata(t, 30, 20), []string{"Exif", "xmpmeta", "ICC_PROFILE", "a comment", "GPS"}},
		{"PNG with text, EXIF, time and a trailer", pngWithMetadata(t, 30, 20), []string{"tEXt", "Author", "eXIf", "tIME", "PK\x03\x04"}},
		{"WebP with ICC, EXIF and XMP", webpWithMetadata(t), []string{"ICCP", "EXIF", "XMP ", "GPS", "xmpmeta"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := Check(c.data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.absent {
				if bytes.Contains(img.Data, []byte(s)) {
					t.Errorf("%q is still in the stored bytes", s)
				}
			}
			before, _, err := image.Decode(bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			after, _, err := image.Decode(bytes.NewReader(img.Data))
			if err != nil {
				t.Fatal(err)
			}
			if !samePixels(before, after) {
				t.Fatal("the pixels changed")
			}
			if img.ContentType == WebP && img.Data[20]&(vp8xICC|vp8xEXIF|vp8xXMP) != 0 {
				t.Fatalf("VP8X still announces metadata: flags %#x", img.Data[20])
			}
		})
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

func TestValidName(t *testing.T) {
	good := strings.Repeat("ab", 32)
	for name, want := range map[string]bool{
		good + ".png": true, good + ".jpg": true, good + ".webp": true,
		good + ".gif": false, good: false, strings.ToUpper(good) + ".png": false,
		"../" + good + ".png": false, good[:63] + ".png": false, "..%2f" + good + ".png": false,
		good + ".png/": false, good + ".png\x00": false, "": false,
	} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) = %v", name, !want)
		}
	}
}
