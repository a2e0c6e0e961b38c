package orders_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A member pays a coupon order, a flash-sale order and a plain one
// through payOrder, by JSAPI and by APP: the client's parameters are
// signed as the SDKs verify them, the prepay asks for the order's number,
// total, payBy and notify URL, payOrder again resumes the same provider
// order, and WeChat Pay's own notification makes the order PAID with its
// transaction id, the units sold and the coupon used, counted in
// platformStats.
func TestPayOrderHappyPath(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "26.60", "", 50)
		oil := m.NewProduct("79.90", 20)
		sale := m.NewFlashSale(oil, "1.00", 10, 2)
		buyer := m.Verified("王")
		coupons := servertest.ClaimPack(t, m, buyer.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))

		couponOrder := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 2}}, map[string]any{"couponID": coupons["40.00"]})
		flashOrder := buyFlash(t, m, buyer.Token, sale, 2)
		plain := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		if couponOrder.Total != "33.20" || flashOrder.Total != "2.00" || plain.Total != "26.60" {
			t.Fatalf("fixture totals %s %s %s", couponOrder.Total, flashOrder.Total, plain.Total)
		}
		var fen int64
		for _, tc := range []struct {
			name, channel, openID string
			o                     servertest.Order
			product               string
			units                 int
			coupon                string
		}{
			{"coupon order by JSAPI", "WECHAT_JSAPI", "o-payer-coupon", couponOrder, tea, 2, coupons["40.00"]},
			{"flash-sale order by APP", "WECHAT_APP", "", flashOrder, oil, 2, ""},
			{"plain order by APP", "WECHAT_APP", "", plain, tea, 1, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := tc.o
				soldBefore, stockBefore := servertest.SoldOf(t, d, tc.product), servertest.StockOf(t, d, tc.product)
				first := pm.payOrder(t, buyer.Token, o.ID, tc.channel, tc.openID)
				if first.Channel != tc.channel || first.ExpiresAt != *o.PayBy || first.SandboxURL != nil ||
					first.Order.Status != "PENDING_PAYMENT" || first.Order.Payment == nil ||
					first.Order.Payment.Status != "PENDING" || first.Order.Payment.Amount != o.Total || first.Order.Payment.ProviderTransactionID != nil {
					t.Fatalf("payOrder %+v", first)
				}
				prepayID := checkParams(t, pm, tc.channel, first)

				// The one prepay: the order's number, total in fen, payBy, the notify URL.
				paths, bodies := pm.sent.prepays(t, o.Number)
				wantPath := map[string]string{"WECHAT_JSAPI": "/v3/pay/transactions/jsapi", "WECHAT_APP": "/v3/pay/transactions/app"}[tc.channel]
				if len(bodies) != 1 || paths[0] != wantPath {
					t.Fatalf("prepays %v", paths)
				}
				b := bodies[0]
				payBy := servertest.ParseTime(t, *o.PayBy)
				expire, err := time.Parse(time.RFC3339, b.TimeExpire)
				if err != nil || expire.After(payBy) || payBy.Sub(expire) >= time.Second {
					t.Fatalf("time_expire %q for payBy %s (%v)", b.TimeExpire, payBy, err)
				}
				if b.AppID != servertest.AppID || b.MchID != servertest.MchID || b.Amount.Total != servertest.Fen(t, o.Total) ||
					b.Amount.Currency != "CNY" || b.NotifyURL != m.HTTP.URL+payments.NotifyPath || b.Description == "" {
					t.Fatalf("prepay %+v", b)
				}
				if (tc.openID == "") != (b.Payer == nil) || (b.Payer != nil && b.Payer.OpenID != tc.openID) {
					t.Fatalf("prepay payer %+v, want openid %q", b.Payer, tc.openID)
				}

				// Again: the same provider order, signed afresh; no new prepay, no new row.
				again := pm.payOrder(t, buyer.Token, o.ID, tc.channel, tc.openID)
				if got := checkParams(t, pm, tc.channel, again); got != prepayID {
					t.Fatalf("resumed with prepay_id %s, first %s", got, prepayID)
				}
				if _, bodies := pm.sent.prepays(t, o.Number); len(bodies) != 1 {
					t.Fatalf("%d prepays for one order", len(bodies))
				}
				if n := d.Int(t, `SELECT COUNT(*) FROM payments WHERE order_id = ?`, o.ID); n != 1 {
					t.Fatalf("%d payments rows", n)
				}
				if p := pm.paymentOf(t, o.ID); p.PrepayID == nil || *p.PrepayID != prepayID || p.OutTradeNo != o.Number ||
					string(p.Channel) != tc.channel || int64(p.Amount) != servertest.Fen(t, o.Total) {
					t.Fatalf("payment row %+v", p)
				}

				// The payer pays; WeChat Pay notifies the mall itself.
				tx, err := pm.fake.Pay(o.Number)
				if err != nil {
					t.Fatal(err)
				}
				pm.fake.Wait()
				wantStatuses(t, pm.fake, o.Number, http.StatusNoContent)
				if got := servertest.OrderStatus(t, d, o.ID); got != "PAID" {
					t.Fatalf("order %s", got)
				}
				if ref := reference(t, d, o.ID); ref != tx.TransactionID {
					t.Fatalf("payment_reference %q, transaction %s", ref, tx.TransactionID)
				}
				p := pm.paymentOf(t, o.ID)
				if p.Status != "PAID" || p.ProviderTransactionID == nil || *p.ProviderTransactionID != tx.TransactionID || p.PaidAt == nil || p.Late {
					t.Fatalf("payment row %+v", p)
				}
				status, ap := apiOrderPayment(t, m, buyer.Token, o.ID)
				if status != "PAID" || ap == nil || ap.Status != "PAID" || ap.ProviderTransactionID == nil ||
					*ap.ProviderTransactionID != tx.TransactionID || ap.PaidAt == nil || ap.RefundedAt != nil {
					t.Fatalf("API order %s payment %+v", status, ap)
				}
				if got := servertest.SoldOf(t, d, tc.product); got != soldBefore+tc.units {
					t.Fatalf("sold %d, was %d", got, soldBefore)
				}
				if got := servertest.StockOf(t, d, tc.product); got != stockBefore {
					t.Fatalf("stock %d, was %d", got, stockBefore)
				}
				if tc.coupon != "" {
					if st, held := servertest.CouponRow(t, d, tc.coupon); st != "USED" || held != o.ID {
						t.Fatalf("coupon %s held by %q", st, held)
					}
				}
				fen += servertest.Fen(t, o.Total)
			})
		}
		if got := d.Int(t, `SELECT sold FROM flash_sales WHERE id = ?`, sale); got != 2 {
			t.Fatalf("flash sale sold %d", got)
		}
		var st struct {
			PlatformStats struct {
				PaidOrders, CouponsRedeemed int
				OnlineProcurement           string
			}
		}
		servertest.MustDo(t, m, "", `{ platformStats { paidOrders couponsRedeemed onlineProcurement } }`, nil, &st)
		if p := st.PlatformStats; p.PaidOrders != 3 || p.CouponsRedeemed != 1 || servertest.Fen(t, p.OnlineProcurement) != fen {
			t.Fatalf("platformStats %+v, want 3 paid orders worth %s", p, servertest.Yuan(fen))
		}
	})
}

