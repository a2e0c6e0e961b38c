package ordernum

import (
	"errors"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	now := time.Date(2026, 11, 9, 2, 30, 1, 0, time.UTC) // 10:30:01 in Shanghai
	seen := map[string]bool{}
	for range 10000 {
		n := New(now)
		if len(n) != 24 || n[:14] != "20261109103001" {
			t.Fatalf("number %q", n)
		}
		for _, c := range n {
			if c < '0' || c > '9' {
				t.Fatalf("number %q has a non-digit", n)
			}
		}
		if seen[n] {
			t.Fatalf("10,000 numbers in one second clashed: %s", n)
		}
		seen[n] = true
	}
}

func TestClash(t *testing.T) {
	for err, want := range map[error]bool{
		errors.New(`pq: duplicate key value violates unique constraint "orders_number_key"`):              true,
		errors.New("constraint failed: UNIQUE constraint failed: orders.number (2067)"):                   true,
		errors.New(`pq: duplicate key value violates unique constraint "order_buyer_id_idempotency_key"`): false,
		nil: false,
	} {
		if Clash(err) != want {
			t.Errorf("Clash(%v) = %v", err, want)
		}
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		New(time.Now()):             true,
		"202611091030011234567890":  true,
		"20261109103001123456789":   false, // 23 digits
		"2026110910300112345678901": false,
		"20261109103001123456789x":  false,
		"２０２６１１０９１０３００１１２３４５６７８９０": false, // full-width digits
		"": false,
	} {
		if Valid(s) != want {
			t.Errorf("Valid(%q) = %v", s, !want)
		}
	}
}
