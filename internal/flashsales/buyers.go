package flashsales

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent/flashsale"
	"unionmall/ent/flashsaleholding"
	"unionmall/internal/gid"
)

// Buyers is how many members hold units of a live event's sales, for the
// overlay's "N 人已抢到".
type Buyers struct {
	LiveEventID gid.ID
	Buyers      int
	UpdatedAt   time.Time
}

// BuyersNow counts a live event's buyers from the database (the feed's
// loader). A holding counts units of live orders only (ReturnUnits takes
// them out when an order stops being live), so a member counts while they
// hold at least one.
func (s *Service) BuyersNow(ctx context.Context, liveEventID gid.ID) (*Buyers, error) {
	if err := s.liveEventExists(ctx, liveEventID); err != nil {
		return nil, fmt.Errorf("live buyers: %w", err)
	}
	n, err := s.db.Client.FlashSaleHolding.Query().
		Where(flashsaleholding.UnitsGT(0), flashsaleholding.HasFlashSaleWith(flashsale.LiveEventID(liveEventID))).
		Unique(true).
		Select(flashsaleholding.FieldMemberID).
		Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("live buyers: %w", err)
	}
	return &Buyers{LiveEventID: liveEventID, Buyers: n, UpdatedAt: s.now().UTC()}, nil
}
