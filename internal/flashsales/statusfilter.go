package flashsales

import (
	"time"

	"entgo.io/ent/dialect/sql"

	"unionmall/ent/flashsale"
	"unionmall/ent/predicate"
)

// StatusIs is StatusAt as a predicate: the sales whose status at now is
// st, decided by the same rules on the same columns (endsAt, startsAt,
// sold and quantity), so that a list filtered by status shows what each
// sale's status field says at that now.
func StatusIs(st Status, now time.Time) predicate.FlashSale {
	now = now.UTC()
	running := flashsale.And(flashsale.EndsAtGT(now), flashsale.StartsAtLTE(now))
	switch st {
	case Ended:
		return flashsale.EndsAtLTE(now)
	case Scheduled:
		return flashsale.And(flashsale.EndsAtGT(now), flashsale.StartsAtGT(now))
	case SoldOut:
		return flashsale.And(running, soldOut(true))
	default: // Active
		return flashsale.And(running, soldOut(false))
	}
}

// soldOut compares two columns: sold >= quantity (or, false, below it).
func soldOut(yes bool) predicate.FlashSale {
	return predicate.FlashSale(func(s *sql.Selector) {
		if yes {
			s.Where(sql.ColumnsGTE(s.C(flashsale.FieldSold), s.C(flashsale.FieldQuantity)))
		} else {
			s.Where(sql.ColumnsLT(s.C(flashsale.FieldSold), s.C(flashsale.FieldQuantity)))
		}
	})
}
