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
	if ok, err := r.maySee(ctx, id); !ok || err != nil {
		return nil, err
	}
	n, err := r.DB.Client.Noder(ctx, id, ent.WithFixedNodeType(table))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return n, err
}

// maySee decides who may see a node, before it is loaded (a loaded node
// holds only the fields its query selected): private data its owner and
// admins, products off sale and their flash sales admins (visibility.go),
// everything else anyone.
func (r *Resolver) maySee(ctx context.Context, id gid.ID) (bool, error) {
	v := auth.FromContext(ctx)
	if v.IsAdmin() {
		return true, nil
	}
	c := r.DB.Client
	switch id.Prefix() {
	case gid.Product:
		return c.Product.Query().Where(product.ID(id)).Where(productShown(ctx)...).Exist(ctx)
	case gid.FlashSale:
		return c.FlashSale.Query().Where(flashsale.ID(id)).Where(saleShown(ctx)...).Exist(ctx)
	case gid.Member:
		return v != nil && v.MemberID == id, nil
	case gid.Order:
		if v == nil {
			return false, nil
		}
		return c.Order.Query().Where(order.ID(id), order.BuyerID(v.MemberID)).Exist(ctx)
	case gid.Coupon:
		if v == nil {
			return false, nil
		}
		return c.Coupon.Query().Where(coupon.ID(id), coupon.MemberID(v.MemberID)).Exist(ctx)
	case gid.ProcurementRecord:
		if v == nil || v.PurchasingUnitID == nil || !v.PurchasesFor(*v.PurchasingUnitID) {
			return false, nil
		}
		return c.ProcurementRecord.Query().
			Where(procurementrecord.ID(id), procurementrecord.PurchasingUnitID(*v.PurchasingUnitID)).Exist(ctx)
	default:
		return true, nil
	}
}

// visible is a typed lookup's check: the ID is of that type and the caller
// may see it, by node's rules (maySee).
func (r *Resolver) visible(ctx context.Context, id gid.ID, prefix string) (bool, error) {
	if !id.Is(prefix) {
		return false, nil
	}
	return r.maySee(ctx, id)
}

// orNil is a lookup's answer: not found is null, not an error.
func orNil[T any](v *T, err error) (*T, error) {
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return v, err
}
