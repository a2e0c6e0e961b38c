// Package money keeps amounts of yuan as int64 fen (1 yuan = 100 fen) and is
// the only place that parses, formats or scales them. No floats.
package money

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"unionmall/internal/apperr"
)

// Fen is an amount in fen, the smallest unit of the yuan.
type Fen int64

// Yuan is one yuan in fen.
const Yuan Fen = 100

// Max is the largest amount the mall accepts: 10^12 yuan.
const Max Fen = 1_000_000_000_000 * Yuan

// FromYuan returns whole yuan as fen.
func FromYuan(y int64) Fen { return Fen(y) * Yuan }

// Parse reads a decimal string of yuan with at most two fraction digits:
// "1", "1.5" and "1.50" are all 150 fen. Leading zeros ("01"), signs,
// exponents, a bare "." and amounts above Max are refused.
func Parse(s string) (Fen, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" {
		return 0, apperr.BadInput("", "%q is not an amount of money: digits are needed before the point", s)
	}
	if hasDot && (frac == "" || len(frac) > 2) {
		return 0, apperr.BadInput("", "%q is not an amount of money: one or two digits are needed after the point", s)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, apperr.BadInput("", "%q is not an amount of money: no leading zeros", s)
	}
	if len(intPart) > 13 {
		return 0, apperr.BadInput("", "%q is not an amount of money: above the largest amount", s)
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return 0, apperr.BadInput("", "%q is not an amount of money: only digits and one point are allowed", s)
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, apperr.BadInput("", "%q is not an amount of money: not a number", s)
	}
	var cents int64
	if frac != "" {
		cents, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			cents *= 10
		}
	}
	f := Fen(whole)*Yuan + Fen(cents)
	if f > Max {
		return 0, apperr.BadInput("", "%q is not an amount of money: above the largest amount", s)
	}
	return f, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the amount as yuan with exactly two fraction digits.
func (f Fen) String() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Times returns f multiplied by a count (a quantity of units, say).
func (f Fen) Times(n int) Fen { return f * Fen(n) }

// Share returns f × num/den rounded half up to the fen, for discounts given
// as a share: Share(price, 75, 100) is 7.5折. It panics on den <= 0.
func (f Fen) Share(num, den int64) Fen {
	if den <= 0 {
		panic("money: share with a non-positive denominator")
	}
	p := int64(f) * num
	q, r := p/den, p%den
	if r < 0 {
		r = -r
	}
	if 2*r >= den {
		if p < 0 {
			q--
		} else {
			q++
		}
	}
	return Fen(q)
}

// Min returns the smaller amount.
func Min(a, b Fen) Fen {
	if a < b {
		return a
	}
	return b
}

// MarshalGQL writes the amount as a JSON string of yuan.
func (f Fen) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(f.String())) }

// UnmarshalGQL accepts only a JSON string (never a JSON number, whose float
// decoding could change the amount).
func (f *Fen) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return apperr.BadInput("", "money must be a string of yuan such as \"12.50\", not %T", v)
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*f = p
	return nil
}
