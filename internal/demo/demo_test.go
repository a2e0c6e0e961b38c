package demo

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/coupontier"
	"unionmall/ent/flashsale"
	"unionmall/ent/procurementrecord"
	"unionmall/ent/product"
	"unionmall/ent/unionorganization"
	"unionmall/internal/money"
	"unionmall/internal/testdb"
)

// counts is how many rows each table holds.
type counts struct {
	Orgs, Counties, Suppliers, Products                   int
	Campaigns, Tiers, LiveEvents, FlashSales              int
	Units, Procurements, Members, Orders, Coupons, Tokens int
	TotalStock                                            int
}

func countAll(t *testing.T, c *ent.Client) counts {
	t.Helper()
	ctx := context.Background()
	var out counts
	for _, q := range []struct {
		n     *int
		count func(context.Context) (int, error)
	}{
		{&out.Orgs, c.UnionOrganization.Query().Count},
		{&out.Counties, c.County.Query().Count},
		{&out.Suppliers, c.Supplier.Query().Count},
		{&out.Products, c.Product.Query().Count},
		{&out.Campaigns, c.CouponCampaign.Query().Count},
		{&out.Tiers, c.CouponTier.Query().Count},
		{&out.LiveEvents, c.LiveEvent.Query().Count},
		{&out.FlashSales, c.FlashSale.Query().Count},
		{&out.Units, c.PurchasingUnit.Query().Count},
		{&out.Procurements, c.ProcurementRecord.Query().Count},
		{&out.Members, c.Member.Query().Count},
		{&out.Orders, c.Order.Query().Count},
		{&out.Coupons, c.Coupon.Query().Count},
		{&out.Tokens, c.AuthToken.Query().Count},
	} {
		n, err := q.count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		*q.n = n
	}
	ps, err := c.Product.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		out.TotalStock += p.Stock
	}
	return out
}

// wantCounts is one load's worth of rows, from the tables.
func wantCounts() counts {
	stock := 0
	for _, p := range products {
		stock += p.stock
	}
	for _, s := range flashSales {
		stock -= s.quantity
	}
	return counts{
		Orgs: len(orgs), Counties: len(counties), Suppliers: len(suppliers), Products: len(products),
		Campaigns: 1, Tiers: 4, LiveEvents: 1, FlashSales: len(flashSales),
		Units: len(units), Procurements: len(procurements),
		TotalStock: stock,
	}
}

