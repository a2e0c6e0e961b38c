package live

// The purchase ticker of a live event (liveEventFeed): its latest
// purchases, names masked.

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/member"
	"unionmall/ent/order"
	"unionmall/ent/orderitem"
	"unionmall/ent/product"
	"unionmall/internal/gid"
	"unionmall/internal/mask"
	"unionmall/internal/orderstate"
)

// FeedSize is how many purchases the ticker shows.
const FeedSize = 20

// EventFeed is a live event's latest purchases, newest first.
type EventFeed struct {
	LiveEventID gid.ID
	LiveEvent   *ent.LiveEvent
	Purchases   []Purchase
	UpdatedAt   time.Time
}

// Purchase is one line of the ticker ("张* 抢到了 汉中香小榨菜籽油 5L ×1").
type Purchase struct {
	Buyer       string // masked as members' real names are (mask.Name)
	ProductName string
	Quantity    int
	At          time.Time
}

// FeedOf reads a live event's feed: the latest FeedSize live orders
// (awaiting payment included: the ticker says "抢到了", grabbed, as soon as
// the units are reserved, like liveEventBuyers counts them) of the event's
// flash sales. It costs four statements per load, whoever watches.
func FeedOf(ctx context.Context, client *ent.Client, ev *ent.LiveEvent, now time.Time) (*EventFeed, error) {
	orders, err := client.Order.Query().
		Where(order.HasFlashSaleWith(flashsale.LiveEventID(ev.ID)), order.StatusIn(orderstate.LiveStatuses()...)).
		Order(ent.Desc(order.FieldCreatedAt), ent.Desc(order.FieldID)).
		Limit(FeedSize).
		WithBuyer(func(q *ent.MemberQuery) { q.Select(member.FieldRealName, member.FieldDisplayName) }).
		WithItems(func(q *ent.OrderItemQuery) {
			q.Select(orderitem.FieldOrderID, orderitem.FieldProductID, orderitem.FieldQuantity).
				WithProduct(func(q *ent.ProductQuery) { q.Select(product.FieldName) })
		}).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("live feed: %w", err)
	}
	f := &EventFeed{LiveEventID: ev.ID, LiveEvent: ev, Purchases: make([]Purchase, 0, len(orders)), UpdatedAt: now.UTC()}
	for _, o := range orders {
		p := Purchase{Buyer: buyerName(o.Edges.Buyer), At: o.CreatedAt.UTC()}
		for _, it := range o.Edges.Items { // a flash-sale order has one line
			p.Quantity += it.Quantity
			if p.ProductName == "" && it.Edges.Product != nil {
				p.ProductName = it.Edges.Product.Name
			}
		}
		f.Purchases = append(f.Purchases, p)
	}
	return f, nil
}

// buyerName is the buyer's real name masked (flash-sale buyers are
// verified, so they have one), else their display name masked.
func buyerName(m *ent.Member) string {
	switch {
	case m == nil:
		return "*"
	case m.RealName != nil && *m.RealName != "":
		return mask.Name(*m.RealName)
	default:
		return mask.Name(m.DisplayName)
	}
}
