package orders_test

import (
	"context"
	"net/http"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const payOrderQ = `mutation($i: PayOrderInput!) { payOrder(input: $i) { channel expiresAt sandboxURL
	order { id number status total payment { channel status amount providerTransactionID paidAt } }
	jsapi { appId timeStamp nonceStr package signType paySign }
	app { appid partnerid prepayid package noncestr timestamp sign } } }`

type payRequest struct {
	Channel, ExpiresAt string
	SandboxURL         *string
	Order              struct {
		ID, Number, Status, Total string
		Payment                   *struct {
			Channel, Status, Amount string
			ProviderTransactionID   *string
			PaidAt                  *string
		}
	}
	Jsapi *struct{ AppID, TimeStamp, NonceStr, Package, SignType, PaySign string }
	App   *struct{ Appid, Partnerid, Prepayid, Package, Noncestr, Timestamp, Sign string }
}

func TestPayOrderSmoke(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		wp := servertest.NewWeChatPay(t)
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true, WeChatPay: wp.Pay})
		s := servertest.NewShop(t, m)
		tea := s.Product(t, "紫阳富硒茶", "26.60", "", 50)
		buyer := m.Verified("王")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 2}}, nil)
		var out struct{ PayOrder payRequest }
		servertest.MustDo(t, m, buyer.Token, payOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "WECHAT_JSAPI", "openID": "o-payer-1"}}, &out)
		if out.PayOrder.Jsapi == nil || out.PayOrder.Order.Payment == nil || out.PayOrder.Order.Payment.Status != "PENDING" {
			t.Fatalf("%+v", out.PayOrder)
		}
		tx, err := wp.Fake.Pay(o.Number)
		if err != nil {
			t.Fatal(err)
		}
		if code := wp.Notify(t, tx); code != http.StatusNoContent {
			t.Fatalf("notify answered %d", code)
		}
		if got := servertest.OrderStatus(t, d, o.ID); got != "PAID" {
			t.Fatalf("order %s", got)
		}
		if code := wp.Notify(t, tx); code != http.StatusNoContent {
			t.Fatalf("repeat answered %d", code)
		}
		_ = context.Background()
	})
}