func TestLoad(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		c := d.Client
		now := time.Now().UTC()
		ok, err := Load(ctx, d.DB, now)
		if err != nil || !ok {
			t.Fatalf("Load on an empty database = %v, %v; want true, nil", ok, err)
		}
		want := wantCounts()
		if got := countAll(t, c); got != want {
			t.Fatalf("counts after Load:\n got %+v\nwant %+v", got, want)
		}
		if want.Orgs < 9 || want.Products < 15 || want.Suppliers < 8 || want.Units < 3 || want.Procurements < 3 {
			t.Errorf("the demo catalogue is thin: %+v", want)
		}

		t.Run("organizations", func(t *testing.T) {
			roots := c.UnionOrganization.Query().Where(unionorganization.ParentIDIsNil()).
				Select(unionorganization.FieldName).StringsX(ctx)
			if len(roots) != 1 || roots[0] != "陕西省总工会" {
				t.Fatalf("organizations without parent: %v; want only 陕西省总工会", roots)
			}
			prov := c.UnionOrganization.Query().Where(unionorganization.Name("陕西省总工会"),
				unionorganization.KindEQ(unionorganization.KindPROVINCIAL)).OnlyIDX(ctx)
			byName := map[string]*ent.UnionOrganization{}
			kinds := map[unionorganization.Kind]int{unionorganization.KindPROVINCIAL: 1}
			for _, o := range c.UnionOrganization.Query().AllX(ctx) {
				if o.ParentID == nil {
					continue
				}
				byName[o.Name] = o
				kinds[o.Kind]++
			}
			for _, name := range []string{"西安市总工会", "咸阳市总工会", "宝鸡市总工会", "渭南市总工会", "铜川市总工会"} {
				o := byName[name]
				if o == nil || o.Kind != unionorganization.KindCITY || *o.ParentID != prov {
					t.Errorf("%s = %+v; want a CITY under the provincial federation", name, o)
				}
			}
			for _, k := range []unionorganization.Kind{unionorganization.KindPROVINCIAL, unionorganization.KindCITY,
				unionorganization.KindINDUSTRY, unionorganization.KindDIRECT, unionorganization.KindGRASSROOTS} {
				if kinds[k] == 0 {
					t.Errorf("no organization of kind %s", k)
				}
			}
			if o := byName["咸阳纺织集团有限公司工会"]; o == nil || o.Kind != unionorganization.KindGRASSROOTS ||
				*o.ParentID != byName["咸阳市总工会"].ID {
				t.Errorf("咸阳纺织集团有限公司工会 = %+v; want GRASSROOTS under 咸阳市总工会", o)
			}
		})

		t.Run("counties and suppliers", func(t *testing.T) {
			for _, s := range []county.PovertyStatus{county.PovertyStatusLIFTED, county.PovertyStatusNON_POOR_WITH_TASKS} {
				if n := c.County.Query().Where(county.PovertyStatusEQ(s)).CountX(ctx); n == 0 {
					t.Errorf("no county is %s", s)
				}
			}
			s := c.Supplier.Query().AllX(ctx)
			found := false
			for _, x := range s {
				if x.Beneficiaries <= 0 {
					t.Errorf("supplier %s has no beneficiaries", x.Name)
				}
				if x.Name == "宁陕引汉济渭开发有限公司" {
					found = true
					if cty := x.QueryCounty().OnlyX(ctx); cty.Name != "宁陕县" || cty.City != "安康市" {
						t.Errorf("宁陕引汉济渭开发有限公司 is in %s %s", cty.City, cty.Name)
					}
				}
			}
			if !found {
				t.Error("宁陕引汉济渭开发有限公司 is missing")
			}
		})

		t.Run("products", func(t *testing.T) {
			ps := c.Product.Query().WithSupplier().WithFlashSales().AllX(ctx)
			rows := map[string]productRow{}
			for _, r := range products {
				rows[r.name] = r
			}
			cats := map[product.Category]int{}
			offSale, rounded := 0, 0
			for _, p := range ps {
				cats[p.Category]++
				if !p.OnSale {
					offSale++
				}
				if p.CountyID != p.Edges.Supplier.CountyID {
					t.Errorf("%s: county is not its supplier's", p.Name)
				}
				if p.Description == "" {
					t.Errorf("%s has no description", p.Name)
				}
				if p.SalePrice <= 0 || p.SalePrice > p.Price {
					t.Errorf("%s: sale price %s, price %s", p.Name, p.SalePrice, p.Price)
				}
				if p.Category == product.CategorySEASONAL {
					if want := p.Price.Share(75, 100); p.SalePrice != want {
						t.Errorf("%s: sale price %s; want 7.5折 of %s = %s", p.Name, p.SalePrice, p.Price, want)
					}
					if p.Price*75%100 != 0 {
						rounded++
					}
				}
				// Flash sales took their units from the stock, nothing else did.
				taken := 0
				for _, s := range p.Edges.FlashSales {
					taken += s.Quantity
				}
				if want := rows[p.Name].stock - taken; p.Stock != want || p.Stock < 100 {
					t.Errorf("%s: stock %d; want %d (hundreds at least)", p.Name, p.Stock, want)
				}
			}
			for _, k := range []product.Category{product.CategoryTEA, product.CategoryMOUNTAIN_GOODS, product.CategorySNACKS,
				product.CategoryGRAIN_OIL, product.CategorySEASONAL, product.CategoryOTHER} {
				if cats[k] == 0 {
					t.Errorf("no product in category %s", k)
				}
			}
			if offSale != 1 {
				t.Errorf("%d products off sale; want 1", offSale)
			}
			if rounded == 0 {
				t.Error("no seasonal product whose 7.5折 needs rounding")
			}
			oil := c.Product.Query().Where(product.Name("汉中香小榨菜籽油 5L")).OnlyX(ctx)
			if oil.Stock != 6500 || !oil.OnSale || oil.Category != product.CategoryGRAIN_OIL {
				t.Errorf("汉中香小榨菜籽油 5L: stock %d, on sale %v, %s; want 6500 left on sale in GRAIN_OIL",
					oil.Stock, oil.OnSale, oil.Category)
			}
		})

		t.Run("coupon campaign", func(t *testing.T) {
			cp := c.CouponCampaign.Query().OnlyX(ctx)
			if cp.Name != "消费扶贫优惠券" || cp.Budget != money.FromYuan(10_000_000) || cp.Budget.String() != "10000000.00" ||
				cp.PackValue.String() != "180.00" || cp.IssuedValue != 0 || cp.PacksClaimed != 0 {
				t.Errorf("campaign %+v", cp)
			}
			if cp.DailyPackQuota == nil || *cp.DailyPackQuota <= 0 {
				t.Errorf("campaign has no daily pack quota")
			}
			if cp.ClaimStartsAt.After(now) || !now.Before(cp.ClaimEndsAt) || cp.ClaimEndsAt.Sub(cp.ClaimStartsAt) != 5*24*time.Hour {
				t.Errorf("claim window %v..%v does not run from now for 5 days", cp.ClaimStartsAt, cp.ClaimEndsAt)
			}
			if cp.ValidFrom.After(now) || cp.ValidUntil.Sub(cp.ValidFrom) != 7*24*time.Hour {
				t.Errorf("validity %v..%v does not run from now for 7 days", cp.ValidFrom, cp.ValidUntil)
			}
			ts := cp.QueryTiers().Order(ent.Asc(coupontier.FieldPosition)).AllX(ctx)
			want := [][2]string{{"20.00", "10.00"}, {"40.00", "20.00"}, {"100.00", "50.00"}, {"200.00", "100.00"}}
			if len(ts) != len(want) {
				t.Fatalf("%d tiers; want %d", len(ts), len(want))
			}
			var sum money.Fen
			for i, tr := range ts {
				if tr.Position != i || tr.Threshold.String() != want[i][0] || tr.Discount.String() != want[i][1] {
					t.Errorf("tier %d = 满%s减%s at %d; want 满%s减%s", i, tr.Threshold, tr.Discount, tr.Position, want[i][0], want[i][1])
				}
				sum += tr.Discount
			}
			if sum != cp.PackValue {
				t.Errorf("pack value %s; tiers sum to %s", cp.PackValue, sum)
			}
		})

		t.Run("live event and flash sales", func(t *testing.T) {
			ev := c.LiveEvent.Query().OnlyX(ctx)
			if ev.StartsAt.After(now) || !now.Before(ev.EndsAt) || ev.StreamURL == nil || !strings.HasPrefix(*ev.StreamURL, "https://") {
				t.Errorf("live event %+v is not happening now with an https stream", ev)
			}
			oil := c.FlashSale.Query().
				Where(flashsale.HasProductWith(product.Name("汉中香小榨菜籽油 5L"))).OnlyX(ctx)
			if oil.Price.String() != "1.00" || oil.Quantity != 3500 || oil.PerMemberLimit != 1 || oil.Sold != 0 {
				t.Errorf("oil flash sale %+v; want 3500 at 1.00, one per member", oil)
			}
			if oil.LiveEventID == nil || *oil.LiveEventID != ev.ID {
				t.Errorf("oil flash sale is not in the live event")
			}
			if oil.StartsAt.After(now) || !now.Before(oil.EndsAt) || !oil.EndsAt.Equal(ev.EndsAt) {
				t.Errorf("oil flash sale %v..%v is not active at %v until the event's end %v", oil.StartsAt, oil.EndsAt, now, ev.EndsAt)
			}
			for _, s := range ev.QueryFlashSales().AllX(ctx) {
				if s.ID != oil.ID && !s.StartsAt.After(now) {
					t.Errorf("the second flash sale (%v) should be scheduled later", s.StartsAt)
				}
			}
		})

		t.Run("procurement", func(t *testing.T) {
			for _, r := range c.ProcurementRecord.Query().WithPurchasingUnit().AllX(ctx) {
				if r.Channel != procurementrecord.ChannelOFFLINE || r.Amount <= 0 || !r.OccurredOn.Before(now) ||
					r.Note == nil || *r.Note == "" || r.Edges.PurchasingUnit.OrganizationID == nil {
					t.Errorf("procurement record %+v", r)
				}
			}
		})

		// Loaded once: a second Load leaves everything as it was.
		ok, err = Load(ctx, d.DB, now.Add(time.Hour))
		if err != nil || ok {
			t.Fatalf("second Load = %v, %v; want false, nil", ok, err)
		}
		if got := countAll(t, c); got != want {
			t.Fatalf("counts after the second Load:\n got %+v\nwant %+v", got, want)
		}
	})
}

