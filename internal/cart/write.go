package cart

import (
	"context"
	"fmt"

	"unionmall/ent"
	"unionmall/ent/cartline"
	"unionmall/ent/product"
	"unionmall/internal/apperr"
	"unionmall/internal/catalog"
	"unionmall/internal/gid"
	"unionmall/internal/orders"
	"unionmall/internal/pricing"
)

// MaxLines bounds a cart: one order's worth, so a full cart is one order.
const MaxLines = orders.MaxLines

// Add adds q units of the product to the member's cart in one upsert that
// increments the line (never read-modify-write: two adds at once both
// count). The line's quantity stays within pricing's bounds and the cart
// within MaxLines (BAD_USER_INPUT beyond, nothing written); an unknown or
// off-sale product is PRODUCT_UNAVAILABLE.
func (s *Service) Add(ctx context.Context, member, productID gid.ID, q int) (*Cart, error) {
	if err := pricing.CheckQuantity(q); err != nil {
		return nil, err
	}
	return s.put(ctx, member, productID, q, true)
}

// Set sets the line's quantity (adding the line if needed, bounded as Add);
// 0 removes it.
func (s *Service) Set(ctx context.Context, member, productID gid.ID, q int) (*Cart, error) {
	if q == 0 {
		return s.Remove(ctx, member, productID)
	}
	if err := pricing.CheckQuantity(q); err != nil {
		return nil, err
	}
	return s.put(ctx, member, productID, q, false)
}

// Remove removes the product's line, if the cart has one.
func (s *Service) Remove(ctx context.Context, member, productID gid.ID) (*Cart, error) {
	if _, err := s.db.Client.CartLine.Delete().
		Where(cartline.MemberID(member), cartline.ProductID(productID)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("remove from cart: %w", err)
	}
	return s.Get(ctx, member)
}

// Clear removes every line of the member's cart.
func (s *Service) Clear(ctx context.Context, member gid.ID) (*Cart, error) {
	if _, err := s.db.Client.CartLine.Delete().Where(cartline.MemberID(member)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("clear cart: %w", err)
	}
	return s.Get(ctx, member)
}

var (
	errTooMany  = apperr.BadInput("quantity", "a cart line holds at most %d units", pricing.MaxQuantity)
	errTooLarge = apperr.BadInput("productID", "a cart holds at most %d products", MaxLines)
)

// put writes the line: q more units (add) or exactly q.
func (s *Service) put(ctx context.Context, member, productID gid.ID, q int, add bool) (*Cart, error) {
	p, err := s.db.Client.Product.Query().Where(product.ID(productID)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("add to cart: %w", err)
	}
	if err := catalog.Orderable(p); err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		// The member's row lock serializes their cart writes on PostgreSQL
		// (SQLite's transactions are serial already), so the count below
		// sees every line committed before: two adds of new products at
		// once cannot both pass MaxLines. NO KEY UPDATE leaves the key
		// share that inserting an order (or a line) takes compatible.
		if s.db.Postgres() {
			if _, err := tx.ExecContext(ctx, `SELECT id FROM members WHERE id = $1 FOR NO KEY UPDATE`, member); err != nil {
				return err
			}
		}
		n, err := s.upsert(ctx, tx, member, productID, q, add)
		if err != nil {
			return err
		}
		if n == 0 {
			return errTooMany
		}
		lines, err := tx.CartLine.Query().Where(cartline.MemberID(member)).Count(ctx)
		if err != nil {
			return err
		}
		if lines > MaxLines {
			return errTooLarge
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("add to cart: %w", err)
	}
	return s.Get(ctx, member)
}

// upsert inserts the line or, when the member has one for the product,
// adds q to it (add) or sets it to q; an add is conditional on the sum
// staying within bounds, so it writes nothing (0 rows) when it would not.
// The CHECK on quantity is the guard behind it.
func (s *Service) upsert(ctx context.Context, tx *ent.Tx, member, productID gid.ID, q int, add bool) (int64, error) {
	set := `quantity = excluded.quantity, updated_at = excluded.updated_at`
	if add {
		set = fmt.Sprintf(`quantity = cart_lines.quantity + excluded.quantity, updated_at = excluded.updated_at
			WHERE cart_lines.quantity + excluded.quantity <= %d`, pricing.MaxQuantity)
	}
	now := s.now()
	res, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO cart_lines (id, member_id, product_id, quantity, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (member_id, product_id) DO UPDATE SET `+set),
		gid.New(gid.CartLine), member, productID, q, now, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
