package text

import (
	"errors"
	"strings"
	"testing"

	"unionmall/internal/apperr"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
		max            int
		refused        bool
	}{
		{name: "plain", in: "张三", want: "张三", max: 10},
		{name: "space around is trimmed", in: " \t 陕西省咸阳市 \n", want: "陕西省咸阳市", max: 10},
		{name: "ideographic space around is trimmed", in: "\u3000李四\u3000", want: "李四", max: 10},
		{name: "space inside is kept", in: "Wang  Wu\u3000先生", want: "Wang  Wu\u3000先生", max: 20},
		{name: "combining marks and emoji stay", in: "Zoë 🍵\uFE0F", want: "Zoë 🍵\uFE0F", max: 10},
		{name: "exactly max", in: strings.Repeat("茶", 5), want: strings.Repeat("茶", 5), max: 5},

		{name: "empty", in: "", max: 10, refused: true},
		{name: "only space", in: " \u3000\t", max: 10, refused: true},
		{name: "too long", in: strings.Repeat("茶", 6), max: 5, refused: true},
		{name: "invalid UTF-8", in: "张\xff三", max: 10, refused: true},

		// Bidi embeddings, overrides and isolates (Cf).
		{name: "LRE U+202A", in: "a\u202Ab", max: 10, refused: true},
		{name: "RLE U+202B", in: "a\u202Bb", max: 10, refused: true},
		{name: "PDF U+202C", in: "a\u202Cb", max: 10, refused: true},
		{name: "LRO U+202D", in: "a\u202Db", max: 10, refused: true},
		{name: "RLO U+202E", in: "admin\u202Egpj.exe", max: 20, refused: true},
		{name: "LRI U+2066", in: "a\u2066b", max: 10, refused: true},
		{name: "RLI U+2067", in: "a\u2067b", max: 10, refused: true},
		{name: "FSI U+2068", in: "a\u2068b", max: 10, refused: true},
		{name: "PDI U+2069", in: "a\u2069b", max: 10, refused: true},
		{name: "RLM U+200F", in: "a\u200Fb", max: 10, refused: true},
		// Zero-width characters (Cf).
		{name: "ZWSP U+200B", in: "管\u200B理员", max: 10, refused: true},
		{name: "ZWNJ U+200C", in: "a\u200Cb", max: 10, refused: true},
		{name: "ZWJ U+200D", in: "a\u200Db", max: 10, refused: true},
		{name: "word joiner U+2060", in: "a\u2060b", max: 10, refused: true},
		{name: "BOM U+FEFF inside", in: "a\uFEFFb", max: 10, refused: true},
		{name: "BOM U+FEFF leading (no space)", in: "\uFEFF张三", max: 10, refused: true},
		{name: "soft hyphen U+00AD", in: "a\u00ADb", max: 10, refused: true},
		{name: "tag character U+E0041", in: "a\U000E0041b", max: 10, refused: true},
		// Controls (Cc).
		{name: "NUL", in: "a\x00b", max: 10, refused: true},
		{name: "newline inside", in: "第一行\n第二行", max: 10, refused: true},
		{name: "tab inside", in: "a\tb", max: 10, refused: true},
		{name: "escape", in: "a\x1b[31mb", max: 10, refused: true},
		{name: "DEL", in: "a\x7fb", max: 10, refused: true},
		{name: "C1 control U+009B", in: "a\u009Bb", max: 10, refused: true},
		// Private use (Co), separators (Zl, Zp).
		{name: "private use U+E000", in: "a\uE000b", max: 10, refused: true},
		{name: "line separator U+2028 inside", in: "a\u2028b", max: 10, refused: true},
		{name: "paragraph separator U+2029 inside", in: "a\u2029b", max: 10, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Clean("recipient", tt.in, tt.max)
			if tt.refused {
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != "recipient" || got != "" {
					t.Fatalf("Clean(%+q) = %+q, %v; want BAD_USER_INPUT on recipient", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Clean(%+q) = %+q, %v; want %+q", tt.in, got, err, tt.want)
			}
		})
	}
}
