package orders

import (
	"strings"
	"time"

	"unionmall/ent/member"
	"unionmall/ent/order"
	"unionmall/ent/predicate"
	"unionmall/internal/apperr"
	"unionmall/internal/mask"
	"unionmall/internal/ordernum"
)

// Search is ADMIN's order search (customer service): every filter given
// must hold. Each is served by an index: the number's unique one, the
// buyer's phone through members' unique phone and orders' (buyer_id,
// created_at), the time range through created_at or (status,
// created_at).
type Search struct {
	Status *order.Status
	// Number is exactly an order's number.
	Number *string
	// BuyerPhone is exactly the buyer's phone, as members keep it (in
	// full: it is their sign-in name).
	BuyerPhone *string
	// PlacedAfter and PlacedBefore bound createdAt as [after, before).
	PlacedAfter, PlacedBefore *time.Time
}

// Where is the search as predicates, or BAD_USER_INPUT naming every bad
// filter (a number or a phone that cannot be one, a range that is empty:
// after not before before): a typo answers with a code, not an empty page.
func (s Search) Where() ([]predicate.Order, error) {
	var ps []predicate.Order
	var bad apperr.Problems
	if s.Status != nil {
		ps = append(ps, order.StatusEQ(*s.Status))
	}
	if s.Number != nil {
		n := strings.TrimSpace(*s.Number)
		if !ordernum.Valid(n) {
			bad.Add(apperr.BadInput("number", "an order number is 24 digits"))
		}
		ps = append(ps, order.Number(n))
	}
	if s.BuyerPhone != nil {
		p := strings.TrimSpace(*s.BuyerPhone)
		if !mask.ValidPhone(p) {
			bad.Add(apperr.BadInput("buyerPhone", "the phone must be an 11-digit mainland mobile number starting with 1"))
		}
		ps = append(ps, order.HasBuyerWith(member.Phone(p)))
	}
	if s.PlacedAfter != nil {
		ps = append(ps, order.CreatedAtGTE(s.PlacedAfter.UTC()))
	}
	if s.PlacedBefore != nil {
		ps = append(ps, order.CreatedAtLT(s.PlacedBefore.UTC()))
	}
	if s.PlacedAfter != nil && s.PlacedBefore != nil && !s.PlacedAfter.Before(*s.PlacedBefore) {
		bad.Add(apperr.BadInput("placedBefore", "placedBefore must be later than placedAfter"))
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	return ps, nil
}