// checkParams verifies the client's parameters of a payment request with
// the merchant's public key, as WeChat's SDKs do, and returns the
// prepay_id.
func checkParams(t *testing.T, pm *payMall, channel string, r payRequest) string {
	t.Helper()
	key := pm.fake.MerchantKey
	switch channel {
	case "WECHAT_JSAPI":
		j := r.Jsapi
		if j == nil || r.App != nil || j.AppID != servertest.AppID || j.SignType != "RSA" || j.NonceStr == "" || len(j.Package) <= len("prepay_id=") || j.Package[:len("prepay_id=")] != "prepay_id=" {
			t.Fatalf("jsapi %+v app %+v", j, r.App)
		}
		recent(t, j.TimeStamp)
		verifies(t, key, j.PaySign, j.AppID, j.TimeStamp, j.NonceStr, j.Package)
		return j.Package[len("prepay_id="):]
	default:
		a := r.App
		if a == nil || r.Jsapi != nil || a.Appid != servertest.AppID || a.Partnerid != servertest.MchID || a.Package != "Sign=WXPay" ||
			a.Prepayid == "" || a.Noncestr == "" {
			t.Fatalf("app %+v jsapi %+v", a, r.Jsapi)
		}
		recent(t, a.Timestamp)
		verifies(t, key, a.Sign, a.Appid, a.Timestamp, a.Noncestr, a.Prepayid)
		return a.Prepayid
	}
}

