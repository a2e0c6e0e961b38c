package orders_test

import (
	"context"
	"testing"

	"unionmall/ent/member"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/gid"
	"unionmall/internal/orders"
	"unionmall/internal/role"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Place itself refuses an order for a purchasing unit unless the caller in
// ctx is a PURCHASER of that unit (an ADMIN is no exception), whoever calls
// it, and writes nothing then.
func TestPlaceForAUnitNeedsItsPurchaser(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	buyer := m.Verified("采购员")
	product := m.NewProduct("20.00", 10)
	ctx := context.Background()
	unit, err := d.Client.PurchasingUnit.Create().SetName("某工会").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.Client.PurchasingUnit.Create().SetName("另一工会").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	viewer := func(roles role.Set, unit *gid.ID) context.Context {
		return auth.WithViewer(ctx, &auth.Viewer{MemberID: gid.ID(buyer.ID), Roles: roles,
			Status: member.VerificationStatusVERIFIED, PurchasingUnitID: unit})
	}
	place := func(ctx context.Context) error {
		_, err := m.Server.Orders.Place(ctx, orders.Placement{BuyerID: gid.ID(buyer.ID), PurchasingUnitID: &unit.ID,
			Lines: []orders.Line{{ProductID: gid.ID(product), Quantity: 1}}})
		return err
	}
	for name, ctx := range map[string]context.Context{
		"no viewer":                    ctx,
		"a member":                     viewer(role.Set{role.Member}, &unit.ID),
		"an admin":                     viewer(role.Set{role.Member, role.Admin}, nil),
		"a purchaser of another unit":  viewer(role.Set{role.Member, role.Purchaser}, &other.ID),
		"a purchaser without any unit": viewer(role.Set{role.Member, role.Purchaser}, nil),
	} {
		if err := place(ctx); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("%s: %v, want FORBIDDEN", name, err)
		}
	}
	if n := d.Int(t, "SELECT COUNT(*) FROM orders"); n != 0 {
		t.Fatalf("%d orders written by refused placements", n)
	}
	if err := place(viewer(role.Set{role.Member, role.Purchaser}, &unit.ID)); err != nil {
		t.Fatalf("the unit's purchaser: %v", err)
	}
}
