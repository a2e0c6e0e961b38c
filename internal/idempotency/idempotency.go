// Package idempotency holds the rule of the idempotency keys that
// placeOrder and buyFlashSale take: a key names one request of one buyer.
// Sending it again returns the order the first request made; using it for
// a different request (another flash sale, a placeOrder after a
// buyFlashSale, other lines) is refused with BAD_USER_INPUT and changes
// nothing. The database holds the rule across instances: orders have a
// unique index on (buyer_id, idempotency_key), so of two requests with one
// key only one order is ever written.
package idempotency

import (
	"unionmall/internal/apperr"
)

// MaxLength bounds a key.
const MaxLength = 100

// Check refuses a key that is empty or too long; nil means no key.
func Check(key *string) error {
	if key != nil && (*key == "" || len(*key) > MaxLength) {
		return apperr.BadInput("idempotencyKey", "an idempotency key has 1 to %d characters", MaxLength)
	}
	return nil
}

// ErrOtherRequest refuses a key that already names a different request.
var ErrOtherRequest = apperr.BadInput("idempotencyKey",
	"this idempotency key was used for a different request; use a new key for a new request")
