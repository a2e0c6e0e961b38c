package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"unionmall/internal/apperr"
)

var parseOK = []struct {
	in   string
	want Fen
}{
	{"1", 100},
	{"1.5", 150},
	{"1.50", 150},
	{"1.05", 105},
	{"0", 0},
	{"0.0", 0},
	{"0.00", 0},
	{"0.01", 1},
	{"0.1", 10},
	{"10", 1000},
	{"99.99", 9999},
	{"70272000.00", 7027200000},
	{"999999999999.99", Max - 1},
	{"1000000000000", Max}, // 10^12 yuan, the largest amount
	{"1000000000000.00", Max},
}

var parseBad = []string{
	"1000000000000.01", // past Max
	"1000000000001",
	"9999999999999",
	"10000000000000", // 14 integer digits
	"99999999999999999999999",
	"01.00",
	"01",
	"00",
	"00.5",
	"+1",
	"-1",
	"-0",
	"1e2",
	"1E2",
	"1.234",
	"1.000",
	"",
	".5",
	".",
	"1.",
	"abc",
	" 1",
	"1 ",
	"１", // full-width digit
	"1,000",
	"1.5.0",
	"1..5",
	"0x10",
	"NaN",
	"Inf",
	"1.-5",
	"1.+5",
	"¥1",
}

func TestParse(t *testing.T) {
	for _, c := range parseOK {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q) = %d fen, want %d", c.in, got, c.want)
		}
	}
	for _, in := range parseBad {
		got, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %d fen, want a refusal", in, got)
			continue
		}
		if apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("Parse(%q): code %s, want %s", in, apperr.CodeOf(err), apperr.BadUserInput)
		}
		if got != 0 {
			t.Errorf("Parse(%q) refused but returned %d", in, got)
		}
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		in   Fen
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{10, "0.10"},
		{99, "0.99"},
		{100, "1.00"},
		{150, "1.50"},
		{7027200000, "70272000.00"},
		{Max, "1000000000000.00"},
		{-1, "-0.01"},
		{-99, "-0.99"},
		{-100, "-1.00"},
		{-150, "-1.50"},
		{-7027200000, "-70272000.00"},
	} {
		if got := c.in.String(); got != c.want {
			t.Errorf("Fen(%d).String() = %q, want %q", int64(c.in), got, c.want)
		}
	}
}

func TestMarshalGQL(t *testing.T) {
	var b bytes.Buffer
	Fen(150).MarshalGQL(&b)
	if b.String() != `"1.50"` {
		t.Errorf("MarshalGQL = %s", b.String())
	}
}

func TestUnmarshalGQL(t *testing.T) {
	var f Fen
	if err := f.UnmarshalGQL("12.5"); err != nil || f != 1250 {
		t.Errorf("UnmarshalGQL(\"12.5\") = %d, %v", f, err)
	}
	for _, v := range []any{
		float64(1), float64(12.5), 1, int64(1), json.Number("1"), json.Number("12.50"),
		nil, true, []byte("1"), "1.234", "01", "",
	} {
		f := Fen(7)
		err := f.UnmarshalGQL(v)
		if err == nil {
			t.Errorf("UnmarshalGQL(%#v) accepted as %d", v, f)
			continue
		}
		if apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("UnmarshalGQL(%#v): code %s", v, apperr.CodeOf(err))
		}
		if f != 7 {
			t.Errorf("UnmarshalGQL(%#v) refused but changed the value to %d", v, f)
		}
	}
}

func TestShare(t *testing.T) {
	for _, c := range []struct {
		f        Fen
		num, den int64
		want     Fen
	}{
		{1999, 75, 100, 1499}, // 1499.25 → 1499
		{1998, 75, 100, 1499}, // 1498.5 → 1499, half up
		{1997, 75, 100, 1498}, // 1497.75 → 1498
		{2000, 75, 100, 1500}, // exact
		{2, 1, 4, 1},          // 0.5 → 1
		{1, 1, 4, 0},          // 0.25 → 0
		{3, 3, 4, 2},          // 2.25 → 2
		{1, 3, 4, 1},          // 0.75 → 1
		{3, 1, 2, 2},          // 1.5 → 2
		{5, 1, 2, 3},          // 2.5 → 3, not to even
		{1, 1, 3, 0},          // 0.33 → 0
		{2, 1, 3, 1},          // 0.67 → 1
		{0, 75, 100, 0},
		{1000, 0, 100, 0},      // free
		{1000, 100, 100, 1000}, // no discount
		{1000, 1, 1, 1000},
		{Max, 75, 100, Max / 4 * 3},
		{-3, 1, 2, -2}, // negative: halves round away from zero, symmetric with positive
		{-1999, 75, 100, -1499},
	} {
		if got := c.f.Share(c.num, c.den); got != c.want {
			t.Errorf("Fen(%d).Share(%d, %d) = %d, want %d", int64(c.f), c.num, c.den, got, c.want)
		}
	}
}

func TestSharePanicsOnNonPositiveDenominator(t *testing.T) {
	for _, den := range []int64{0, -1, -100, math.MinInt64} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Share(1, %d) did not panic", den)
				}
			}()
			Fen(100).Share(1, den)
		}()
	}
}

func TestSmallHelpers(t *testing.T) {
	if FromYuan(3) != 300 {
		t.Error("FromYuan(3)")
	}
	if Fen(150).Times(3) != 450 {
		t.Error("Times")
	}
	if Min(1, 2) != 1 || Min(2, 1) != 1 || Min(-1, 0) != -1 {
		t.Error("Min")
	}
	if Max != FromYuan(1_000_000_000_000) {
		t.Error("Max is not 10^12 yuan")
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range parseOK {
		f.Add(c.in)
	}
	for _, in := range parseBad {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput {
				t.Fatalf("Parse(%q): %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		if v < 0 || v > Max {
			t.Fatalf("Parse(%q) = %d, outside 0..Max", s, v)
		}
		back, err := Parse(v.String())
		if err != nil || back != v {
			t.Fatalf("Parse(%q) = %d; Parse(%q) = %d, %v", s, v, v.String(), back, err)
		}
	})
}
