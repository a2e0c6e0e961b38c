package flashsales

import (
	"time"

	"entgo.io/ent/dialect/sql"

	"unionmall/ent/flashsale"
	"unionmall/ent/predicate"
	"unionmall/internal/apperr"
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

// Calendar filters the list of sales (秒杀日历): by status at a moment and
// by start time in [StartsAfter, StartsBefore).
type Calendar struct {
	Status                    *Status
	StartsAfter, StartsBefore *time.Time
}

// Where is the filter as predicates at now, or BAD_USER_INPUT for an
// empty range (after not before before).
func (c Calendar) Where(now time.Time) ([]predicate.FlashSale, error) {
	if c.StartsAfter != nil && c.StartsBefore != nil && !c.StartsAfter.Before(*c.StartsBefore) {
		return nil, apperr.BadInput("startsBefore", "startsBefore must be later than startsAfter")
	}
	var ps []predicate.FlashSale
	if c.Status != nil {
		ps = append(ps, StatusIs(*c.Status, now))
	}
	if c.StartsAfter != nil {
		ps = append(ps, flashsale.StartsAtGTE(c.StartsAfter.UTC()))
	}
	if c.StartsBefore != nil {
		ps = append(ps, flashsale.StartsAtLT(c.StartsBefore.UTC()))
	}
	return ps, nil
}
