package graph

import (
	"context"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/coupon"
	"unionmall/ent/couponcampaign"
	"unionmall/ent/flashsale"
	"unionmall/ent/liveevent"
	"unionmall/ent/member"
	"unionmall/ent/order"
	"unionmall/ent/procurementrecord"
	"unionmall/ent/product"
	"unionmall/ent/purchasingunit"
	"unionmall/ent/supplier"
	"unionmall/ent/unionorganization"
	"unionmall/internal/auth"
	"unionmall/internal/gid"
)

// nodeTables maps the ID prefix of every Node type to its table; an ID with
// any other prefix is no node at all.
var nodeTables = map[string]string{
	gid.UnionOrganization: unionorganization.Table,
	gid.Member:            member.Table,
	gid.PurchasingUnit:    purchasingunit.Table,
	gid.County:            county.Table,
	gid.Supplier:          supplier.Table,
	gid.Product:           product.Table,
	gid.CouponCampaign:    couponcampaign.Table,
	gid.Coupon:            coupon.Table,
	gid.LiveEvent:         liveevent.Table,
	gid.FlashSale:         flashsale.Table,
	gid.Order:             order.Table,
	gid.ProcurementRecord: procurementrecord.Table,
}

// maxNodes bounds one nodes(ids:) call.
const maxNodes = 100

// loadNode returns the node with that ID if the caller may see it, else
// nil: unknown IDs and other people's data look the same.
func (r *Resolver) loadNode(ctx context.Context, id gid.ID) (ent.Noder, error) {
	table, ok := nodeTables[id.Prefix()]
	if !ok {
		return nil, nil
	}
	n, err := r.DB.Client.Noder(ctx, id, ent.WithFixedNodeType(table))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !visible(ctx, n) {
		return nil, nil
	}
	return n, nil
}

// visible decides who may see a node: private data only by its owner and
// admins, off-sale products only by admins, everything else by anyone.
func visible(ctx context.Context, n ent.Noder) bool {
	switch n := n.(type) {
	case *ent.Product:
		return n.OnSale || auth.IsAdmin(ctx)
	case *ent.Member:
		return auth.SeesPrivate(ctx, n.ID)
	case *ent.Order:
		return auth.SeesPrivate(ctx, n.BuyerID)
	case *ent.Coupon:
		return auth.SeesPrivate(ctx, n.MemberID)
	case *ent.ProcurementRecord:
		v := auth.FromContext(ctx)
		return v.IsAdmin() || v.PurchasesFor(n.PurchasingUnitID)
	default:
		return true
	}
}
