// Package ordernum makes order numbers: human-readable, unique by index.
package ordernum

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// New returns the Shanghai date and time to the second followed by ten
// random digits, e.g. 202611091030011234567890. Two orders in one second
// clash with a chance of one in 10^10; at 3000 orders a second that is
// once in about forty minutes, and the writer retries with a new number
// (see Clash), so a clash costs a retry (three tries in all).
func New(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%010d", now.In(shanghai).Format("20060102150405"), binary.BigEndian.Uint64(b[:])%10_000_000_000)
}

// Clash reports whether err is a clash of order numbers on the unique
// index (PostgreSQL's or SQLite's wording).
func Clash(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "orders_number_key") || strings.Contains(s, "orders.number")
}

// Valid reports whether s has the form of a number New makes: 24 digits.
func Valid(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
