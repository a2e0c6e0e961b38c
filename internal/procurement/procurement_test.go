package procurement_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/procurement"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// A record is refused, writing nothing and announcing nothing, for every
// input a user can get wrong; a good one is stored and moves the totals.
func TestRecordOffline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		c := d.Client
		county := c.County.Create().SetName("镇安县").SetCity("商洛市").SetPovertyStatus("LIFTED").SaveX(ctx)
		sup := c.Supplier.Create().SetName("镇安合作社").SetCountyID(county.ID).SetBeneficiaries(10).SaveX(ctx)
		unit := c.PurchasingUnit.Create().SetName("省总工会机关食堂").SaveX(ctx)
		admin := c.Member.Create().SetPhone("13900000001").SetPasswordHash("x").SetDisplayName("管理员").
			SetRoles(role.Set{role.Member, role.Admin}).SaveX(ctx)

		reg := changes.New()
		announced := 0
		reg.On(changes.StatsKind, changes.Handler{Changed: func(changes.Change) { announced++ }})
		svc := procurement.New(d.DB, reg)
		good := func() procurement.Offline {
			return procurement.Offline{PurchasingUnitID: unit.ID, SupplierID: sup.ID, Amount: 1234 * money.Yuan,
				OccurredOn: time.Now().Add(-24 * time.Hour), RecordedBy: admin.ID}
		}
		note := func(s string) *string { return &s }
		for _, tc := range []struct {
			name  string
			edit  func(*procurement.Offline)
			code  apperr.Code
			field string
		}{
			{"zero amount", func(o *procurement.Offline) { o.Amount = 0 }, apperr.BadUserInput, "amount"},
			{"negative amount", func(o *procurement.Offline) { o.Amount = -1 }, apperr.BadUserInput, "amount"},
			{"in the future", func(o *procurement.Offline) { o.OccurredOn = time.Now().Add(time.Hour) }, apperr.BadUserInput, "occurredOn"},
			{"note too long", func(o *procurement.Offline) { o.Note = note(strings.Repeat("茶", 501)) }, apperr.BadUserInput, "note"},
			{"note with a control character", func(o *procurement.Offline) { o.Note = note("采购\u202e单") }, apperr.BadUserInput, "note"},
			{"unknown unit", func(o *procurement.Offline) { o.PurchasingUnitID = gid.New(gid.PurchasingUnit) }, apperr.NotFound, ""},
			{"unknown supplier", func(o *procurement.Offline) { o.SupplierID = gid.New(gid.Supplier) }, apperr.NotFound, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := good()
				tc.edit(&o)
				_, err := svc.RecordOffline(ctx, o)
				if apperr.CodeOf(err) != tc.code {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				if e, ok := err.(*apperr.Error); ok && tc.field != "" && e.Field != tc.field {
					t.Errorf("field %q, want %q", e.Field, tc.field)
				}
				if n := d.Int(t, "SELECT COUNT(*) FROM procurement_records"); n != 0 || announced != 0 {
					t.Fatalf("a refusal wrote %d records and announced %d changes", n, announced)
				}
			})
		}

		o := good()
		o.Note = note("  第三季度茶叶  ")
		r, err := svc.RecordOffline(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Note == nil || *r.Note != "第三季度茶叶" || r.Amount != o.Amount || r.Channel != "OFFLINE" {
			t.Errorf("stored %+v", r)
		}
		if announced != 1 {
			t.Errorf("announced %d changes of the totals, want 1", announced)
		}
	})
}