// recent fails unless ts is Unix seconds within a minute of now.
func recent(t *testing.T, ts string) {
	t.Helper()
	secs, err := strconv.ParseInt(ts, 10, 64)
	if d := time.Since(time.Unix(secs, 0)); err != nil || d > time.Minute || d < -time.Minute {
		t.Fatalf("timestamp %q is not now", ts)
	}
}

// payOrder is refused, writing nothing, to anyone but the buyer, for an
// order not awaiting payment, for a channel this server does not offer,
// and when a resumed payment names another channel or payer.
func TestPayOrderRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		pm := newPayMall(t, d, servertest.Options{NoWorkers: true})
		m := pm.Mall
		tea := m.NewProduct("10.00", 50)
		buyer, other, unverified := m.Verified("买家"), m.Verified("别人"), m.Register("未认证")
		fresh := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		started := pm.started(t, buyer.Token, tea, 1)
		paid := pm.started(t, buyer.Token, tea, 1)
		if _, err := pm.fake.Pay(paid.Number); err != nil {
			t.Fatal(err)
		}
		pm.fake.Wait()
		cancelled := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		servertest.MustOrder(t, m, buyer.Token, servertest.CancelOrderQ, map[string]any{"id": cancelled.ID})
		for _, tc := range []struct {
			name, token, order, channel, openID, code string
		}{
			{"anonymous", "", fresh.ID, "WECHAT_APP", "", "UNAUTHENTICATED"},
			{"another member", other.Token, fresh.ID, "WECHAT_APP", "", "NOT_FOUND"},
			{"an admin (not a verified member)", m.Admin, fresh.ID, "WECHAT_APP", "", "NOT_VERIFIED"},
			{"an unverified member", unverified.Token, fresh.ID, "WECHAT_APP", "", "NOT_VERIFIED"},
			{"JSAPI without an openid", buyer.Token, fresh.ID, "WECHAT_JSAPI", "", "BAD_USER_INPUT"},
			{"the sandbox, not offered", buyer.Token, fresh.ID, "SANDBOX", "", "BAD_USER_INPUT"},
			{"resumed by another channel", buyer.Token, started.ID, "WECHAT_APP", "", "INVALID_STATE"},
			{"resumed for another payer", buyer.Token, started.ID, "WECHAT_JSAPI", "o-someone-else", "BAD_USER_INPUT"},
			{"a paid order", buyer.Token, paid.ID, "WECHAT_JSAPI", "o-payer-" + paid.Number, "INVALID_STATE"},
			{"a cancelled order", buyer.Token, cancelled.ID, "WECHAT_APP", "", "INVALID_STATE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := state(t, d)
				prepays := calls(pm.fake, http.MethodPost, "/v3/pay/transactions/app", -1) + calls(pm.fake, http.MethodPost, "/v3/pay/transactions/jsapi", -1)
				r := m.Do(tc.token, servertest.PayOrderQ, payVars(tc.order, tc.channel, tc.openID))
				servertest.WantCode(t, r, tc.code)
				unchanged(t, d, before)
				if got := calls(pm.fake, http.MethodPost, "/v3/pay/transactions/app", -1) + calls(pm.fake, http.MethodPost, "/v3/pay/transactions/jsapi", -1); got != prepays {
					t.Fatalf("the refusal asked WeChat Pay for a prepay")
				}
			})
		}
	})
}
