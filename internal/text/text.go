// Package text is the mall's one rule for short text that people type and
// others read: names, titles, addresses. Such text may not hide or reorder
// what it shows, so it refuses every character of the Unicode general
// categories
//
//	Cc  controls (NUL, tab, newline, escape, U+0080–U+009F)
//	Cf  format characters: bidi embeddings, overrides and isolates
//	    (U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200D,
//	    U+2060), the byte-order mark U+FEFF, soft hyphen, tags
//	Co  private use (glyphs that mean whatever a font says)
//	Cs  surrogates (never valid on their own)
//	Zl  the line separator U+2028
//	Zp  the paragraph separator U+2029
//
// and text that is not valid UTF-8. Space around the text is trimmed; space
// inside it (including U+3000, the ideographic space) is kept.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"unionmall/internal/apperr"
)

// hidden are the categories refused: see the package comment.
var hidden = []*unicode.RangeTable{unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp}

// Clean trims the space around s and checks it: 1 to max characters
// (runes), valid UTF-8, none of the refused categories. Its error is
// BAD_USER_INPUT naming field.
func Clean(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", apperr.BadInput(field, "%s is not valid UTF-8 text", field)
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n == 0 || n > max {
		return "", apperr.BadInput(field, "%s must have 1 to %d characters", field, max)
	}
	for _, r := range s {
		if unicode.In(r, hidden...) {
			return "", apperr.BadInput(field, "%s may not contain control, formatting or invisible characters (U+%04X)", field, r)
		}
	}
	return s, nil
}
