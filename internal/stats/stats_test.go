package stats_test

// The platform's totals (issue 3, criterion 8), checked to the fen against a
// generated data set of thousands of rows whose figures the test computes
// itself, in Go, while it generates them: through stats.Compute, through the
// real GraphQL endpoint, and as recordOfflineProcurement changes them. Plus
// the cache in front of them.

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/coupon"
	"unionmall/ent/member"
	"unionmall/ent/order"
	"unionmall/ent/procurementrecord"
	"unionmall/ent/product"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
	"unionmall/internal/servertest"
	"unionmall/internal/stats"
	"unionmall/internal/testdb"
)

// Sizes of the generated data set.
const (
	nUnits       = 50
	nMembers     = 2000
	nCounties    = 4
	nProducts    = 200
	nOrders      = 3000
	nProcurement = 500
	nPacks       = 1000 // × 4 tiers = 4000 coupons
	chunk        = 400  // rows per INSERT
)

// Kinds of supplier, so that every branch of the beneficiaries rule is hit.
type supplierKind int

const (
	sellsPaid    supplierKind = iota // in paid orders only
	sellsBoth                        // in paid orders and in recorded procurement
	procOnly                         // recorded procurement only (and unpaid orders)
	unpaidOnly                       // only in orders that are not (or no longer) paid
	sellsNothing                     // has products, nothing else
)

var supplierKinds = []supplierKind{
	sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid, sellsPaid,
	sellsBoth, sellsBoth, sellsBoth, sellsBoth, sellsBoth, sellsBoth, sellsBoth, sellsBoth,
	procOnly, procOnly, procOnly, procOnly, procOnly, procOnly, procOnly, procOnly,
	unpaidOnly, unpaidOnly, unpaidOnly, unpaidOnly, unpaidOnly, unpaidOnly,
	sellsNothing, sellsNothing, sellsNothing, sellsNothing, sellsNothing, sellsNothing,
}

var allStatuses = []order.Status{
	order.StatusPENDING_PAYMENT, order.StatusPAID, order.StatusSHIPPED, order.StatusCOMPLETED,
	order.StatusCANCELLED, order.StatusEXPIRED, order.StatusREFUNDED,
}

// paid is the contract's rule, written out here rather than taken from the
// package under test: online procurement counts paid, shipped and completed
// orders.
func paid(s order.Status) bool {
	return s == order.StatusPAID || s == order.StatusSHIPPED || s == order.StatusCOMPLETED
}

// expected are the figures the test computes while generating.
type expected struct {
	PurchasingUnits, Members, VerifiedMembers int
	Online, Offline, Total                    money.Fen
	PaidOrders, Beneficiaries                 int
	CouponsIssued, CouponsRedeemed            int
}

// dataset is what the generator made: IDs the API part of the test needs,
// and the expected totals.
type dataset struct {
	want          expected
	units         []gid.ID
	suppliers     []gid.ID
	kinds         []supplierKind
	beneficiaries []int
	counted       []bool // the supplier's beneficiaries count
}

type genCoupon struct {
	id                  gid.ID
	threshold, discount money.Fen
	status              coupon.Status
	orderID             *gid.ID
}

