package media

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Metadata is stripped without re-encoding, so no pixel changes: JPEG
// segments and PNG and WebP chunks are copied or dropped by type. What is
// kept is what decoding or display needs; anything after the image's end
// (an appended archive, say) is dropped too.

var errMalformed = errors.New("media: malformed image structure")

// stripJPEG drops APP1–APP15 segments (EXIF, XMP, ICC profiles, IPTC,
// …) and comments, keeping APP0 only when it is JFIF and APP14 only when it
// is Adobe's (its colour transform flag changes how pixels decode).
func stripJPEG(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, 0xD8)
	i := 2
	for {
		if i >= len(b) || b[i] != 0xFF {
			return nil, errMalformed
		}
		for i < len(b) && b[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(b) {
			return nil, errMalformed
		}
		m := b[i]
		i++
		switch {
		case m == 0xD9: // EOI
			return append(out, 0xFF, 0xD9), nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			out = append(out, 0xFF, m)
			continue
		case m == 0x00 || m == 0xD8:
			return nil, errMalformed
		}
		if i+2 > len(b) {
			return nil, errMalformed
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || i+n > len(b) {
			return nil, errMalformed
		}
		seg := b[i : i+n] // length bytes and payload
		i += n
		if keepJPEGSegment(m, seg[2:]) {
			out = append(out, 0xFF, m)
			out = append(out, seg...)
		}
		if m != 0xDA { // SOS: entropy-coded data follows
			continue
		}
		j := i
		for j < len(b) {
			if b[j] != 0xFF || j+1 >= len(b) {
				j++
				continue
			}
			if next := b[j+1]; next == 0x00 || (next >= 0xD0 && next <= 0xD7) {
				j += 2 // a stuffed 0xFF or a restart marker
				continue
			}
			break
		}
		out = append(out, b[i:j]...)
		i = j
	}
}

func keepJPEGSegment(m byte, payload []byte) bool {
	switch {
	case m == 0xE0:
		return bytes.HasPrefix(payload, []byte("JFIF\x00"))
	case m == 0xEE:
		return bytes.HasPrefix(payload, []byte("Adobe"))
	case m >= 0xE1 && m <= 0xEF, m == 0xFE: // APPn, COM
		return false
	}
	return true
}

// pngKept are the chunks that decoding or colour needs; text (tEXt, zTXt,
// iTXt), EXIF (eXIf), ICC profiles (iCCP), times and animation (APNG's
// frames: the default image stays) go.
var pngKept = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true, "tRNS": true,
	"gAMA": true, "cHRM": true, "sRGB": true, "sBIT": true, "bKGD": true, "pHYs": true,
}

func stripPNG(b []byte) ([]byte, error) {
	const sig = 8
	out := make([]byte, 0, len(b))
	out = append(out, b[:sig]...)
	for i := sig; ; {
		if i+12 > len(b) {
			return nil, errMalformed
		}
		n := binary.BigEndian.Uint32(b[i:])
		if n > uint32(len(b)-i-12) {
			return nil, errMalformed
		}
		end := i + 12 + int(n) // length, type, data, CRC
		typ := string(b[i+4 : i+8])
		if pngKept[typ] {
			out = append(out, b[i:end]...)
		}
		if typ == "IEND" {
			return out, nil
		}
		i = end
	}
}

// webpKept are the RIFF chunks of the image itself; EXIF, XMP and ICCP go,
// and VP8X's flags stop announcing them.
var webpKept = map[string]bool{"VP8 ": true, "VP8L": true, "VP8X": true, "ALPH": true, "ANIM": true, "ANMF": true}

const (
	vp8xICC  = 0x20
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

func stripWebP(b []byte) ([]byte, error) {
	size := binary.LittleEndian.Uint32(b[4:8])
	if size < 4 || size > uint32(len(b)-8) {
		return nil, errMalformed
	}
	body := b[12 : 8+size] // after "WEBP"; anything past the RIFF goes
	out := make([]byte, 12, len(b))
	copy(out, "RIFF\x00\x00\x00\x00WEBP")
	for i := 0; i < len(body); {
		if i+8 > len(body) {
			return nil, errMalformed
		}
		n := binary.LittleEndian.Uint32(body[i+4:])
		padded := uint64(n) + uint64(n&1)
		if uint64(i)+8+padded > uint64(len(body)) {
			return nil, errMalformed
		}
		end := i + 8 + int(padded)
		typ := string(body[i : i+4])
		if webpKept[typ] {
			start := len(out)
			out = append(out, body[i:end]...)
			if typ == "VP8X" && n > 0 {
				out[start+8] &^= vp8xICC | vp8xEXIF | vp8xXMP
			}
		}
		i = end
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}
