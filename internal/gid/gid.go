// Package gid holds the mall's global identifiers: a short type prefix, an
// underscore and a ULID ("prd_01JD5..."). The prefix lets node(id:) find the
// type without a lookup table; the ULID's random part means no ID reveals a
// count, and its time part keeps "by id ascending" close to creation order.
package gid

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"unionmall/internal/apperr"
)

// ID is a prefixed ULID. It is stored as text and travels as the GraphQL ID.
type ID string

// Prefixes of the mall's types. Changing one orphans every stored ID of it.
const (
	UnionOrganization = "org"
	Member            = "mem"
	AuthToken         = "tok"
	PurchasingUnit    = "pun"
	County            = "cty"
	Supplier          = "sup"
	Product           = "prd"
	CouponCampaign    = "cmp"
	CouponTier        = "tir"
	Coupon            = "cpn"
	LiveEvent         = "lev"
	FlashSale         = "fls"
	FlashSaleHolding  = "fsh"
	Order             = "ord"
	OrderItem         = "itm"
	ProcurementRecord = "pcr"
	Payment           = "pay"
	ProductImage      = "img"
	CartLine          = "cln"
)

var (
	entropyMu sync.Mutex
	entropy   = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh ID of the type with the given prefix.
func New(prefix string) ID {
	entropyMu.Lock()
	u := ulid.MustNew(ulid.Timestamp(time.Now()), entropy)
	entropyMu.Unlock()
	return ID(prefix + "_" + u.String())
}

// Prefix returns the type prefix of id, or "" when id is not well formed.
func (id ID) Prefix() string {
	p, rest, ok := strings.Cut(string(id), "_")
	if !ok || len(rest) != ulid.EncodedSize {
		return ""
	}
	if _, err := ulid.ParseStrict(rest); err != nil {
		return ""
	}
	return p
}

// Is reports whether id is a well-formed ID of the type with that prefix.
func (id ID) Is(prefix string) bool { return id.Prefix() == prefix }

// UnmarshalGQL accepts any string: a malformed ID simply finds nothing, so
// node(id:) answers null and mutations NOT_FOUND, as the contract asks.
func (id *ID) UnmarshalGQL(v any) error {
	switch s := v.(type) {
	case string:
		*id = ID(s)
	case ID: // ent's generated node resolution passes IDs through here
		*id = s
	default:
		return apperr.BadInput("id", "an ID must be a string, not %T", v)
	}
	return nil
}

// MarshalGQL writes the ID as a JSON string.
func (id ID) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(id))) }

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(v)
	default:
		return fmt.Errorf("gid: cannot scan %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
