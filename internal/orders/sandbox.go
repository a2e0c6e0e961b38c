package orders

import (
	"context"
	"fmt"

	"unionmall/ent"
	"unionmall/ent/order"
	"unionmall/ent/orderitem"
	"unionmall/ent/payment"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/payments"
)

// Cashier is what the sandbox cashier shows of an order: its number,
// lines, total, state and payment; never its address or buyer.
type Cashier struct {
	Order   *ent.Order
	Items   []*ent.OrderItem // with their products
	Payment *ent.Payment     // nil until payOrder started one
}

// SandboxCashier reads an order for the sandbox cashier's page. The page
// is reached by the link payOrder returns, as a provider's cashier is, so
// it asks for no token; it exists only with PAYMENT_SANDBOX.
func (s *Service) SandboxCashier(ctx context.Context, id gid.ID) (*Cashier, error) {
	o, err := s.db.Client.Order.Query().Where(order.ID(id)).
		WithItems(func(q *ent.OrderItemQuery) { q.WithProduct().Order(ent.Asc(orderitem.FieldID)) }).
		WithPayment().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox cashier: %w", err)
	}
	return &Cashier{Order: o, Items: o.Edges.Items, Payment: o.Edges.Payment}, nil
}

// PaySandbox pays an order's started SANDBOX payment through Settle, the
// path a provider's notification takes. Its transaction id is derived
// from the order, so a second click is a duplicate, not a second payment.
func (s *Service) PaySandbox(ctx context.Context, id gid.ID) (Settlement, error) {
	pm, err := s.db.Client.Payment.Query().Where(payment.OrderID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, apperr.New(apperr.InvalidState, "no payment was started for this order: call payOrder with channel SANDBOX first")
	}
	if err != nil {
		return 0, fmt.Errorf("sandbox pay: %w", err)
	}
	if pm.Channel != payments.Sandbox {
		return 0, apperr.New(apperr.InvalidState, "this order's payment was started with %s, not the sandbox", pm.Channel)
	}
	if pm.Status == payment.StatusCLOSED {
		// As a provider does: nobody pays a closed provider order.
		return 0, apperr.New(apperr.InvalidState, "this order's payment was closed when the order expired")
	}
	return s.Settle(ctx, payments.Paid{OutTradeNo: pm.OutTradeNo, TransactionID: "SANDBOX" + pm.OutTradeNo, Amount: pm.Amount})
}
