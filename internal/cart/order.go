package cart

import (
	"context"
	"fmt"

	"unionmall/ent"
	"unionmall/ent/cartline"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/orders"
)

// The cart as placeOrder fromCart orders it: *Service is an orders.Cart.
var _ orders.Cart = (*Service)(nil)

// Lines are the member's cart lines to order: BAD_USER_INPUT for an empty
// cart, and a line with a problem refuses the whole cart with that line's
// code (PRODUCT_UNAVAILABLE, OUT_OF_STOCK). The order's transaction checks
// the same again under its row locks.
func (s *Service) Lines(ctx context.Context, member gid.ID) ([]orders.Line, error) {
	c, err := s.Get(ctx, member)
	if err != nil {
		return nil, err
	}
	if len(c.Lines) == 0 {
		return nil, apperr.BadInput("fromCart", "the cart is empty")
	}
	out := make([]orders.Line, len(c.Lines))
	for i, l := range c.Lines {
		if l.Problem != nil {
			return nil, l.Problem.Refusal()
		}
		out[i] = orders.Line{ProductID: l.Product.ID, Quantity: l.Quantity}
	}
	return out, nil
}

// Ordered takes the ordered quantities out of the cart inside the order's
// transaction: a line of at most the quantity ordered goes, a line that
// grew meanwhile (an add on another request) keeps the difference. Delete
// first, then decrement: each statement decides on the row's latest
// committed quantity, so an add that commits between them is not lost.
func (s *Service) Ordered(ctx context.Context, tx *ent.Tx, member gid.ID, lines []orders.Line) error {
	for _, l := range lines {
		line := cartline.And(cartline.MemberID(member), cartline.ProductID(l.ProductID))
		if _, err := tx.CartLine.Delete().Where(line, cartline.QuantityLTE(l.Quantity)).Exec(ctx); err != nil {
			return fmt.Errorf("take ordered lines out of the cart: %w", err)
		}
		if _, err := tx.CartLine.Update().Where(line, cartline.QuantityGT(l.Quantity)).
			AddQuantity(-l.Quantity).SetUpdatedAt(s.now()).Save(ctx); err != nil {
			return fmt.Errorf("take ordered lines out of the cart: %w", err)
		}
	}
	return nil
}
