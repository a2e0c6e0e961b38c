// Package address holds an order's shipping address, a value kept as JSON on
// the order row.
package address

import (
	"strings"

	"unionmall/internal/apperr"
	"unionmall/internal/mask"
	"unionmall/internal/text"
)

// Shipping is where an order goes.
type Shipping struct {
	Recipient string `json:"recipient"`
	Phone     string `json:"phone"`
	Region    string `json:"region"`
	Detail    string `json:"detail"`
}

// Normalize trims the fields and checks them (text.Clean: no controls, no
// characters that hide or reorder what a courier or an admin reads); it
// returns BAD_USER_INPUT naming every field at fault.
func (a Shipping) Normalize() (Shipping, error) {
	var p apperr.Problems
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"recipient", &a.Recipient}, {"region", &a.Region}, {"detail", &a.Detail},
	} {
		v, err := text.Clean(f.name, *f.v, 200)
		if p.Check(err) {
			*f.v = v
		}
	}
	a.Phone = strings.TrimSpace(a.Phone)
	if !mask.ValidPhone(a.Phone) {
		p.Add(apperr.BadInput("phone", "the recipient's phone must be an 11-digit mainland mobile number"))
	}
	return a, p.Err()
}

// Masked returns the address with the phone masked, for anyone but the buyer
// and admins.
func (a Shipping) Masked() Shipping {
	a.Phone = mask.Phone(a.Phone)
	return a
}
