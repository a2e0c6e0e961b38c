package chaos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"unionmall/internal/auth"
	"unionmall/internal/chaos/harness"
	"unionmall/internal/db"
)

// The ADMIN every instance creates at start (ADMIN_PHONE, ADMIN_PASSWORD),
// and every member's first password.
const (
	adminPhone      = "13900000009"
	adminPassword   = "chaos-admin-password"
	initialPassword = "chaos-member-password"
)

// cheapHash is what the instances hash with (PASSWORD_HASH_MEMORY=64), so
// that sign-ins and password changes cost little CPU.
var cheapHash = auth.HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// member is a verified member of the workload and what the workload knows
// of their account.
type member struct {
	idx   int
	id    string
	phone string
	addr  string // their client address (X-Forwarded-For)

	mu       sync.Mutex // one account operation (login, logout, password change) at a time
	password string     // "" once unknown (a change whose answer was lost)
	live     []int      // tokens not revoked, as far as the workload knows
	revoked  []int
	changes  int

	coupons []string // claimed coupon IDs (used by one goroutine at a time)
	keys    []string // idempotency keys of their placeOrders
}

// fixture is what the workload works on, made before it starts.
type fixture struct {
	admin   string
	members []*member
	// The parts of the workload each member belongs to.
	racers, buyers, claimers, accounts []*member

	hotSale, earlySale, shortSale string
	shortEndsAt                   time.Time
	hotProduct, contended         string
	products                      []string
	budgetCampaign, quotaCampaign string
}

// setUp makes the members straight in the database (with a real, cheap
// password hash and one token each) and the catalogue through the ADMIN's
// GraphQL mutations, so that the server keeps every counter as it would.
func (w *workload) setUp(ctx context.Context, d *db.DB) error {
	fx := &fixture{}
	w.fx = fx
	hasher, err := auth.NewHasher(cheapHash, 0)
	if err != nil {
		return err
	}
	hash, err := hasher.Hash(ctx, initialPassword)
	if err != nil {
		return err
	}
	made, err := harness.MakeBuyers(ctx, d, harness.Buyers{N: w.cfg.Members, PhonePrefix: "166", Name: "混沌买家", PasswordHash: hash})
	if err != nil {
		return err
	}
	for i, b := range made {
		m := &member{idx: i, id: string(b.ID), phone: b.Phone, password: initialPassword,
			addr: fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256)}
		m.live = []int{w.addToken(i, b.Token)}
		fx.members = append(fx.members, m)
	}
	w.split()

	var login struct{ Login struct{ Token string } }
	if err := w.setup(ctx, loginDoc, map[string]any{"i": map[string]any{"phone": adminPhone, "password": adminPassword}}, &login); err != nil {
		return err
	}
	fx.admin = login.Login.Token
	return w.catalogue(ctx)
}

// split assigns the members to the parts of the workload.
func (w *workload) split() {
	fx, n := w.fx, len(w.fx.members)
	accounts := max(10, n/10)
	if w.cfg.SelfRaceOnly {
		fx.racers = fx.members
		return
	}
	racers, buyers := n*2/5, n/4
	fx.racers = fx.members[:racers]
	fx.buyers = fx.members[racers : racers+buyers]
	fx.claimers = fx.members[racers+buyers : n-accounts]
	fx.accounts = fx.members[n-accounts:]
}

// setup runs an ADMIN mutation of the setup on the first instance; it must
// succeed.
func (w *workload) setup(ctx context.Context, doc string, vars map[string]any, out any) error {
	e, r := w.send(op{kind: kindSetup, member: -1, token: -1, admin: w.fx.admin != "", doc: doc, vars: vars})
	if e.Outcome != OK {
		return fmt.Errorf("setup %s: %s %s", firstLine(doc), e.Outcome, e.Message)
	}
	return decode(r, out)
}

