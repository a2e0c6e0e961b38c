package flashsales

// A sale's status from the clock and its stock, and the snapshots pushed
// to overlays.

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"unionmall/ent"
	"unionmall/internal/gid"
)

// Status is a sale's state, derived from the clock and its stock.
type Status string

// The contract's FlashSaleStatus values.
const (
	Scheduled Status = "SCHEDULED"
	Active    Status = "ACTIVE"
	SoldOut   Status = "SOLD_OUT"
	Ended     Status = "ENDED"
)

// StatusAt is the sale's status at now: ENDED from endsAt on (endFlashSale
// moves endsAt to the moment it is called), SCHEDULED before startsAt,
// SOLD_OUT while nothing remains, ACTIVE otherwise.
func StatusAt(s *ent.FlashSale, now time.Time) Status {
	switch {
	case !now.Before(s.EndsAt):
		return Ended
	case now.Before(s.StartsAt):
		return Scheduled
	case s.Sold >= s.Quantity:
		return SoldOut
	default:
		return Active
	}
}

// Remaining is what is left to sell.
func Remaining(s *ent.FlashSale) int { return max(s.Quantity-s.Sold, 0) }

// MarshalGQL writes the status as a GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Status(str) {
	case Scheduled, Active, SoldOut, Ended:
		*s = Status(str)
		return nil
	}
	return fmt.Errorf("%v is not a valid FlashSaleStatus", v)
}

// Stock is the small snapshot of one sale that overlays receive.
type Stock struct {
	FlashSaleID gid.ID
	Quantity    int
	Sold        int
	Remaining   int
	Status      Status
	UpdatedAt   time.Time
	// FlashSale is the row the snapshot was taken from, for the
	// normalized FlashSaleStock.flashSale (the same values, no read per
	// subscriber). Shared: nobody may mutate it.
	FlashSale *ent.FlashSale
}

// StockOf snapshots a sale at now.
func StockOf(s *ent.FlashSale, now time.Time) Stock {
	return Stock{
		FlashSaleID: s.ID,
		Quantity:    s.Quantity,
		Sold:        s.Sold,
		Remaining:   Remaining(s),
		Status:      StatusAt(s, now),
		UpdatedAt:   now.UTC(),
		FlashSale:   s,
	}
}
