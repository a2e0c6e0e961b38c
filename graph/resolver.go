// Package graph is the GraphQL layer: the schema (*.graphqls), thin
// resolvers that parse, authorize, call a domain package and map errors, and
// the server built from them.
package graph

import (
	"time"

	"unionmall/internal/account"
	"unionmall/internal/cart"
	"unionmall/internal/catalog"
	"unionmall/internal/coupons"
	"unionmall/internal/db"
	"unionmall/internal/flashsales"
	"unionmall/internal/live"
	"unionmall/internal/media"
	"unionmall/internal/orders"
	"unionmall/internal/orderwatch"
	"unionmall/internal/procurement"
	"unionmall/internal/stats"
)

// Resolver holds what the resolvers call.
type Resolver struct {
	DB          *db.DB
	Accounts    *account.Service
	Catalog     *catalog.Service
	Coupons     *coupons.Service
	Orders      *orders.Service
	Cart        *cart.Service
	FlashSales  *flashsales.Service
	Procurement *procurement.Service
	Stats       *stats.Cache
	Live        *live.Hub
	Media       *media.Service
	OrderWatch  *orderwatch.Watcher
	Now         func() time.Time
}
