package idcard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"unionmall/internal/apperr"
)

// withCheck appends the GB 11643-1999 check character to 17 digits. It is
// written out again here, apart from the package's own code, so the tests do
// not simply agree with themselves.
func withCheck(first17 string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range first17 {
		sum += int(c-'0') * w[i]
	}
	return first17 + string("10X98765432"[sum%11])
}

// wrongCheck returns the number with a check character that is not the right one.
func wrongCheck(valid string) string {
	last := valid[17]
	for _, c := range "0123456789X" {
		if byte(c) != last {
			return valid[:17] + string(c)
		}
	}
	panic("unreachable")
}

// withCheckX finds a sequence number that makes the check character X.
func withCheckX(first14 string) string {
	for seq := 0; seq < 1000; seq++ {
		n := withCheck(first14 + string(rune('0'+seq/100)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10)))
		if n[17] == 'X' {
			return n
		}
	}
	panic("no sequence number gives X")
}

// fixedNow is 2024-06-15 12:00 in UTC+8.
var fixedNow = time.Date(2024, 6, 15, 4, 0, 0, 0, time.UTC)

var (
	numX     = withCheckX("61010219900307")   // check digit X
	numDigit = withCheck("44030819990101001") // an ordinary one
	numGB    = "11010519491231002X"           // GB 11643-1999's example
	numToday = withCheck("11010520240615001") // born on fixedNow's day
	num1900  = withCheck("11010519000101001") // first day accepted
	numLeap  = withCheck("11010520000229001") // 2000 is a leap year (÷400)
	numLeap2 = withCheck("11010520240229001") // 2024 is a leap year (÷4)
	numDec31 = withCheck("11010519991231001") // last day of a year
	numNine  = withCheck("91010519991231001") // first digit 9
	numBad   = wrongCheck(numDigit)           // wrong check digit
	numZero  = withCheck("01010519491231002") // leading 0, else valid
	numFeb30 = withCheck("11010520000230001") // Feb 30
	numF1900 = withCheck("11010519000229001") // 1900 is not leap (÷100)
	numF2023 = withCheck("11010520230229001") // 2023 is not leap
	numM13   = withCheck("11010520001301001") // month 13
	numM00   = withCheck("11010520000001001") // month 0
	numD00   = withCheck("11010520000100001") // day 0
	numD32   = withCheck("11010520000132001") // day 32
	numApr31 = withCheck("11010520000431001") // April has 30 days
	numFutur = withCheck("11010520240616001") // the day after fixedNow
	numFarFu = withCheck("11010530000101001") // year 3000
	num1899  = withCheck("11010518991231001") // the day before 1900
	num0000  = withCheck("11010500000101001") // year 0
)

