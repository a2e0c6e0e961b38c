// Package cart holds a member's cart kept on the server (a line per
// product, flagged when it cannot be ordered as it is, never dropped), the
// quote that prices a cart or given lines with the member's coupons by
// placeOrder's own rules, and the cart as placeOrder fromCart orders it.
// The rules it applies live elsewhere: what may be ordered and at what
// price in catalog, line bounds in orders and pricing, coupons' in coupons.
package cart

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"unionmall/ent"
	"unionmall/ent/cartline"
	"unionmall/internal/apperr"
	"unionmall/internal/catalog"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
)

// Service keeps carts and prices quotes.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// New returns the cart service.
func New(d *db.DB) *Service {
	return &Service{db: d, now: func() time.Time { return time.Now().UTC() }}
}

// Problem is why a line cannot be ordered as it is (GraphQL CartLineProblem).
type Problem string

const (
	OffSale           Problem = "OFF_SALE"
	OutOfStock        Problem = "OUT_OF_STOCK"
	InsufficientStock Problem = "INSUFFICIENT_STOCK"
)

// ProblemOf is the problem of q units of p (nil: none). It asks what
// placeOrder checks: catalog.Orderable, then the stock TakeStock needs.
func ProblemOf(p *ent.Product, q int) *Problem {
	var pr Problem
	switch {
	case catalog.Orderable(p) != nil:
		pr = OffSale
	case p.Stock == 0:
		pr = OutOfStock
	case p.Stock < q:
		pr = InsufficientStock
	default:
		return nil
	}
	return &pr
}

// Refusal is placeOrder's refusal of a line with the problem.
func (p Problem) Refusal() error {
	if p == OffSale {
		return apperr.New(apperr.ProductUnavailable, "a product in the cart is off sale")
	}
	return apperr.New(apperr.OutOfStock, "a product in the cart has too little stock")
}

// MarshalGQL writes the GraphQL enum value.
func (p Problem) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(p))) }

// UnmarshalGQL reads a GraphQL enum value.
func (p *Problem) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	switch Problem(s) {
	case OffSale, OutOfStock, InsufficientStock:
		*p = Problem(s)
		return nil
	}
	return fmt.Errorf("%v is not a valid CartLineProblem", v)
}

// Line is a cart line (ID set) or a quote line, priced now.
type Line struct {
	ID        gid.ID
	Product   *ent.Product
	Quantity  int
	UnitPrice money.Fen
	LineTotal money.Fen
	Problem   *Problem
}

// Cart is a member's cart, priced now.
type Cart struct {
	Lines []*Line
	// Subtotal sums the lines without a problem; ItemCount the quantities
	// of all lines.
	Subtotal  money.Fen
	ItemCount int
	// UpdatedAt is when a line last changed; nil for an empty cart.
	UpdatedAt *time.Time
}

// priced is q units of p, priced and flagged.
func priced(id gid.ID, p *ent.Product, q int) *Line {
	pl := catalog.PriceLine(p, q)
	return &Line{ID: id, Product: p, Quantity: q, UnitPrice: pl.UnitPrice, LineTotal: pl.Total(), Problem: ProblemOf(p, q)}
}

// Get returns the member's cart, oldest line first.
func (s *Service) Get(ctx context.Context, member gid.ID) (*Cart, error) {
	rows, err := s.db.Client.CartLine.Query().
		Where(cartline.MemberID(member)).
		WithProduct().
		Order(ent.Asc(cartline.FieldCreatedAt), ent.Asc(cartline.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read cart: %w", err)
	}
	c := &Cart{Lines: make([]*Line, len(rows))}
	for i, r := range rows {
		l := priced(r.ID, r.Edges.Product, r.Quantity)
		c.Lines[i] = l
		c.ItemCount += l.Quantity
		if l.Problem == nil {
			c.Subtotal += l.LineTotal
		}
		if c.UpdatedAt == nil || r.UpdatedAt.After(*c.UpdatedAt) {
			t := r.UpdatedAt.UTC()
			c.UpdatedAt = &t
		}
	}
	return c, nil
}
