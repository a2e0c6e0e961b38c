package idempotency

import (
	"testing"

	"unionmall/ent"
	"unionmall/internal/gid"
)

// A key answers only the mutation, and the sale, that made its order.
func TestAnswer(t *testing.T) {
	sale, other := gid.ID("fls_a"), gid.ID("fls_b")
	placed, bought := &ent.Order{ID: "ord_1"}, &ent.Order{ID: "ord_2", FlashSaleID: &sale}
	tests := []struct {
		name string
		o    *ent.Order
		sale *gid.ID
		same bool
		ok   bool
	}{
		{"placeOrder again", placed, nil, true, true},
		{"placeOrder with other lines", placed, nil, false, false},
		{"buyFlashSale after placeOrder", placed, &sale, true, false},
		{"placeOrder after buyFlashSale", bought, nil, true, false},
		{"the same sale again", bought, &sale, true, true},
		{"another sale", bought, &other, true, false},
	}
	for _, tt := range tests {
		o, err := Answer(tt.o, tt.sale, tt.same)
		switch {
		case tt.ok && (err != nil || o != tt.o):
			t.Errorf("%s: %v, %v; want the order", tt.name, o, err)
		case !tt.ok && err != ErrOtherRequest:
			t.Errorf("%s: %v, %v; want ErrOtherRequest", tt.name, o, err)
		}
	}
}