var cases = []struct {
	name string
	in   string
	want string // normalized; "" when refused
	msg  string // the refusal's message, naming the rule
}{
	{"valid with a digit check", numDigit, numDigit, ""},
	{"valid with X check", numX, numX, ""},
	{"valid with lowercase x", strings.ToLower(numX), numX, ""},
	{"GB example", numGB, numGB, ""},
	{"GB example lowercase x", "11010519491231002x", numGB, ""},
	{"spaces trimmed", "  " + numDigit + " \t\n", numDigit, ""},
	{"spaces trimmed before lowercase x", " " + strings.ToLower(numX) + " ", numX, ""},
	{"born today", numToday, numToday, ""},
	{"born 1900-01-01", num1900, num1900, ""},
	{"Feb 29 of 2000", numLeap, numLeap, ""},
	{"Feb 29 of 2024", numLeap2, numLeap2, ""},
	{"Dec 31", numDec31, numDec31, ""},
	{"first digit 9", numNine, numNine, ""},

	{"wrong check digit", numBad, "", msgCheck},
	{"X where a digit belongs", numDigit[:17] + "X", "", msgCheck},
	{"empty", "", "", msgLength},
	{"spaces only", "   ", "", msgLength},
	{"17 characters", numDigit[:17], "", msgLength},
	{"19 characters", numDigit + "0", "", msgLength},
	{"19 characters ending in x", numDigit[:17] + "0x", "", msgLength},
	{"inner space", numDigit[:9] + " " + numDigit[10:], "", msgDigits},
	{"letter inside", numDigit[:5] + "A" + numDigit[6:], "", msgDigits},
	{"x inside", numDigit[:10] + "x" + numDigit[11:], "", msgDigits},
	{"X inside", numDigit[:16] + "X" + numDigit[17:], "", msgDigits},
	{"sign", "+" + numDigit[1:], "", msgDigits},
	{"full-width digit", "１" + numDigit[1:], "", msgDigits},
	{"full-width digit, 17 characters", "１" + numDigit[2:], "", msgLength},
	{"last a letter", numDigit[:17] + "Y", "", msgLast},
	{"last a lowercase letter", numDigit[:17] + "y", "", msgLast},
	{"leading 0", numZero, "", msgLeadingZero},
	{"Feb 30", numFeb30, "", msgDate},
	{"Feb 29 of 1900", numF1900, "", msgDate},
	{"Feb 29 of 2023", numF2023, "", msgDate},
	{"month 13", numM13, "", msgDate},
	{"month 0", numM00, "", msgDate},
	{"day 0", numD00, "", msgDate},
	{"day 32", numD32, "", msgDate},
	{"April 31", numApr31, "", msgDate},
	{"born tomorrow", numFutur, "", msgFuture},
	{"born in 3000", numFarFu, "", msgFuture},
	{"born 1899-12-31", num1899, "", msgBefore1900},
	{"born in year 0", num0000, "", msgBefore1900},
}

func TestNormalizeAt(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NormalizeAt(c.in, fixedNow)
			if c.want != "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got != c.want {
					t.Fatalf("got %q, want %q", got, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted as %q", got)
			}
			if got != "" {
				t.Errorf("refusal returned %q too", got)
			}
			checkRefusal(t, c.in, err)
			if err.Error() != c.msg {
				t.Errorf("message %q, want %q", err.Error(), c.msg)
			}
		})
	}
}

