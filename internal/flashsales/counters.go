package flashsales

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/order"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/orderstate"
)

// Counters are a live event's totals for broadcast overlays.
type Counters struct {
	LiveEventID gid.ID
	Orders      int
	UnitsSold   int
	Gmv         money.Fen
	FlashSales  []Stock
	UpdatedAt   time.Time
	// LiveEvent is the event's row as read with the counters (for
	// LiveEventCounters.liveEvent; nil from CountersOf). Shared: nobody
	// may mutate it.
	LiveEvent *ent.LiveEvent
}

// CountersOf computes a live event's counters from the database: its sales'
// stock, and the count and value of their live orders.
func CountersOf(ctx context.Context, client *ent.Client, liveEventID gid.ID, now time.Time) (*Counters, error) {
	sales, err := client.FlashSale.Query().
		Where(flashsale.LiveEventID(liveEventID)).
		Order(ent.Asc(flashsale.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("live counters: %w", err)
	}
	c := &Counters{LiveEventID: liveEventID, FlashSales: make([]Stock, 0, len(sales)), UpdatedAt: now.UTC()}
	ids := make([]gid.ID, 0, len(sales))
	for _, s := range sales {
		c.FlashSales = append(c.FlashSales, StockOf(s, now))
		c.UnitsSold += s.Sold
		ids = append(ids, s.ID)
	}
	if len(ids) == 0 {
		return c, nil
	}
	var agg []struct {
		Count int       `json:"count"`
		Sum   money.Fen `json:"sum"`
	}
	err = client.Order.Query().
		Where(order.FlashSaleIDIn(ids...), order.StatusIn(orderstate.LiveStatuses()...)).
		Aggregate(ent.Count(), ent.As(db.SumOrZero(order.FieldTotal), "sum")).
		Scan(ctx, &agg)
	if err != nil {
		return nil, fmt.Errorf("live counters: %w", err)
	}
	if len(agg) == 1 {
		c.Orders, c.Gmv = agg[0].Count, agg[0].Sum
	}
	return c, nil
}
