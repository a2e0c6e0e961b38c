package address

import (
	"errors"
	"strings"
	"testing"

	"unionmall/internal/apperr"
)

func TestNormalize(t *testing.T) {
	good := Shipping{Recipient: "张三", Phone: "13800000000", Region: "陕西省咸阳市秦都区", Detail: "人民路1号 3单元"}
	with := func(change func(*Shipping)) Shipping {
		a := good
		change(&a)
		return a
	}
	tests := []struct {
		name     string
		in       Shipping
		want     Shipping
		badField string
	}{
		{name: "clean", in: good, want: good},
		{name: "space around every field is trimmed",
			in:   Shipping{Recipient: " 张三\u3000", Phone: " 13800000000 ", Region: "\t陕西省咸阳市秦都区 ", Detail: " 人民路1号 3单元\n"},
			want: good},
		{name: "recipient empty", in: with(func(a *Shipping) { a.Recipient = "  " }), badField: "recipient"},
		{name: "region too long", in: with(func(a *Shipping) { a.Region = strings.Repeat("区", 201) }), badField: "region"},
		{name: "recipient with a right-to-left override", in: with(func(a *Shipping) { a.Recipient = "张\u202E三" }), badField: "recipient"},
		{name: "recipient with an isolate", in: with(func(a *Shipping) { a.Recipient = "\u2067张三\u2069" }), badField: "recipient"},
		{name: "recipient with a zero-width space", in: with(func(a *Shipping) { a.Recipient = "张\u200B三" }), badField: "recipient"},
		{name: "region with a BOM", in: with(func(a *Shipping) { a.Region = "\uFEFF陕西省" }), badField: "region"},
		{name: "detail with a newline", in: with(func(a *Shipping) { a.Detail = "人民路1号\n请放门口" }), badField: "detail"},
		{name: "detail with a terminal escape", in: with(func(a *Shipping) { a.Detail = "人民路\x1b[2J1号" }), badField: "detail"},
		{name: "detail with a NUL", in: with(func(a *Shipping) { a.Detail = "人民路\x001号" }), badField: "detail"},
		{name: "detail with a C1 control", in: with(func(a *Shipping) { a.Detail = "人民路\u00851号" }), badField: "detail"},
		{name: "detail with a line separator", in: with(func(a *Shipping) { a.Detail = "人民路\u20281号" }), badField: "detail"},
		{name: "phone not a mobile number", in: with(func(a *Shipping) { a.Phone = "12345" }), badField: "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Normalize()
			if tt.badField != "" {
				var ae *apperr.Error
				if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != tt.badField {
					t.Fatalf("Normalize(%+q) = %v; want BAD_USER_INPUT on %s", tt.in, err, tt.badField)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%+q) = %+q, %v; want %+q", tt.in, got, err, tt.want)
			}
		})
	}
}
