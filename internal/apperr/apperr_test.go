package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"unionmall/internal/apperr"
)

func TestCodeOf(t *testing.T) {
	sold := apperr.New(apperr.SoldOut, "sold out (%s)", "已抢光")
	for _, tc := range []struct {
		name string
		err  error
		code apperr.Code
	}{
		{"typed", sold, apperr.SoldOut},
		{"wrapped", fmt.Errorf("buy flash sale: %w", sold), apperr.SoldOut},
		{"joined", errors.Join(errors.New("log"), apperr.BadInput("quantity", "at least one")), apperr.BadUserInput},
		{"plain", errors.New("connection refused"), apperr.Internal},
		{"nil", nil, apperr.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := apperr.CodeOf(tc.err); got != tc.code {
				t.Errorf("CodeOf = %s, want %s", got, tc.code)
			}
			if tc.err != nil && !apperr.Is(tc.err, tc.code) {
				t.Errorf("Is(%s) = false", tc.code)
			}
		})
	}
	if apperr.Is(nil, apperr.Internal) {
		t.Error("no error carries a code")
	}
	if sold.Error() != "sold out (已抢光)" {
		t.Errorf("message %q", sold.Error())
	}
	if e := apperr.BadInput("quantity", "buy %d", 1); e.Field != "quantity" || e.Code != apperr.BadUserInput {
		t.Errorf("BadInput = %+v", e)
	}
}