// generate writes the data set with the ent client in bulk and computes its
// figures in Go.
func generate(t testing.TB, client *ent.Client, seed int64) *dataset {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewSource(seed))
	now := time.Now().UTC().Truncate(time.Second)
	ds := &dataset{}

	// Purchasing units.
	units := make([]*ent.PurchasingUnitCreate, nUnits)
	for i := range units {
		id := gid.New(gid.PurchasingUnit)
		ds.units = append(ds.units, id)
		units[i] = client.PurchasingUnit.Create().SetID(id).
			SetName(fmt.Sprintf("采购单位%03d", i)).SetRegisteredAt(now.Add(-time.Duration(i) * time.Hour))
	}
	inChunks(t, len(units), func(lo, hi int) error { return client.PurchasingUnit.CreateBulk(units[lo:hi]...).Exec(ctx) })
	ds.want.PurchasingUnits = nUnits

	// Members: the first nUnits are PURCHASERs (one per unit) and VERIFIED;
	// the rest are in every verification state, most of them VERIFIED.
	var verified []gid.ID
	unitOf := map[gid.ID]gid.ID{}
	members := make([]*ent.MemberCreate, nMembers)
	for i := range members {
		id := gid.New(gid.Member)
		c := client.Member.Create().SetID(id).
			SetPhone(fmt.Sprintf("150%08d", i)).
			SetPasswordHash("not-a-real-hash").
			SetDisplayName(fmt.Sprintf("会员%04d", i)).
			SetCreatedAt(now.Add(-time.Duration(i) * time.Minute))
		var st member.VerificationStatus
		switch r := rng.Intn(100); {
		case i < nUnits || r < 60:
			st = member.VerificationStatusVERIFIED
		case r < 75:
			st = member.VerificationStatusPENDING
		case r < 90:
			st = member.VerificationStatusUNVERIFIED
		default:
			st = member.VerificationStatusREJECTED
		}
		c.SetVerificationStatus(st)
		if st != member.VerificationStatusUNVERIFIED {
			c.SetRealName("张" + strconv.Itoa(i)).SetIDNumberHmac(fmt.Sprintf("hmac-%d", i)).
				SetIDNumberMasked("6101**********123X").SetVerificationSubmittedAt(now.Add(-time.Hour))
		}
		if i < nUnits {
			c.SetRoles(role.Set{role.Member, role.Purchaser}).SetPurchasingUnitID(ds.units[i])
			unitOf[id] = ds.units[i]
		} else {
			c.SetRoles(role.Set{role.Member})
		}
		if st == member.VerificationStatusVERIFIED {
			verified = append(verified, id)
		}
		members[i] = c
	}
	inChunks(t, len(members), func(lo, hi int) error { return client.Member.CreateBulk(members[lo:hi]...).Exec(ctx) })
	ds.want.Members = nMembers
	ds.want.VerifiedMembers = len(verified)

	// Counties, suppliers with random beneficiaries, products.
	counties := make([]gid.ID, nCounties)
	for i := range counties {
		counties[i] = gid.New(gid.County)
		st := county.PovertyStatusLIFTED
		if i%2 == 1 {
			st = county.PovertyStatusNON_POOR_WITH_TASKS
		}
		if err := client.County.Create().SetID(counties[i]).SetName(fmt.Sprintf("县%d", i)).
			SetCity("汉中市").SetPovertyStatus(st).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Shuffle the kinds so that a supplier's kind is not its position.
	ds.kinds = append([]supplierKind(nil), supplierKinds...)
	rng.Shuffle(len(ds.kinds), func(i, j int) { ds.kinds[i], ds.kinds[j] = ds.kinds[j], ds.kinds[i] })
	supplierCounty := make([]gid.ID, len(ds.kinds))
	suppliers := make([]*ent.SupplierCreate, len(ds.kinds))
	for i := range suppliers {
		id := gid.New(gid.Supplier)
		ben := 1 + rng.Intn(300)
		ds.suppliers = append(ds.suppliers, id)
		ds.beneficiaries = append(ds.beneficiaries, ben)
		supplierCounty[i] = counties[rng.Intn(nCounties)]
		suppliers[i] = client.Supplier.Create().SetID(id).SetName(fmt.Sprintf("扶贫企业%02d", i)).
			SetCountyID(supplierCounty[i]).SetBeneficiaries(ben)
	}
	inChunks(t, len(suppliers), func(lo, hi int) error { return client.Supplier.CreateBulk(suppliers[lo:hi]...).Exec(ctx) })

	type genProduct struct {
		id       gid.ID
		supplier int
		price    money.Fen
	}
	prods := make([]genProduct, nProducts)
	products := make([]*ent.ProductCreate, nProducts)
	categories := []product.Category{product.CategoryTEA, product.CategoryMOUNTAIN_GOODS, product.CategorySNACKS, product.CategoryGRAIN_OIL, product.CategorySEASONAL, product.CategoryOTHER}
	for i := range prods {
		s := i % len(ds.suppliers) // every supplier has products
		price := money.Fen(100 + rng.Intn(50000))
		sale := price
		if rng.Intn(4) == 0 {
			sale = price.Share(75, 100) // 7.5折
		}
		prods[i] = genProduct{id: gid.New(gid.Product), supplier: s, price: sale}
		stock := rng.Intn(1000)
		products[i] = client.Product.Create().SetID(prods[i].id).SetName(fmt.Sprintf("商品%03d", i)).
			SetCategory(categories[rng.Intn(len(categories))]).SetPrice(price).SetSalePrice(sale).
			SetStock(stock).SetStockReceived(stock).SetSupplierID(ds.suppliers[s]).SetCountyID(supplierCounty[s])
	}
	inChunks(t, len(products), func(lo, hi int) error { return client.Product.CreateBulk(products[lo:hi]...).Exec(ctx) })
	byKind := map[supplierKind][]genProduct{}
	for _, p := range prods {
		byKind[ds.kinds[p.supplier]] = append(byKind[ds.kinds[p.supplier]], p)
	}
	// Paid orders buy from suppliers that sell; the others from anyone
	// but those that sell nothing.
	paidStock := append(append([]genProduct{}, byKind[sellsPaid]...), byKind[sellsBoth]...)
	unpaidStock := append(append(append([]genProduct{}, paidStock...), byKind[procOnly]...), byKind[unpaidOnly]...)

	// A coupon campaign (the four tiers) and nPacks packs claimed by
	// distinct VERIFIED members.
	tiers := []struct{ threshold, discount money.Fen }{{2000, 1000}, {4000, 2000}, {10000, 5000}, {20000, 10000}}
	campaign := gid.New(gid.CouponCampaign)
	if err := client.CouponCampaign.Create().SetID(campaign).SetName("消费扶贫优惠券").
		SetBudget(money.FromYuan(10_000_000)).SetIssuedValue(18000 * nPacks).SetPackValue(18000).
		SetPacksClaimed(nPacks).
		SetClaimStartsAt(now.AddDate(0, 0, -10)).SetClaimEndsAt(now.AddDate(0, 0, 20)).
		SetValidFrom(now.AddDate(0, 0, -10)).SetValidUntil(now.AddDate(0, 0, 30)).
		Exec(ctx); err != nil {
		t.Fatal(err)
	}
	tierIDs := make([]gid.ID, len(tiers))
	for i, tr := range tiers {
		tierIDs[i] = gid.New(gid.CouponTier)
		if err := client.CouponTier.Create().SetID(tierIDs[i]).SetCampaignID(campaign).
			SetThreshold(tr.threshold).SetDiscount(tr.discount).SetPosition(i).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(verified) < nPacks {
		t.Fatalf("only %d verified members for %d packs", len(verified), nPacks)
	}
	holders := append([]gid.ID(nil), verified...)
	rng.Shuffle(len(holders), func(i, j int) { holders[i], holders[j] = holders[j], holders[i] })
	holders = holders[:nPacks]
	var allCoupons []*genCoupon
	couponsOf := map[gid.ID][]*genCoupon{}
	for _, m := range holders {
		for _, tr := range tiers {
			c := &genCoupon{id: gid.New(gid.Coupon), threshold: tr.threshold, discount: tr.discount, status: coupon.StatusAVAILABLE}
			allCoupons = append(allCoupons, c)
			couponsOf[m] = append(couponsOf[m], c)
		}
	}
	ds.want.CouponsIssued = len(allCoupons)

	// Orders in every status, 1–3 lines each, some with a coupon. The
	// coupon's state follows the order's as the services would leave it.
	type genItem struct {
		order    gid.ID
		product  genProduct
		quantity int
	}
	var items []genItem
	orders := make([]*ent.OrderCreate, nOrders)
	hasPaidLine := make([]bool, len(ds.suppliers))
	hasUnpaidLine := make([]bool, len(ds.suppliers))
	statusSeen := map[order.Status]int{}
	for i := range orders {
		st := allStatuses[rng.Intn(len(allStatuses))]
		statusSeen[st]++
		id := gid.New(gid.Order)
		buyer := verified[rng.Intn(len(verified))]
		stock := unpaidStock
		if paid(st) || st == order.StatusREFUNDED {
			// A refunded order was paid once: its lines come from suppliers
			// that also have paid orders, or from unpaid-only ones, so that
			// both "refund takes it out" and "still counted" are exercised.
			stock = paidStock
			if st == order.StatusREFUNDED && rng.Intn(2) == 0 {
				stock = byKind[unpaidOnly]
			}
		}
		lines := 1 + rng.Intn(3)
		perm := rng.Perm(len(stock))[:lines]
		var subtotal money.Fen
		for _, k := range perm {
			p := stock[k]
			q := 1 + rng.Intn(5)
			if rng.Intn(50) == 0 {
				q = 1 + rng.Intn(999)
			}
			items = append(items, genItem{order: id, product: p, quantity: q})
			subtotal += p.price.Times(q)
			if paid(st) {
				hasPaidLine[p.supplier] = true
			} else {
				hasUnpaidLine[p.supplier] = true
			}
		}
		var discount money.Fen
		var used *genCoupon
		if cs := couponsOf[buyer]; len(cs) > 0 && rng.Intn(3) == 0 {
			for _, c := range cs { // the best applicable one
				if c.status == coupon.StatusAVAILABLE && c.threshold <= subtotal && (used == nil || c.discount > used.discount) {
					used = c
				}
			}
		}
		if used != nil {
			discount = used.discount
			switch {
			case st == order.StatusPENDING_PAYMENT:
				used.status, used.orderID = coupon.StatusRESERVED, &id
			case paid(st) || st == order.StatusREFUNDED:
				used.status, used.orderID = coupon.StatusUSED, &id
			default: // cancelled or expired: given back
			}
		}
		created := now.Add(-time.Duration(1+rng.Intn(30*24*60)) * time.Minute)
		c := client.Order.Create().SetID(id).
			SetNumber(fmt.Sprintf("T%s%08d", created.Format("20060102150405"), i)).
			SetBuyerID(buyer).
			SetSubtotal(subtotal).SetDiscount(discount).SetTotal(subtotal - discount).
			SetStatus(st).SetCreatedAt(created).SetPayBy(created.Add(15 * time.Minute))
		if used != nil {
			c.SetCouponID(used.id)
		}
		if u, ok := unitOf[buyer]; ok && rng.Intn(2) == 0 {
			c.SetPurchasingUnitID(u)
		}
		switch st {
		case order.StatusPENDING_PAYMENT:
			c.SetCreatedAt(now.Add(-time.Minute)).SetPayBy(now.Add(time.Hour)) // not due for expiry
		case order.StatusCANCELLED, order.StatusEXPIRED:
			c.SetClosedAt(created.Add(15 * time.Minute))
		default:
			c.SetPaidAt(created.Add(time.Minute)).SetPaymentReference(fmt.Sprintf("PAY-%d", i))
			if st == order.StatusSHIPPED || st == order.StatusCOMPLETED {
				c.SetTrackingNumber(fmt.Sprintf("SF%d", i)).SetShippedAt(created.Add(time.Hour))
			}
			if st == order.StatusCOMPLETED {
				c.SetCompletedAt(created.Add(48 * time.Hour))
			}
			if st == order.StatusREFUNDED {
				c.SetRefundReason("质量问题").SetClosedAt(created.Add(24 * time.Hour))
			}
		}
		orders[i] = c
		if paid(st) {
			ds.want.PaidOrders++
			ds.want.Online += subtotal - discount
		}
	}
	for _, st := range allStatuses {
		if statusSeen[st] == 0 {
			t.Fatalf("no order generated in status %s", st)
		}
	}

	// Coupons first (orders refer to them), then orders and their lines,
	// then the coupons' holding orders.
	couponRows := make([]*ent.CouponCreate, len(allCoupons))
	for i, c := range allCoupons {
		couponRows[i] = client.Coupon.Create().SetID(c.id).SetCampaignID(campaign).
			SetTierID(tierIDs[i%len(tiers)]).SetMemberID(holders[i/len(tiers)]).
			SetThreshold(c.threshold).SetDiscount(c.discount).SetStatus(c.status).
			SetValidFrom(now.AddDate(0, 0, -10)).SetValidUntil(now.AddDate(0, 0, 30)).
			SetClaimedAt(now.AddDate(0, 0, -9))
		if c.status == coupon.StatusUSED {
			ds.want.CouponsRedeemed++
		}
	}
	inChunks(t, len(couponRows), func(lo, hi int) error { return client.Coupon.CreateBulk(couponRows[lo:hi]...).Exec(ctx) })
	inChunks(t, len(orders), func(lo, hi int) error { return client.Order.CreateBulk(orders[lo:hi]...).Exec(ctx) })
	itemRows := make([]*ent.OrderItemCreate, len(items))
	for i, it := range items {
		itemRows[i] = client.OrderItem.Create().SetOrderID(it.order).SetProductID(it.product.id).
			SetQuantity(it.quantity).SetUnitPrice(it.product.price).SetLineTotal(it.product.price.Times(it.quantity))
	}
	inChunks(t, len(itemRows), func(lo, hi int) error { return client.OrderItem.CreateBulk(itemRows[lo:hi]...).Exec(ctx) })
	tx, err := client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range allCoupons {
		if c.orderID != nil {
			if err := tx.Coupon.UpdateOneID(c.id).SetOrderID(*c.orderID).Exec(ctx); err != nil {
				_ = tx.Rollback()
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// Offline procurement from the suppliers that have it.
	procSuppliers := []int{}
	for i, k := range ds.kinds {
		if k == sellsBoth || k == procOnly {
			procSuppliers = append(procSuppliers, i)
		}
	}
	hasProc := make([]bool, len(ds.suppliers))
	procs := make([]*ent.ProcurementRecordCreate, nProcurement)
	for i := range procs {
		s := procSuppliers[rng.Intn(len(procSuppliers))]
		amount := money.Fen(1 + rng.Int63n(5_000_000)) // up to 50,000.00
		hasProc[s] = true
		ds.want.Offline += amount
		procs[i] = client.ProcurementRecord.Create().
			SetPurchasingUnitID(ds.units[rng.Intn(nUnits)]).SetSupplierID(ds.suppliers[s]).
			SetAmount(amount).SetChannel(procurementrecord.ChannelOFFLINE).
			SetOccurredOn(now.AddDate(0, 0, -rng.Intn(90)))
		if rng.Intn(3) == 0 {
			procs[i].SetNote("食堂采购")
		}
	}
	inChunks(t, len(procs), func(lo, hi int) error { return client.ProcurementRecord.CreateBulk(procs[lo:hi]...).Exec(ctx) })
	ds.want.Total = ds.want.Online + ds.want.Offline

	// Beneficiaries: suppliers with a paid order line or any procurement.
	ds.counted = make([]bool, len(ds.suppliers))
	var excludedUnpaid, excludedIdle, viaProcOnly, viaOrdersOnly int
	for i := range ds.suppliers {
		ds.counted[i] = hasPaidLine[i] || hasProc[i]
		if ds.counted[i] {
			ds.want.Beneficiaries += ds.beneficiaries[i]
		}
		switch {
		case !ds.counted[i] && hasUnpaidLine[i]:
			excludedUnpaid++
		case !ds.counted[i]:
			excludedIdle++
		case hasProc[i] && !hasPaidLine[i]:
			viaProcOnly++
		case hasPaidLine[i] && !hasProc[i]:
			viaOrdersOnly++
		}
	}
	// The data set must exercise every branch of the rule.
	if excludedUnpaid == 0 || excludedIdle == 0 || viaProcOnly == 0 || viaOrdersOnly == 0 {
		t.Fatalf("generated suppliers miss a case: %d with only unpaid orders, %d idle, %d only procurement, %d only paid orders",
			excludedUnpaid, excludedIdle, viaProcOnly, viaOrdersOnly)
	}
	t.Logf("generated %d units, %d members (%d verified), %d suppliers, %d products, %d orders (%d paid) with %d lines, %d procurement records, %d coupons (%d used)",
		nUnits, nMembers, len(verified), len(ds.suppliers), nProducts, nOrders, ds.want.PaidOrders, len(items), nProcurement, len(allCoupons), ds.want.CouponsRedeemed)
	return ds
}

// inChunks runs insert over [lo, hi) windows of n rows.
func inChunks(t testing.TB, n int, insert func(lo, hi int) error) {
	t.Helper()
	for lo := 0; lo < n; lo += chunk {
		if err := insert(lo, min(lo+chunk, n)); err != nil {
			t.Fatalf("insert rows %d–%d: %v", lo, min(lo+chunk, n), err)
		}
	}
}

func fromPlatform(p *stats.Platform) expected {
	return expected{
		PurchasingUnits: p.PurchasingUnits, Members: p.Members, VerifiedMembers: p.VerifiedMembers,
		Online: p.OnlineProcurement, Offline: p.OfflineProcurement, Total: p.TotalProcurement,
		PaidOrders: p.PaidOrders, Beneficiaries: p.Beneficiaries,
		CouponsIssued: p.CouponsIssued, CouponsRedeemed: p.CouponsRedeemed,
	}
}

const platformStatsQ = `{ platformStats { purchasingUnits members verifiedMembers onlineProcurement
	offlineProcurement totalProcurement paidOrders beneficiaries couponsIssued couponsRedeemed updatedAt } }`

// served reads platformStats through the API (anonymously, as a big screen
// does), parsing the Money strings back to fen.
func served(t testing.TB, m *servertest.Mall) expected {
	t.Helper()
	var out struct {
		PlatformStats struct {
			PurchasingUnits, Members, VerifiedMembers int
			OnlineProcurement, OfflineProcurement     string
			TotalProcurement                          string
			PaidOrders, Beneficiaries, CouponsIssued  int
			CouponsRedeemed                           int
			UpdatedAt                                 string
		}
	}
	r := m.Do("", platformStatsQ, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("platformStats: %+v", r.Errors)
	}
	r.Decode(t, &out)
	s := out.PlatformStats
	if _, err := time.Parse(time.RFC3339, s.UpdatedAt); err != nil || !strings.HasSuffix(s.UpdatedAt, "Z") {
		t.Errorf("updatedAt %q is not an RFC 3339 time in UTC", s.UpdatedAt)
	}
	return expected{
		PurchasingUnits: s.PurchasingUnits, Members: s.Members, VerifiedMembers: s.VerifiedMembers,
		Online: fen(t, s.OnlineProcurement), Offline: fen(t, s.OfflineProcurement), Total: fen(t, s.TotalProcurement),
		PaidOrders: s.PaidOrders, Beneficiaries: s.Beneficiaries,
		CouponsIssued: s.CouponsIssued, CouponsRedeemed: s.CouponsRedeemed,
	}
}

// fen parses a Money string, which must have exactly two fraction digits.
func fen(t testing.TB, s string) money.Fen {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if !ok || len(frac) != 2 || err1 != nil || err2 != nil || w < 0 || strings.HasPrefix(whole, "+") {
		t.Fatalf("money %q is not yuan with two fraction digits", s)
	}
	return money.Fen(w*100 + f)
}

func same(t testing.TB, where string, got, want expected) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\n got %+v\nwant %+v", where, got, want)
	}
}

func TestPlatformStats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		start := time.Now()
		ds := generate(t, d.Client, 20240603)
		t.Logf("%s: generated and inserted in %v", d.Name, time.Since(start).Round(time.Millisecond))
		want := ds.want

		at := time.Now()
		p, err := stats.Compute(ctx, d.Client, at)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "stats.Compute", fromPlatform(p), want)
		if !p.UpdatedAt.Equal(at) || p.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt %v, want %v in UTC", p.UpdatedAt, at)
		}

		// The real endpoint on the same database. The harness adds an
		// ADMIN (UNVERIFIED): one more member.
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		want.Members++
		same(t, "platformStats", served(t, m), want)

		// Changes through the API show at once: this instance's writes
		// invalidate the cache.
		const recordQ = `mutation($i: OfflineProcurementInput!) {
			recordOfflineProcurement(input: $i) { id amount channel purchasingUnit { id } supplier { id } } }`
		record := func(token string, unit, supplier gid.ID, amount string) *servertest.Response {
			return m.Do(token, recordQ, map[string]any{"i": map[string]any{
				"purchasingUnitID": unit, "supplierID": supplier, "amount": amount,
				"occurredOn": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "note": "线下采购",
			}})
		}
		supplierOf := func(k supplierKind, counted bool) int {
			for i := range ds.suppliers {
				if ds.kinds[i] == k && ds.counted[i] == counted {
					return i
				}
			}
			t.Fatalf("no supplier of kind %d with counted=%v", k, counted)
			return -1
		}
		records := nProcurement
		ok := func(r *servertest.Response, amount string, supplier int) {
			t.Helper()
			if len(r.Errors) > 0 {
				t.Fatalf("recordOfflineProcurement: %+v", r.Errors)
			}
			var out struct {
				RecordOfflineProcurement struct {
					ID, Amount, Channel string
					Supplier            struct{ ID gid.ID }
				}
			}
			r.Decode(t, &out)
			rec := out.RecordOfflineProcurement
			if rec.Amount != amount || rec.Channel != "OFFLINE" || rec.Supplier.ID != ds.suppliers[supplier] {
				t.Fatalf("recorded %+v", rec)
			}
			records++
			f := fen(t, amount)
			want.Offline += f
			want.Total += f
			if !ds.counted[supplier] {
				ds.counted[supplier] = true
				want.Beneficiaries += ds.beneficiaries[supplier]
			}
			same(t, "platformStats after recording "+amount, served(t, m), want)
		}
		refused := func(r *servertest.Response, code string) {
			t.Helper()
			if r.Code() != code {
				t.Fatalf("code %q, want %q: %+v", r.Code(), code, r.Errors)
			}
			same(t, "platformStats after a refusal ("+code+")", served(t, m), want)
		}

		// ADMIN, for a supplier that had sold nothing: its beneficiaries
		// now count.
		idle := supplierOf(sellsNothing, false)
		ok(record(m.Admin, ds.units[0], ds.suppliers[idle], "1234.56"), "1234.56", idle)
		// Again for the same supplier, and for one counted already: the
		// amounts add up, the beneficiaries count once.
		ok(record(m.Admin, ds.units[1], ds.suppliers[idle], "0.07"), "0.07", idle)
		payer := supplierOf(sellsPaid, true)
		ok(record(m.Admin, ds.units[2], ds.suppliers[payer], "999999.99"), "999999.99", payer)

		// A member without the role, then as PURCHASER of units[3].
		buyer := m.Register("采购员")
		want.Members++
		refused(record("", ds.units[3], ds.suppliers[payer], "10"), "UNAUTHENTICATED")
		refused(record(buyer.Token, ds.units[3], ds.suppliers[payer], "10"), "FORBIDDEN")
		m.MustDo(m.Admin, `mutation($i: GrantRoleInput!) { grantRole(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"memberID": buyer.ID, "role": "PURCHASER", "purchasingUnitID": ds.units[3]}}, nil)
		unpaid := supplierOf(unpaidOnly, false)
		ok(record(buyer.Token, ds.units[3], ds.suppliers[unpaid], "12.3"), "12.30", unpaid)
		refused(record(buyer.Token, ds.units[4], ds.suppliers[payer], "10"), "FORBIDDEN")
		refused(record(buyer.Token, ds.units[3], ds.suppliers[payer], "0"), "BAD_USER_INPUT")
		refused(record(m.Admin, ds.units[3], ds.suppliers[payer], "0"), "BAD_USER_INPUT")
		refused(record(m.Admin, ds.units[3], ds.suppliers[payer], "0.00"), "BAD_USER_INPUT")
		refused(record(m.Admin, ds.units[3], ds.suppliers[payer], "-5"), "BAD_USER_INPUT")
		refused(record(m.Admin, ds.units[3], gid.New(gid.Supplier), "10"), "NOT_FOUND")
		refused(record(buyer.Token, ds.units[3], gid.New(gid.Supplier), "10"), "NOT_FOUND")
		refused(record(m.Admin, gid.New(gid.PurchasingUnit), ds.suppliers[payer], "10"), "NOT_FOUND")

		// Nothing refused was written, and the figures agree with a fresh
		// computation as well.
		if n, err := d.Client.ProcurementRecord.Query().Count(ctx); err != nil || n != records {
			t.Fatalf("%d procurement records (%v), want %d", n, err, records)
		}
		p, err = stats.Compute(ctx, d.Client, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		same(t, "stats.Compute at the end", fromPlatform(p), want)
		t.Logf("%s: %v in all", d.Name, time.Since(start).Round(time.Millisecond))
	})
}

// TestCache: Get within the TTL reuses the figures (the aggregate queries
// run once, also for concurrent callers), Invalidate forces a recompute, and
// so does the TTL running out.
func TestCache(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		counted, stmts := d.Counted()
		if err := d.Client.PurchasingUnit.Create().SetName("一号单位").Exec(ctx); err != nil {
			t.Fatal(err)
		}

		c := stats.NewCache(counted.Client, time.Hour, nil)
		first, err := c.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		perCompute := stmts.Count()
		if perCompute == 0 || first.PurchasingUnits != 1 {
			t.Fatalf("first Get: %d statements, %d units", perCompute, first.PurchasingUnits)
		}

		// Within the TTL: no statement, even for many callers at once,
		// and the figures do not move although the database did.
		if err := d.Client.PurchasingUnit.Create().SetName("二号单位").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		stmts.Reset()
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := c.Get(ctx)
				if err != nil {
					t.Error(err)
				} else if p.PurchasingUnits != 1 {
					t.Errorf("cached Get: %d units, want the cached 1", p.PurchasingUnits)
				}
			}()
		}
		wg.Wait()
		if n := stmts.Count(); n != 0 {
			t.Fatalf("Get within the TTL ran %d statements, want 0", n)
		}

		// Invalidate: the next Get computes once, however many ask at once.
		c.Invalidate()
		stmts.Reset()
		gate := make(chan struct{})
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate // all at once, so that they find the cache stale together
				p, err := c.Get(ctx)
				if err != nil {
					t.Error(err)
				} else if p.PurchasingUnits != 2 {
					t.Errorf("Get after Invalidate: %d units, want 2", p.PurchasingUnits)
				}
			}()
		}
		close(gate)
		wg.Wait()
		if n := stmts.Count(); n != perCompute {
			t.Fatalf("Get after Invalidate ran %d statements, want one computation (%d)", n, perCompute)
		}
		stmts.Reset()
		if _, err := c.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if n := stmts.Count(); n != 0 {
			t.Fatalf("Get after the recompute ran %d statements, want 0", n)
		}

		// The TTL: a short-lived cache recomputes once it has passed.
		const ttl = 100 * time.Millisecond
		short := stats.NewCache(counted.Client, ttl, nil)
		stmts.Reset()
		p1, err := short.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := stmts.Count(); n != perCompute {
			t.Fatalf("first Get of a new cache ran %d statements, want %d", n, perCompute)
		}
		if err := d.Client.PurchasingUnit.Create().SetName("三号单位").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(ttl + 20*time.Millisecond)
		stmts.Reset()
		p2, err := short.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := stmts.Count(); n != perCompute || p2.PurchasingUnits != 3 {
			t.Fatalf("Get after the TTL: %d statements (want %d), %d units (want 3)", n, perCompute, p2.PurchasingUnits)
		}
		if !p2.UpdatedAt.After(p1.UpdatedAt) {
			t.Errorf("UpdatedAt did not move: %v then %v", p1.UpdatedAt, p2.UpdatedAt)
		}
	})
}
