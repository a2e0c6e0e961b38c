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
	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/predicate"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
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

// Named selects the order that the buyer's key names (at most one: the
// unique index).
func Named(buyer gid.ID, key string) predicate.Order {
	return order.And(order.BuyerID(buyer), order.IdempotencyKey(key))
}

// SameMutation reports whether an order bought in the flash sale made
// (nil: placed by placeOrder) can answer a request for the flash sale
// asked (nil: a placeOrder). A key never answers both mutations, nor two
// sales.
func SameMutation(made, asked *gid.ID) bool {
	return (made == nil) == (asked == nil) && (made == nil || *made == *asked)
}

// Answer is the reply to a request for the flash sale sale (nil: a
// placeOrder) whose key already names o: o when o was made by the same
// mutation and same says the rest of the request matches it, otherwise
// ErrOtherRequest.
func Answer(o *ent.Order, sale *gid.ID, same bool) (*ent.Order, error) {
	if !SameMutation(o.FlashSaleID, sale) || !same {
		return nil, ErrOtherRequest
	}
	return o, nil
}
