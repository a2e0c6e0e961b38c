package orderwatch_test

// orderUpdated end to end over the real websocket (graphql-transport-ws):
// the buyer sees every state of the order's life, through confirmPayment
// and through the sandbox cashier, shipping and completion, expiry; a
// change on another instance arrives; anyone else gets NOT_FOUND; a
// revoked token ends the subscription.

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const orderSub = `subscription($id: ID!) { orderUpdated(orderID: $id) { id status trackingNumber
	payment { status } buyer { id } } }`

type pushed struct {
	ID, Status     string
	TrackingNumber *string
	Payment        *struct{ Status string }
	Buyer          struct{ ID string }
}

// waitFor reads pushes of the subscription until one has the status (and,
// when payment is set, that payment status), failing on an error, on the
// subscription's end, or when none comes in time (the deadline only bounds
// a failing test).
func waitFor(t *testing.T, ws *servertest.WS, status, payment string) pushed {
	t.Helper()
	for {
		_, r, err := ws.Next(10 * time.Second)
		if err != nil {
			t.Fatalf("waiting for %s/%s: %v", status, payment, err)
		}
		if len(r.Errors) > 0 {
			t.Fatalf("waiting for %s/%s: %+v", status, payment, r.Errors)
		}
		var d struct{ OrderUpdated pushed }
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		o := d.OrderUpdated
		if o.Status == status && (payment == "" || o.Payment != nil && o.Payment.Status == payment) {
			return o
		}
	}
}

func subscribe(t *testing.T, m *servertest.Mall, token, orderID string) *servertest.WS {
	t.Helper()
	var init map[string]any
	if token != "" {
		init = map[string]any{"Authorization": "Bearer " + token}
	}
	ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, init)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Close)
	if _, err := ws.Subscribe(orderSub, map[string]any{"id": orderID}); err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestOrderUpdated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{PaymentSandbox: true, NoWorkers: true})
		shop := servertest.NewShop(t, m)
		tea := shop.Product(t, "泾阳茯茶", "20.00", "20.00", 100)
		buyer := m.Verified("订单")
		place := func() servertest.Order {
			return servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}},
				map[string]any{"shippingAddress": servertest.ValidAddress})
		}

		t.Run("confirmPayment, shipping, completion", func(t *testing.T) {
			o := place()
			ws := subscribe(t, m, buyer.Token, o.ID)
			if got := waitFor(t, ws, "PENDING_PAYMENT", ""); got.ID != o.ID || got.Buyer.ID != buyer.ID {
				t.Fatalf("first push %+v", got)
			}
			servertest.Pay(t, m, o, "bank-"+o.Number)
			waitFor(t, ws, "PAID", "")
			servertest.MustOrder(t, m, m.Admin, servertest.ShipOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "trackingNumber": "SF100"}})
			if got := waitFor(t, ws, "SHIPPED", ""); got.TrackingNumber == nil || *got.TrackingNumber != "SF100" {
				t.Fatalf("shipped push %+v", got)
			}
			servertest.MustOrder(t, m, buyer.Token, servertest.CompleteOrderQ, map[string]any{"id": o.ID})
			waitFor(t, ws, "COMPLETED", "")
		})

		t.Run("the sandbox cashier", func(t *testing.T) {
			o := place()
			ws := subscribe(t, m, buyer.Token, o.ID)
			waitFor(t, ws, "PENDING_PAYMENT", "")
			servertest.MustDo(t, m, buyer.Token, servertest.PayOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "SANDBOX"}}, nil)
			waitFor(t, ws, "PENDING_PAYMENT", "PENDING") // the payment started
			noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := noRedirects.Post(m.HTTP.URL+"/pay/sandbox/"+o.ID, "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sandbox pay: %d", res.StatusCode)
			}
			waitFor(t, ws, "PAID", "PAID")
		})

		t.Run("an ADMIN may watch; another member gets NOT_FOUND", func(t *testing.T) {
			o := place()
			waitFor(t, subscribe(t, m, m.Admin, o.ID), "PENDING_PAYMENT", "")
			other := m.Verified("旁人")
			for name, token := range map[string]string{"another member": other.Token, "anonymous": ""} {
				for _, id := range []string{o.ID, "ord_01JD0000000000000000000000", "fls_01JD0000000000000000000000"} {
					_, r, err := subscribe(t, m, token, id).Next(10 * time.Second)
					if err != nil || len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "NOT_FOUND" {
						t.Fatalf("%s on %s: %+v %v, want NOT_FOUND", name, id, r, err)
					}
				}
			}
		})

		t.Run("a revoked token ends the subscription", func(t *testing.T) {
			o := place()
			ws := subscribe(t, m, buyer.Token, o.ID)
			waitFor(t, ws, "PENDING_PAYMENT", "")
			other := m.Login(buyer.Phone, buyer.Password)
			m.MustDo(buyer.Token, `mutation { logout }`, nil, nil)
			for {
				msg, err := ws.Read(10 * time.Second)
				if err != nil {
					t.Fatalf("no complete after logout: %v", err)
				}
				if msg.Type == "complete" {
					break
				}
				if msg.Type == "next" {
					t.Fatalf("a push after logout: %s", msg.Payload)
				}
			}
			// The order still changes; the ended subscription hears nothing
			// (the connection itself stays: its next operation is refused).
			m.MustDo(other, servertest.CancelOrderQ, map[string]any{"id": o.ID}, nil)
			buyer.Token = other
		})

		t.Run("at most 100 subscriptions per connection", func(t *testing.T) {
			o := place()
			ws := subscribe(t, m, buyer.Token, o.ID)
			for range 100 {
				if _, err := ws.Subscribe(orderSub, map[string]any{"id": o.ID}); err != nil {
					t.Fatal(err)
				}
			}
			if c := ws.FirstErrorCode(t, 10*time.Second); c != "TOO_MANY_SUBSCRIPTIONS" {
				t.Fatalf("code %q, want TOO_MANY_SUBSCRIPTIONS", c)
			}
		})
	})
}

// Unpaid orders expire on their own (the workers run), and the buyer sees it.
func TestOrderUpdatedOnExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{PaymentWindow: 2 * time.Second})
		shop := servertest.NewShop(t, m)
		tea := shop.Product(t, "紫阳富硒茶", "30.00", "30.00", 10)
		buyer := m.Verified("过期")
		o := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		ws := subscribe(t, m, buyer.Token, o.ID)
		waitFor(t, ws, "PENDING_PAYMENT", "")
		waitFor(t, ws, "EXPIRED", "")
	})
}

// A change made through instance b reaches a subscriber on instance a.
func TestOrderUpdatedAcrossInstances(t *testing.T) {
	d := testdb.Open(t, "postgres") // skips without TEST_DATABASE_URL: SQLite serves one instance
	a := servertest.Start(t, d, servertest.Options{})
	b := servertest.Start(t, d, servertest.Options{})
	shop := servertest.NewShop(t, a)
	tea := shop.Product(t, "安康富硒茶", "40.00", "40.00", 10)
	buyer := a.Verified("两地")
	o := servertest.PlaceOrder(t, a, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
	ws := subscribe(t, a, buyer.Token, o.ID)
	waitFor(t, ws, "PENDING_PAYMENT", "")
	time.Sleep(300 * time.Millisecond) // both listeners are up by now (as TestSubscriptionsAcrossInstances)
	servertest.Pay(t, b, o, "bank-"+o.Number)
	waitFor(t, ws, "PAID", "")
}