// catalogue creates the county, supplier, products, flash sales, coupon
// campaigns and a purchasing unit's offline procurement.
func (w *workload) catalogue(ctx context.Context) error {
	fx := w.fx
	var county struct{ CreateCounty struct{ ID string } }
	if err := w.setup(ctx, `mutation($i: CreateCountyInput!) { createCounty(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"name": "城固县", "city": "汉中市", "povertyStatus": "NON_POOR_WITH_TASKS"}}, &county); err != nil {
		return err
	}
	var sup struct{ CreateSupplier struct{ ID string } }
	if err := w.setup(ctx, `mutation($i: CreateSupplierInput!) { createSupplier(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"name": "混沌测试粮油合作社", "countyID": county.CreateCounty.ID, "beneficiaries": 120}}, &sup); err != nil {
		return err
	}
	product := func(name, price string, stock int) (string, error) {
		var p struct{ CreateProduct struct{ ID string } }
		err := w.setup(ctx, `mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"name": name, "category": "GRAIN_OIL", "price": price, "stock": stock,
				"supplierID": sup.CreateSupplier.ID}}, &p)
		return p.CreateProduct.ID, err
	}
	now := time.Now().UTC()
	sale := func(productID string, quantity, limit int, ends time.Time) (string, error) {
		var s struct{ CreateFlashSale struct{ ID string } }
		err := w.setup(ctx, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"productID": productID, "price": "1.00", "quantity": quantity,
				"perMemberLimit": limit, "startsAt": now.Add(-time.Second).Format(time.RFC3339Nano),
				"endsAt": ends.Format(time.RFC3339Nano)}}, &s)
		return s.CreateFlashSale.ID, err
	}
	var err error
	// The hot sale: limit 2, raced by members against themselves. In a
	// self-race run it never sells out, so every try meets the limit.
	hot := len(fx.racers) * 3 / 2
	if w.cfg.SelfRaceOnly {
		hot = len(fx.racers) * 3
	}
	if fx.hotProduct, err = product("汉中香小榨菜籽油 5L（秒杀）", "79.90", hot); err != nil {
		return err
	}
	if fx.hotSale, err = sale(fx.hotProduct, hot, 2, now.Add(time.Hour)); err != nil {
		return err
	}
	if w.cfg.SelfRaceOnly {
		return nil
	}
	units := max(50, len(fx.buyers))
	early, err := product("城固蜜橘 5kg（提前结束的秒杀）", "39.90", units)
	if err != nil {
		return err
	}
	if fx.earlySale, err = sale(early, units, 2, now.Add(time.Hour)); err != nil {
		return err
	}
	short, err := product("洋县黑米 2.5kg（到点结束的秒杀）", "45.00", units)
	if err != nil {
		return err
	}
	fx.shortEndsAt = now.Add(w.cfg.Duration / 2)
	if fx.shortSale, err = sale(short, units, 1, fx.shortEndsAt); err != nil {
		return err
	}
	// Little stock, restocked now and then, raced by orders with coupons.
	if fx.contended, err = product("汉中仙毫 250g（库存紧张）", "59.90", 10); err != nil {
		return err
	}
	for i, name := range []string{"西乡绿茶 100g", "留坝香菇 500g", "宁强核桃 1kg"} {
		id, err := product(name, fmt.Sprintf("%d.90", 29+10*i), 5*len(fx.buyers))
		if err != nil {
			return err
		}
		fx.products = append(fx.products, id)
	}
	return w.campaigns(ctx, sup.CreateSupplier.ID)
}

// campaigns creates a campaign with a small budget and one with a small
// daily quota, and a purchasing unit with an offline procurement (for
// platformStats).
func (w *workload) campaigns(ctx context.Context, supplierID string) error {
	fx, now := w.fx, time.Now().UTC()
	campaign := func(name string, budget string, quota any, tiers ...[2]string) (string, error) {
		ts := make([]map[string]any, len(tiers))
		for i, t := range tiers {
			ts[i] = map[string]any{"threshold": t[0], "discount": t[1]}
		}
		var c struct{ CreateCouponCampaign struct{ ID string } }
		err := w.setup(ctx, `mutation($i: CreateCouponCampaignInput!) { createCouponCampaign(input: $i) { id } }`,
			map[string]any{"i": map[string]any{"name": name, "budget": budget, "dailyPackQuota": quota, "tiers": ts,
				"claimStartsAt": now.Add(-time.Minute).Format(time.RFC3339Nano), "claimEndsAt": now.Add(24 * time.Hour).Format(time.RFC3339Nano),
				"validFrom": now.Add(-time.Minute).Format(time.RFC3339Nano), "validUntil": now.Add(48 * time.Hour).Format(time.RFC3339Nano)}}, &c)
		return c.CreateCouponCampaign.ID, err
	}
	var err error
	packs := max(5, len(fx.claimers)/3) // the budget covers a third of the claimers
	if fx.budgetCampaign, err = campaign("消费扶贫券（预算紧张）", fmt.Sprintf("%d.00", 30*packs), nil,
		[2]string{"20.00", "10.00"}, [2]string{"50.00", "20.00"}); err != nil {
		return err
	}
	if fx.quotaCampaign, err = campaign("消费扶贫券（每日限量）", "1000000.00", max(5, len(fx.claimers)/4),
		[2]string{"30.00", "15.00"}); err != nil {
		return err
	}
	var unit struct{ RegisterPurchasingUnit struct{ ID string } }
	if err := w.setup(ctx, `mutation($i: RegisterPurchasingUnitInput!) { registerPurchasingUnit(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"name": "汉中市总工会机关食堂"}}, &unit); err != nil {
		return err
	}
	var rec struct{ RecordOfflineProcurement struct{ ID string } }
	return w.setup(ctx, `mutation($i: OfflineProcurementInput!) { recordOfflineProcurement(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"purchasingUnitID": unit.RegisterPurchasingUnit.ID, "supplierID": supplierID,
			"amount": "12800.00", "occurredOn": now.Format(time.RFC3339Nano), "note": "对公转账"}}, &rec)
}
