// Package address holds an order's shipping address, a value kept as JSON on
// the order row.
package address

import (
	"strings"
	"unicode/utf8"

	"unionmall/internal/apperr"
	"unionmall/internal/mask"
)

// Shipping is where an order goes.
type Shipping struct {
	Recipient string `json:"recipient"`
	Phone     string `json:"phone"`
	Region    string `json:"region"`
	Detail    string `json:"detail"`
}

// Normalize trims the fields and checks them; it returns BAD_USER_INPUT
// naming the first field at fault.
func (a Shipping) Normalize() (Shipping, error) {
	a.Recipient = strings.TrimSpace(a.Recipient)
	a.Phone = strings.TrimSpace(a.Phone)
	a.Region = strings.TrimSpace(a.Region)
	a.Detail = strings.TrimSpace(a.Detail)
	for _, f := range []struct{ name, v string }{
		{"recipient", a.Recipient}, {"region", a.Region}, {"detail", a.Detail},
	} {
		if f.v == "" || utf8.RuneCountInString(f.v) > 200 {
			return a, apperr.BadInput(f.name, "the address %s must have 1 to 200 characters", f.name)
		}
	}
	if !mask.ValidPhone(a.Phone) {
		return a, apperr.BadInput("phone", "the recipient's phone must be an 11-digit mainland mobile number")
	}
	return a, nil
}

// Masked returns the address with the phone masked, for anyone but the buyer
// and admins.
func (a Shipping) Masked() Shipping {
	a.Phone = mask.Phone(a.Phone)
	return a
}
