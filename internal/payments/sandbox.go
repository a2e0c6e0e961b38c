package payments

import (
	"context"
	"strings"
)

// SandboxProvider is the built-in cashier (PAYMENT_SANDBOX): no money
// moves. Its page (internal/payhttp) reports a payment through the same
// path a provider's notification takes, so the payments table is its only
// record: a query finds nothing paid that the table does not already say
// is, closing has nothing to close, and a refund completes at once.
type SandboxProvider struct {
	// BaseURL is this server's public URL; empty: the cashier's path only.
	BaseURL string
}

// CashierPath is the sandbox cashier's page of an order.
func CashierPath(orderID string) string { return "/pay/sandbox/" + orderID }

func (s SandboxProvider) Start(_ context.Context, _ Channel, c Checkout) (Request, error) {
	return Request{SandboxURL: strings.TrimRight(s.BaseURL, "/") + CashierPath(string(c.OrderID))}, nil
}

func (SandboxProvider) Query(context.Context, string) (Trade, error) {
	return Trade{State: TradeNotPaid}, nil
}

func (SandboxProvider) Close(context.Context, string) error { return nil }

func (SandboxProvider) Refund(_ context.Context, r Refund) (RefundResult, error) {
	return RefundResult{State: RefundDone, RefundID: "SANDBOX-" + r.OutRefundNo}, nil
}

func (SandboxProvider) QueryRefund(_ context.Context, outRefundNo string) (RefundResult, error) {
	return RefundResult{State: RefundDone, RefundID: "SANDBOX-" + outRefundNo}, nil
}
