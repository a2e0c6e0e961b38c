package payhttp

import (
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"unionmall/ent/order"
	"unionmall/ent/payment"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/orderstate"
	"unionmall/internal/payments"
)

//go:embed cashier.html
var cashierHTML string

var cashierPage = template.Must(template.New("cashier").Parse(cashierHTML))

type cashierLine struct {
	Name      string
	Quantity  int
	LineTotal money.Fen
}

type cashierView struct {
	Number, Status, StatusText, StatusClass, PayBy, Error string
	Lines                                                 []cashierLine
	Total, Discount                                       money.Fen
	Payable                                               bool
}

var china = time.FixedZone("CST", 8*3600)

func (h *Handler) cashier(w http.ResponseWriter, r *http.Request) {
	h.showCashier(w, r, http.StatusOK, "")
}

func (h *Handler) showCashier(w http.ResponseWriter, r *http.Request, status int, problem string) {
	c, err := h.Orders.SandboxCashier(r.Context(), gid.ID(r.PathValue("orderID")))
	if apperr.Is(err, apperr.NotFound) {
		http.Error(w, "没有这个订单 (no such order)", http.StatusNotFound)
		return
	}
	if err != nil {
		slog.ErrorContext(r.Context(), "sandbox cashier", "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	o := c.Order
	v := cashierView{Number: o.Number, Total: o.Total, Discount: o.Discount, Error: problem, Status: string(o.Status)}
	for _, it := range c.Items {
		name := "商品"
		if p := it.Edges.Product; p != nil {
			name = p.Name
		}
		v.Lines = append(v.Lines, cashierLine{Name: name, Quantity: it.Quantity, LineTotal: it.UnitPrice.Times(it.Quantity)})
	}
	if o.PayBy != nil {
		v.PayBy = o.PayBy.In(china).Format("2006-01-02 15:04:05")
	}
	switch {
	case o.Status == order.StatusPENDING_PAYMENT && c.Payment == nil:
		v.StatusText = "待支付：请先在应用中选择沙箱支付 (call payOrder with channel SANDBOX)"
	case o.Status == order.StatusPENDING_PAYMENT && c.Payment.Channel != payments.Sandbox:
		v.StatusText = "此订单已选择 " + string(c.Payment.Channel) + " 支付"
	case o.Status == order.StatusPENDING_PAYMENT && c.Payment.Status == payment.StatusPENDING &&
		orderstate.Overdue(o.PayBy, time.Now()):
		// No button, as a provider takes nothing after payBy; a click on a
		// page opened before is refunded (orders.Settle, Late).
		v.StatusText, v.StatusClass = "已超过支付期限 The payment window has closed", "closed"
	case o.Status == order.StatusPENDING_PAYMENT && c.Payment.Status == payment.StatusPENDING:
		v.StatusText, v.Payable = "待支付 Awaiting payment", true
	case c.Payment != nil && c.Payment.Late && orderstate.Paid(o.Status):
		v.StatusText, v.StatusClass = "订单已通过其他方式支付，本次付款已退回 Paid otherwise; this payment was refunded", "paid"
	case c.Payment != nil && c.Payment.Late:
		v.StatusText, v.StatusClass = "订单已关闭，款项已退回 Closed; the payment was refunded", "closed"
	case o.Status == order.StatusPENDING_PAYMENT:
		v.StatusText = "待支付 Awaiting payment"
	case o.Status == order.StatusCANCELLED || o.Status == order.StatusEXPIRED:
		v.StatusText, v.StatusClass = "订单已关闭 Closed ("+string(o.Status)+")", "closed"
	case o.Status == order.StatusREFUNDED:
		v.StatusText, v.StatusClass = "已退款 Refunded", "closed"
	default:
		v.StatusText, v.StatusClass = "支付成功 Paid", "paid"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// No script, nothing fetched; no framing, so the button cannot be
	// clicked through another site's page.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := cashierPage.Execute(w, v); err != nil {
		slog.WarnContext(r.Context(), "sandbox cashier page", "err", err)
	}
}

// sandboxPay pays through orders.PaySandbox and shows the page again
// (after a redirect, so reloading does not post twice).
func (h *Handler) sandboxPay(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("orderID")
	outcome, err := h.Orders.PaySandbox(r.Context(), gid.ID(id))
	if err != nil {
		code := apperr.CodeOf(err)
		if code == apperr.Internal {
			slog.ErrorContext(r.Context(), "sandbox payment", "err", err)
			h.showCashier(w, r, http.StatusInternalServerError, "支付失败，请重试 (payment failed; try again)")
			return
		}
		h.showCashier(w, r, http.StatusConflict, err.Error())
		return
	}
	h.Obs.Notification("sandbox", outcome.String())
	// A relative reference (http.Redirect would make it absolute), so that
	// it leads back to the page under PUBLIC_URL's path too.
	w.Header().Set("Location", "./"+url.PathEscape(id))
	w.WriteHeader(http.StatusSeeOther)
}
