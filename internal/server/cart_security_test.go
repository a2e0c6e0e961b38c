package server_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The cart's rows of the authorization matrix (secOps): every caller
// signed in works on their own cart; placeOrder fromCart needs VERIFIED.

const (
	secCartFields = `{ itemCount lines { product { id } quantity } }`
	secAddQ       = `mutation($i: CartLineInput!) { addToCart(input: $i) ` + secCartFields + ` }`
	secSetQ       = `mutation($i: CartLineInput!) { setCartLineQuantity(input: $i) ` + secCartFields + ` }`
	secRemoveQ    = `mutation($p: ID!) { removeFromCart(productID: $p) ` + secCartFields + ` }`
	secClearQ     = `mutation { clearCart ` + secCartFields + ` }`
)

type secCart struct {
	ItemCount int
	Lines     []struct {
		Product  struct{ ID string }
		Quantity int
	}
}

func (c secCart) qty(productID string) int {
	for _, l := range c.Lines {
		if l.Product.ID == productID {
			return l.Quantity
		}
	}
	return 0
}

// secCartIs checks the mutation's cart: the product's line at qty (0: none).
func secCartIs(field, productID string, qty int) func(t *testing.T, data map[string]json.RawMessage) {
	return func(t *testing.T, data map[string]json.RawMessage) {
		var c secCart
		secDecode(t, data, field, &c)
		if c.qty(productID) != qty {
			t.Fatalf("%s: line %s has %d, want %d (%+v)", field, productID, c.qty(productID), qty, c)
		}
	}
}

// secFill puts the product in the caller's cart (nothing for anonymous).
func secFill(t *testing.T, w *secWorld, c secCaller, productID string, qty int) {
	t.Helper()
	if c.kind != secAnon {
		servertest.MustDo(t, w.m, c.Token, `mutation($i: CartLineInput!) { setCartLineQuantity(input: $i) { itemCount } }`,
			map[string]any{"i": map[string]any{"productID": productID, "quantity": qty}}, nil)
	}
}

func secCartOps() []secOp {
	signedIn := [secKinds]string{secU, secOK, secOK, secOK, secOK, secOK}
	verified := [secKinds]string{secU, secNV, secOK, secOK, secOK, secNV}
	return []secOp{
		{
			name: "addToCart", query: secAddQ, want: signedIn,
			call: func(t *testing.T, w *secWorld, c secCaller) secCall {
				secFill(t, w, c, w.spare, 1)
				return secCall{vars: map[string]any{"i": map[string]any{"productID": w.spare, "quantity": 2}},
					check: secCartIs("addToCart", w.spare, 3)}
			},
		},
		{
			name: "setCartLineQuantity", query: secSetQ, want: signedIn,
			call: func(t *testing.T, w *secWorld, c secCaller) secCall {
				return secCall{vars: map[string]any{"i": map[string]any{"productID": w.spare, "quantity": 4}},
					check: secCartIs("setCartLineQuantity", w.spare, 4)}
			},
		},
		{
			name: "removeFromCart", query: secRemoveQ, want: signedIn,
			call: func(t *testing.T, w *secWorld, c secCaller) secCall {
				secFill(t, w, c, w.spare, 1)
				return secCall{vars: map[string]any{"p": w.spare}, check: secCartIs("removeFromCart", w.spare, 0)}
			},
		},
		{
			name: "clearCart", query: secClearQ, want: signedIn,
			call: func(t *testing.T, w *secWorld, c secCaller) secCall {
				secFill(t, w, c, w.spare, 1)
				return secCall{check: func(t *testing.T, data map[string]json.RawMessage) {
					var cart secCart
					secDecode(t, data, "clearCart", &cart)
					if len(cart.Lines) != 0 || cart.ItemCount != 0 {
						t.Fatalf("clearCart: %+v", cart)
					}
				}}
			},
		},
		{
			// The caller's own cart; refused callers keep theirs.
			name: "placeOrder (from the cart)", query: servertest.PlaceOrderQ, want: verified,
			call: func(t *testing.T, w *secWorld, c secCaller) secCall {
				secFill(t, w, c, w.tea, 1)
				return secCall{
					vars: servertest.OrderInput(nil, map[string]any{"fromCart": true}),
					check: func(t *testing.T, data map[string]json.RawMessage) {
						var o servertest.Order
						secDecode(t, data, "placeOrder", &o)
						if o.Buyer.ID != c.ID || len(o.Items) != 1 || o.Items[0].Product.ID != w.tea || o.Status != "PENDING_PAYMENT" {
							t.Fatalf("placeOrder fromCart: %+v", o)
						}
					},
				}
			},
		},
	}
}

// TestSecurityCart: cart and quote answer the signed-in caller with their
// own cart and coupons only; anonymous callers are UNAUTHENTICATED.
func TestSecurityCart(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		w := secNewWorld(t, d)
		m, owner := w.m, w.owner()
		coupons := servertest.ClaimPack(t, m, owner.Token, servertest.NewCampaign(t, m, time.Now().Add(time.Hour)))
		secFill(t, w, owner, w.tea, 2)
		const q = `{ cart { lines { product { id } quantity } } quote { subtotal coupons { coupon { id } } bestCoupon { id } } }`
		for k, c := range w.callers {
			who := secKindNames[k]
			r := m.Do(c.Token, q, nil)
			if k == secAnon {
				servertest.WantCode(t, r, secU)
				if string(r.Data) != "null" {
					t.Fatalf("%s: refused cart returned %s", who, r.Data)
				}
				continue
			}
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %+v", who, r.Errors)
			}
			var out struct {
				Cart  secCart
				Quote struct {
					Subtotal string
					Coupons  []struct{ Coupon struct{ ID string } }
				}
			}
			r.Decode(t, &out)
			var ids []string
			for _, o := range out.Quote.Coupons {
				ids = append(ids, o.Coupon.ID)
			}
			mine := k == secVerified
			if (out.Cart.qty(w.tea) == 2) != mine || slices.Contains(ids, coupons["20.00"]) != mine || (out.Quote.Subtotal == "60.00") != mine {
				t.Fatalf("%s: cart %+v, quote %+v", who, out.Cart, out.Quote)
			}
		}
	})
}
