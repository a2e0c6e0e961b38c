package graph

import (
	"unionmall/ent"
	"unionmall/internal/apperr"

	"entgo.io/contrib/entgql"
)

// Connection sizes of the contract: 20 by default, at most 100.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// pageSize applies the contract's bounds to first/last: 20 when neither is
// given; BAD_USER_INPUT when one is negative or above 100.
func pageSize(first, last *int) (*int, *int, error) {
	for _, a := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if a.v != nil && (*a.v < 0 || *a.v > maxPageSize) {
			return nil, nil, apperr.BadInput(a.name, "%s must be between 0 and %d", a.name, maxPageSize)
		}
	}
	if first == nil && last == nil {
		n := defaultPageSize
		first = &n
	}
	return first, last, nil
}

// byStart is flashSales' order: by startsAt, then ID (entgql's tiebreak).
var byStart = &ent.FlashSaleOrder{Direction: entgql.OrderDirectionAsc, Field: ent.FlashSaleOrderFieldStartsAt}