// A database that holds anything of a catalogue is left alone.
func TestLoadLeavesNonEmptyAlone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		c := d.Client
		c.UnionOrganization.Create().SetName("某市总工会").SetKind(unionorganization.KindCITY).ExecX(ctx)
		if ok, err := Load(ctx, d.DB, time.Now()); err != nil || ok {
			t.Fatalf("Load with an organization = %v, %v; want false, nil", ok, err)
		}
		c.UnionOrganization.Delete().ExecX(ctx)
		cty := c.County.Create().SetName("某县").SetCity("某市").SetPovertyStatus(county.PovertyStatusLIFTED).SaveX(ctx)
		sup := c.Supplier.Create().SetName("某公司").SetCountyID(cty.ID).SetBeneficiaries(1).SaveX(ctx)
		c.Product.Create().SetName("某产品").SetCategory(product.CategoryOTHER).
			SetPrice(100).SetSalePrice(100).SetStock(1).SetStockReceived(1).SetSupplierID(sup.ID).SetCountyID(cty.ID).ExecX(ctx)
		if ok, err := Load(ctx, d.DB, time.Now()); err != nil || ok {
			t.Fatalf("Load with a product = %v, %v; want false, nil", ok, err)
		}
		got := countAll(t, c)
		if want := (counts{Counties: 1, Suppliers: 1, Products: 1, TotalStock: 1}); got != want {
			t.Fatalf("counts:\n got %+v\nwant %+v", got, want)
		}
	})
}

// Instances starting together load once.
func TestLoadConcurrent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		const n = 4
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			results = make([]bool, n)
			errs    = make([]error, n)
		)
		now := time.Now()
		for i := range n {
			wg.Go(func() {
				<-start
				results[i], errs[i] = Load(context.Background(), d.DB, now)
			})
		}
		close(start)
		wg.Wait()
		loaded := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("Load %d: %v", i, errs[i])
			}
			if results[i] {
				loaded++
			}
		}
		if loaded != 1 {
			t.Errorf("%d concurrent Loads reported loading; want exactly 1", loaded)
		}
		if got, want := countAll(t, d.Client), wantCounts(); got != want {
			t.Fatalf("counts after concurrent Loads:\n got %+v\nwant %+v", got, want)
		}
	})
}
