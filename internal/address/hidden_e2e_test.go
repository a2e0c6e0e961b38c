package address_test

import (
	"maps"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A shipping address that would hide or reorder what the courier and the
// admins read (bidi controls, zero-width characters, control characters)
// is refused with BAD_USER_INPUT, by placeOrder and setShippingAddress
// alike, and nothing is written.
func TestShippingAddressRefusesHiddenCharacters(t *testing.T) {
	tests := []struct {
		name, field, value string
	}{
		{"right-to-left override in the recipient", "recipient", "王小明\u202E123"},
		{"isolate in the recipient", "recipient", "\u2066王小明\u2069"},
		{"zero-width space in the region", "region", "陕西省\u200B咸阳市"},
		{"byte-order mark in the region", "region", "陕西省\uFEFF咸阳市"},
		{"newline in the detail", "detail", "人民路1号\n放门口"},
		{"terminal escape in the detail", "detail", "人民路\x1b[2J1号"},
		{"C1 control in the detail", "detail", "人民路\u009b1号"},
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		buyer := m.Verified("买家")
		tea := servertest.NewShop(t, m).Product(t, "紫阳富硒茶", "10.00", "", 100)
		order := servertest.PlaceOrder(t, m, buyer.Token, []servertest.Line{{ID: tea, Qty: 1}}, nil)
		for _, tt := range tests {
			addr := maps.Clone(servertest.ValidAddress)
			addr[tt.field] = tt.value
			t.Run("placeOrder/"+tt.name, func(t *testing.T) {
				servertest.Refused(t, m, d, buyer.Token, servertest.PlaceOrderQ, servertest.OrderInput([]servertest.Line{{ID: tea, Qty: 1}}, map[string]any{"shippingAddress": addr}), "BAD_USER_INPUT")
			})
			t.Run("setShippingAddress/"+tt.name, func(t *testing.T) {
				servertest.Refused(t, m, d, buyer.Token, servertest.SetAddressQ, map[string]any{"id": order.ID, "a": addr}, "BAD_USER_INPUT")
			})
		}
		// The same address, clean, is taken (with the space around trimmed).
		addr := maps.Clone(servertest.ValidAddress)
		addr["recipient"] = " 王小明\u3000"
		got := servertest.MustOrder(t, m, buyer.Token, servertest.SetAddressQ, map[string]any{"id": order.ID, "a": addr})
		if got.ShippingAddress == nil || got.ShippingAddress.Recipient != "王小明" {
			t.Fatalf("address %+v", got.ShippingAddress)
		}
	})
}