// checkRefusal asserts err is BAD_USER_INPUT on idNumber and quotes nothing
// of the input.
func checkRefusal(t *testing.T, in string, err error) {
	t.Helper()
	if code := apperr.CodeOf(err); code != apperr.BadUserInput {
		t.Errorf("code %s, want %s", code, apperr.BadUserInput)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Field != "idNumber" {
		t.Errorf("field: %#v", err)
	}
	msg := err.Error()
	trimmed := strings.TrimSpace(in)
	if trimmed != "" && (strings.Contains(msg, in) || strings.Contains(msg, trimmed)) {
		t.Errorf("message %q contains the input", msg)
	}
	if len(trimmed) >= 14 {
		for _, part := range []string{trimmed[:6], trimmed[6:14]} { // region, birth date
			if strings.Contains(msg, part) {
				t.Errorf("message %q contains %q of the input", msg, part)
			}
		}
	}
}

func TestNormalizeDayInUTC8(t *testing.T) {
	// 2024-06-15 17:00 UTC is already 2024-06-16 01:00 in UTC+8.
	late := time.Date(2024, 6, 15, 17, 0, 0, 0, time.UTC)
	if _, err := NormalizeAt(numFutur, late); err != nil {
		t.Errorf("born on the UTC+8 day: %v", err)
	}
	// 2024-06-15 15:59 UTC is still 2024-06-15 23:59 in UTC+8.
	early := time.Date(2024, 6, 15, 15, 59, 0, 0, time.UTC)
	if _, err := NormalizeAt(numFutur, early); err == nil || err.Error() != msgFuture {
		t.Errorf("born on the next UTC+8 day: %v", err)
	}
}

func TestNormalizeUsesTheClock(t *testing.T) {
	if got, err := Normalize(numDigit); err != nil || got != numDigit {
		t.Errorf("Normalize(valid) = %q, %v", got, err)
	}
	// Tomorrow, wherever the test runs.
	d := time.Now().In(time.FixedZone("", 8*3600)).AddDate(0, 0, 1).Format("20060102")
	future := withCheck("110105" + d + "001")
	if _, err := Normalize(future); err == nil || err.Error() != msgFuture {
		t.Errorf("born tomorrow: %v", err)
	}
}

func TestDigest(t *testing.T) {
	k := NewKeyer([]byte("secret one"))
	d := k.Digest(numX)
	if len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
		t.Fatalf("digest %q is not 64 lowercase hex digits", d)
	}
	if again := k.Digest(numX); again != d {
		t.Errorf("same key, same input, different digest: %q %q", d, again)
	}
	if again := NewKeyer([]byte("secret one")).Digest(numX); again != d {
		t.Errorf("an equal key gives a different digest: %q %q", d, again)
	}
	if other := NewKeyer([]byte("secret two")).Digest(numX); other == d {
		t.Error("a different key gives the same digest")
	}
	if other := k.Digest(numDigit); other == d {
		t.Error("different numbers give the same digest")
	}
	plain := sha256.Sum256([]byte(numX))
	if d == hex.EncodeToString(plain[:]) {
		t.Error("the digest is the plain SHA-256")
	}
	m := hmac.New(sha256.New, []byte("secret one"))
	m.Write([]byte(numX))
	if want := hex.EncodeToString(m.Sum(nil)); d != want {
		t.Errorf("digest %q, want HMAC-SHA256 %q", d, want)
	}
	if strings.Contains(d, numX) {
		t.Error("the digest contains the number")
	}
}

func TestKeyerCopiesSecret(t *testing.T) {
	secret := []byte("secret one")
	k := NewKeyer(secret)
	before := k.Digest(numX)
	secret[0] = 'S'
	if after := k.Digest(numX); after != before {
		t.Error("changing the caller's slice changed the key")
	}
}

func TestNewKeyerEmptySecretPanics(t *testing.T) {
	for _, secret := range [][]byte{nil, {}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewKeyer(%#v) did not panic", secret)
				}
			}()
			NewKeyer(secret)
		}()
	}
}

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"61010219900307018X", "61**************8X"},
		{numGB, "11**************2X"},
		{"440308199901010012", "44**************12"},
		{"", ""},
		{"1", "*"},
		{"12345678901234567", strings.Repeat("*", 17)},
		{"1234567890123456789", strings.Repeat("*", 19)},
		{"张三", "**"},
		{"１" + numDigit[1:], strings.Repeat("*", 18)}, // 18 characters, not 18 bytes
	} {
		if got := Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, c := range cases {
		f.Add(c.in)
	}
	msgs := map[string]bool{
		msgLength: true, msgDigits: true, msgLast: true, msgLeadingZero: true,
		msgDate: true, msgBefore1900: true, msgFuture: true, msgCheck: true,
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Normalize(s)
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("code %s", apperr.CodeOf(err))
			}
			// Fixed words only, so nothing of the input can leak.
			if !msgs[err.Error()] {
				t.Fatalf("message %q is not one of the fixed ones", err.Error())
			}
			if out != "" {
				t.Fatalf("refusal returned %q too", out)
			}
			return
		}
		if len(out) != Length {
			t.Fatalf("accepted %q as %q, not 18 characters", s, out)
		}
		again, err := Normalize(out)
		if err != nil || again != out {
			t.Fatalf("Normalize(%q) = %q, %v; not stable", out, again, err)
		}
		if m := Mask(out); len(m) != Length || m[:2] != out[:2] || m[16:] != out[16:] {
			t.Fatalf("Mask(%q) = %q", out, m)
		}
	})
}
