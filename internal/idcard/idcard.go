// Package idcard checks China's 18-character resident identity number
// (GB 11643-1999) and turns it into the only two forms the mall keeps: a mask
// for people to recognise it by, and a keyed digest that stands for it in
// uniqueness checks. The number itself is never stored, logged or echoed back,
// not even in an error message.
package idcard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"unionmall/internal/apperr"
)

// Length is the number of characters in a resident identity number.
const Length = 18

// field is the GraphQL input field that carries the number.
const field = "idNumber"

// weights are GB 11643-1999's weights of the first 17 digits; the weighted
// sum mod 11 indexes checkDigits.
var weights = [Length - 1]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkDigits = "10X98765432"

// birthZone is the zone whose calendar day decides "not born after today"; the
// contract counts days in Asia/Shanghai (UTC+8, no daylight saving), and a
// fixed zone needs no tzdata on the host.
var birthZone = time.FixedZone("UTC+8", 8*60*60)

// The refusals, one per rule. They are fixed words on purpose: a message
// never quotes the number or any part of it, since messages reach logs and
// client reports.
const (
	msgLength      = "an identity number has exactly 18 characters"
	msgDigits      = "the first 17 characters of an identity number must be digits"
	msgLast        = "the last character of an identity number must be a digit or X"
	msgLeadingZero = "an identity number cannot start with 0"
	msgDate        = "the birth date in the identity number (characters 7 to 14) is not a real date"
	msgBefore1900  = "the birth date in the identity number is before 1900"
	msgFuture      = "the birth date in the identity number is in the future"
	msgCheck       = "the check digit (last character) of the identity number is wrong"
)

// Normalize is NormalizeAt with the current time.
func Normalize(s string) (string, error) { return NormalizeAt(s, time.Now()) }

// NormalizeAt trims spaces, upper-cases a trailing x and checks the number:
// 18 characters, the first 17 digits and the last a digit or X, no leading 0,
// a real birth date from 1900-01-01 up to now's day in UTC+8, and a right
// check digit. It takes the time so that callers and tests can fix the clock.
//
// Every refusal is BAD_USER_INPUT on "idNumber" and says in fixed words which
// rule failed.
func NormalizeAt(s string, now time.Time) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) == Length && s[Length-1] == 'x' {
		s = s[:Length-1] + "X"
	}
	if utf8.RuneCountInString(s) != Length {
		return "", apperr.BadInput(field, msgLength)
	}
	if len(s) != Length { // 18 characters, some not ASCII (full-width digits)
		return "", apperr.BadInput(field, msgDigits)
	}
	for i := 0; i < Length-1; i++ {
		if !isDigit(s[i]) {
			return "", apperr.BadInput(field, msgDigits)
		}
	}
	if last := s[Length-1]; !isDigit(last) && last != 'X' {
		return "", apperr.BadInput(field, msgLast)
	}
	if s[0] == '0' {
		return "", apperr.BadInput(field, msgLeadingZero)
	}
	if err := checkBirth(s[6:14], now); err != nil {
		return "", err
	}
	if s[Length-1] != checkDigit(s[:Length-1]) {
		return "", apperr.BadInput(field, msgCheck)
	}
	return s, nil
}

// checkBirth validates the YYYYMMDD birth date (all digits already).
func checkBirth(d string, now time.Time) error {
	year := atoi(d[0:4])
	month := atoi(d[4:6])
	day := atoi(d[6:8])
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return apperr.BadInput(field, msgDate)
	}
	if year < 1900 {
		return apperr.BadInput(field, msgBefore1900)
	}
	ny, nm, nd := now.In(birthZone).Date()
	if year*10000+month*100+day > ny*10000+int(nm)*100+nd {
		return apperr.BadInput(field, msgFuture)
	}
	return nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// checkDigit computes the check character of the first 17 digits.
func checkDigit(first17 string) byte {
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return checkDigits[sum%11]
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Keyer turns a normalized number into the digest that stands for it. A plain
// hash would not do: region code plus birth date leave so few candidates that
// every number could be recovered by enumeration, so the digest is keyed with
// the server's SECRET_KEY.
type Keyer struct {
	secret []byte
}

// NewKeyer returns a Keyer under secret (copied). It panics on an empty secret,
// which would make the digest as reversible as a plain hash.
func NewKeyer(secret []byte) *Keyer {
	if len(secret) == 0 {
		panic("idcard: empty HMAC secret")
	}
	return &Keyer{secret: append([]byte(nil), secret...)}
}

// Digest returns the hex HMAC-SHA256 of a number as returned by Normalize, so
// that "11...x" and "11...X" give the same digest.
func (k *Keyer) Digest(normalized string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

// Mask keeps the first 2 and the last 2 characters of a normalized number and
// stars the 14 in between ("61**************3X"): enough for its holder to
// recognise it, too little to reveal region or birth date. Anything that is
// not 18 ASCII characters comes back as stars only, one per character.
func Mask(normalized string) string {
	n := utf8.RuneCountInString(normalized)
	if n != Length || len(normalized) != Length {
		return strings.Repeat("*", n)
	}
	return normalized[:2] + strings.Repeat("*", Length-4) + normalized[Length-2:]
}
