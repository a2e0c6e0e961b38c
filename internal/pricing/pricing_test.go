package pricing

import (
	"testing"

	"unionmall/internal/apperr"
	"unionmall/internal/money"
)

func yuan(s string) money.Fen {
	f, err := money.Parse(s)
	if err != nil {
		panic(err)
	}
	return f
}

func TestPrice(t *testing.T) {
	tests := []struct {
		name                      string
		lines                     []Line
		discount                  money.Fen
		subtotal, disc, wantTotal string
	}{
		{"one line", []Line{{1, yuan("79.90")}}, 0, "79.90", "0.00", "79.90"},
		{"quantities", []Line{{3, yuan("12.50")}, {2, yuan("0.01")}}, 0, "37.52", "0.00", "37.52"},
		{"subtotal exactly at 满20", []Line{{2, yuan("10.00")}}, yuan("10"), "20.00", "10.00", "10.00"},
		{"满200减100 at 200.00", []Line{{1, yuan("120.00")}, {1, yuan("80.00")}}, yuan("100"), "200.00", "100.00", "100.00"},
		{"discount above subtotal is capped", []Line{{1, yuan("5.00")}}, yuan("10"), "5.00", "5.00", "0.00"},
		{"many units", []Line{{999, yuan("99999.99")}}, yuan("50"), "99899990.01", "50.00", "99899940.01"},
		{"7.5折 sale price", []Line{{3, yuan("59.90").Share(75, 100)}}, 0, "134.79", "0.00", "134.79"},
		{"negative discount ignored", []Line{{1, yuan("1.00")}}, -5, "1.00", "0.00", "1.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := Price(tt.lines, tt.discount)
			if q.Subtotal.String() != tt.subtotal || q.Discount.String() != tt.disc || q.Total.String() != tt.wantTotal {
				t.Fatalf("got %s − %s = %s; want %s − %s = %s", q.Subtotal, q.Discount, q.Total, tt.subtotal, tt.disc, tt.wantTotal)
			}
			if q.Total != q.Subtotal-q.Discount {
				t.Fatal("total is not subtotal − discount")
			}
		})
	}
}

func TestCheckQuantity(t *testing.T) {
	for q, ok := range map[int]bool{-1: false, 0: false, 1: true, 2: true, 999: true, 1000: false} {
		err := CheckQuantity(q)
		if (err == nil) != ok || (err != nil && apperr.CodeOf(err) != apperr.BadUserInput) {
			t.Errorf("CheckQuantity(%d) = %v", q, err)
		}
	}
}
