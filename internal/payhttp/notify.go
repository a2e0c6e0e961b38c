// Package payhttp serves the payment endpoints that are not GraphQL:
// WeChat Pay's payment and refund notifications (PUBLIC_URL/payments/
// wechat/notify and /refund-notify), and the sandbox cashier
// (/pay/sandbox/{orderID}, with PAYMENT_SANDBOX). Both hand a trusted
// payment to orders.Settle, the one path by which a provider's payment
// reaches an order.
package payhttp

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"unionmall/internal/apperr"
	"unionmall/internal/orders"
	"unionmall/internal/payments"
)

// Handler serves the payment endpoints.
type Handler struct {
	Orders *orders.Service
	// WeChat is nil when WeChat Pay is not configured (its endpoints 404).
	WeChat *payments.WeChat
	// Sandbox serves the sandbox cashier.
	Sandbox bool
	Obs     payments.Observer
}

// Register adds the endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	h.Obs = payments.OrNone(h.Obs)
	if h.WeChat != nil {
		mux.HandleFunc("POST "+payments.NotifyPath, h.paymentNotified)
		mux.HandleFunc("POST "+payments.RefundNotifyPath, h.refundNotified)
	}
	if h.Sandbox {
		mux.HandleFunc("GET /pay/sandbox/{orderID}", h.cashier)
		mux.HandleFunc("POST /pay/sandbox/{orderID}", h.sandboxPay)
	}
}

// maxNotification bounds a notification's body (WeChat Pay's are ~1 KB).
const maxNotification = 64 << 10

func (h *Handler) paymentNotified(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotification))
	if err != nil {
		h.refuse(w, r, "payment", "too_large", err)
		return
	}
	p, done, err := h.WeChat.OpenPayment(r.Header, body)
	if err != nil {
		h.refuseOpen(w, r, "payment", err)
		return
	}
	if !done {
		h.Obs.Notification("payment", "ignored")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	outcome, err := h.Orders.Settle(r.Context(), p)
	if err != nil {
		h.refuseApplied(w, r, "payment", err)
		return
	}
	h.Obs.Notification("payment", outcome.String())
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) refundNotified(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotification))
	if err != nil {
		h.refuse(w, r, "refund", "too_large", err)
		return
	}
	n, err := h.WeChat.OpenRefund(r.Header, body)
	if err != nil {
		h.refuseOpen(w, r, "refund", err)
		return
	}
	outcome, err := h.Orders.RefundReported(r.Context(), n)
	if err != nil {
		h.refuseApplied(w, r, "refund", err)
		return
	}
	h.Obs.Notification("refund", outcome.String())
	w.WriteHeader(http.StatusNoContent)
}

// refuseOpen answers a notification that is not trusted: 401 when its
// signature is at fault, 400 otherwise. Nothing changed.
func (h *Handler) refuseOpen(w http.ResponseWriter, r *http.Request, kind string, err error) {
	var rej *payments.Rejected
	if !errors.As(err, &rej) {
		h.refuse(w, r, kind, "malformed", err)
		return
	}
	h.refuse(w, r, kind, rej.Reason, err)
}

// refuseApplied answers a trusted notification the orders refused: an
// unknown order or another amount is the sender's fault (400); anything
// else is this server's (500, so WeChat Pay sends it again).
func (h *Handler) refuseApplied(w http.ResponseWriter, r *http.Request, kind string, err error) {
	switch apperr.CodeOf(err) {
	case apperr.NotFound:
		h.refuse(w, r, kind, "unknown_order", err)
	case apperr.BadUserInput:
		var e *apperr.Error
		if errors.As(err, &e) && e.Field == "amount" {
			h.refuse(w, r, kind, "amount", err)
			return
		}
		// A trusted payment this mall cannot apply as it is (its
		// transaction recorded for another order by hand): people must
		// look; WeChat Pay keeps sending it meanwhile.
		h.Obs.Notification(kind, "conflict")
		slog.ErrorContext(r.Context(), "a trusted notification conflicts with what is recorded; settle it by hand", "kind", kind, "err", err)
		answer(w, http.StatusConflict, "FAIL", "conflict")
	default:
		h.Obs.Notification(kind, "error")
		slog.ErrorContext(r.Context(), "a trusted notification could not be applied; WeChat Pay will send it again", "kind", kind, "err", err)
		answer(w, http.StatusInternalServerError, "FAIL", "暂时无法处理，请重试")
	}
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, kind, reason string, err error) {
	h.Obs.Notification(kind, reason)
	slog.WarnContext(r.Context(), "notification refused", "kind", kind, "reason", reason, "err", err)
	status := http.StatusBadRequest
	switch reason {
	case "signature", "stale", "probe", "unknown_key", "unsigned":
		status = http.StatusUnauthorized
	case "too_large":
		status = http.StatusRequestEntityTooLarge
	}
	answer(w, status, "FAIL", "refused: "+reason)
}

// answer writes WeChat Pay's failure answer {"code","message"}.
func answer(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": message})
}
