// Package demo loads the demo catalogue (contract: "Demo data") into an
// empty database.
package demo

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/procurementrecord"
	"unionmall/ent/product"
	"unionmall/internal/catalog"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
)

// lockKey names the PostgreSQL advisory lock that serializes loaders of
// instances starting together ("unionmal" in ASCII).
const lockKey int64 = 0x756e696f6e6d616c

// Load fills an empty database with the demo catalogue and reports whether it
// did; a database that already holds any union organization or product is
// left alone (loaded once), also when two instances start at once.
func Load(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	// Whole seconds: the database keeps fewer digits than Go, and a stored
	// start rounded up past now would make the sale running now not yet started.
	now = now.UTC().Truncate(time.Second)
	loaded := false
	err := d.Tx(ctx, func(tx *ent.Tx) error {
		// SQLite's transactions are IMMEDIATE, hence serialized already; on
		// PostgreSQL two instances would both see an empty database without
		// this lock, which is held until the transaction ends.
		if d.Postgres() {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		empty, err := isEmpty(ctx, tx)
		if err != nil || !empty {
			return err
		}
		if err := load(ctx, tx, now); err != nil {
			return err
		}
		loaded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("demo data: %w", err)
	}
	return loaded, nil
}

func isEmpty(ctx context.Context, tx *ent.Tx) (bool, error) {
	if ok, err := tx.UnionOrganization.Query().Exist(ctx); err != nil || ok {
		return false, err
	}
	ok, err := tx.Product.Query().Exist(ctx)
	return !ok, err
}

func load(ctx context.Context, tx *ent.Tx, now time.Time) error {
	orgIDs, err := createOrgs(ctx, tx)
	if err != nil {
		return err
	}

	countyIDs := map[string]gid.ID{}
	{
		b := make([]*ent.CountyCreate, len(counties))
		for i, c := range counties {
			b[i] = tx.County.Create().SetName(c.name).SetCity(c.city).SetPovertyStatus(c.status)
		}
		created, err := tx.County.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("counties: %w", err)
		}
		for _, c := range created {
			countyIDs[c.Name] = c.ID
		}
	}

	supplierIDs := map[string]gid.ID{}
	supplierCounty := map[string]gid.ID{}
	{
		b := make([]*ent.SupplierCreate, len(suppliers))
		for i, s := range suppliers {
			cid, ok := countyIDs[s.county]
			if !ok {
				return fmt.Errorf("supplier %s: unknown county %s", s.name, s.county)
			}
			supplierCounty[s.name] = cid
			b[i] = tx.Supplier.Create().SetName(s.name).SetCountyID(cid).
				SetBeneficiaries(s.beneficiaries).SetJoinedAt(now.AddDate(0, 0, -s.joinedDaysAgo))
		}
		created, err := tx.Supplier.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("suppliers: %w", err)
		}
		for _, s := range created {
			supplierIDs[s.Name] = s.ID
		}
	}

	productsByName := map[string]*ent.Product{}
	{
		b := make([]*ent.ProductCreate, len(products))
		for i, p := range products {
			sid, ok := supplierIDs[p.supplier]
			if !ok {
				return fmt.Errorf("product %s: unknown supplier %s", p.name, p.supplier)
			}
			b[i] = tx.Product.Create().SetName(p.name).SetDescription(p.description).
				SetCategory(p.category).SetPrice(p.price).SetSalePrice(salePrice(p)).
				SetStock(p.stock).SetStockReceived(p.stock).SetOnSale(!p.offSale).
				SetSupplierID(sid).SetCountyID(supplierCounty[p.supplier])
		}
		created, err := tx.Product.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("products: %w", err)
		}
		for _, p := range created {
			productsByName[p.Name] = p
		}
	}

	if err := createCampaign(ctx, tx, now); err != nil {
		return err
	}
	if err := createLiveEvent(ctx, tx, now, productsByName); err != nil {
		return err
	}

	unitIDs := map[string]gid.ID{}
	{
		b := make([]*ent.PurchasingUnitCreate, len(units))
		for i, u := range units {
			oid, ok := orgIDs[u.org]
			if !ok {
				return fmt.Errorf("purchasing unit %s: unknown organization %s", u.name, u.org)
			}
			b[i] = tx.PurchasingUnit.Create().SetName(u.name).SetOrganizationID(oid).
				SetRegisteredAt(now.AddDate(0, 0, -u.registeredDaysAgo))
		}
		created, err := tx.PurchasingUnit.CreateBulk(b...).Save(ctx)
		if err != nil {
			return fmt.Errorf("purchasing units: %w", err)
		}
		for _, u := range created {
			unitIDs[u.Name] = u.ID
		}
	}

	b := make([]*ent.ProcurementRecordCreate, len(procurements))
	for i, r := range procurements {
		p, ok := productsByName[r.product]
		if !ok {
			return fmt.Errorf("procurement: unknown product %s", r.product)
		}
		uid, ok := unitIDs[r.unit]
		if !ok {
			return fmt.Errorf("procurement: unknown purchasing unit %s", r.unit)
		}
		b[i] = tx.ProcurementRecord.Create().
			SetPurchasingUnitID(uid).SetSupplierID(p.SupplierID).
			SetAmount(p.Price.Times(r.quantity)).
			SetChannel(procurementrecord.ChannelOFFLINE).
			SetOccurredOn(now.AddDate(0, 0, -r.daysAgo)).
			SetNote(fmt.Sprintf("%s：%s × %d", r.purpose, r.product, r.quantity))
	}
	if err := tx.ProcurementRecord.CreateBulk(b...).Exec(ctx); err != nil {
		return fmt.Errorf("procurement records: %w", err)
	}
	return nil
}

// salePrice is 7.5折 of the price for seasonal goods, else the row's own.
func salePrice(p productRow) money.Fen {
	switch {
	case p.category == product.CategorySEASONAL:
		return p.price.Share(seasonalNum, seasonalDen)
	case p.sale != 0:
		return p.sale
	default:
		return p.price
	}
}

// createOrgs creates the organizations level by level, since a child needs
// its parent's generated ID, and returns the IDs by name.
func createOrgs(ctx context.Context, tx *ent.Tx) (map[string]gid.ID, error) {
	ids := map[string]gid.ID{}
	for pending := orgs; len(pending) > 0; {
		var (
			batch []*ent.UnionOrganizationCreate
			rest  []orgRow
		)
		for _, o := range pending {
			c := tx.UnionOrganization.Create().SetName(o.name).SetKind(o.kind)
			if o.parent != "" {
				pid, ok := ids[o.parent]
				if !ok {
					rest = append(rest, o)
					continue
				}
				c.SetParentID(pid)
			}
			batch = append(batch, c)
		}
		if len(batch) == 0 {
			return nil, fmt.Errorf("organization %s: unknown parent %s", rest[0].name, rest[0].parent)
		}
		created, err := tx.UnionOrganization.CreateBulk(batch...).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("union organizations: %w", err)
		}
		for _, o := range created {
			ids[o.Name] = o.ID
		}
		pending = rest
	}
	return ids, nil
}

func createCampaign(ctx context.Context, tx *ent.Tx, now time.Time) error {
	var pack money.Fen
	for _, t := range tiers {
		pack += t.discount
	}
	c, err := tx.CouponCampaign.Create().
		SetName(campaignName).
		SetBudget(campaignBudget).
		SetPackValue(pack).
		SetClaimStartsAt(now).
		SetClaimEndsAt(now.AddDate(0, 0, campaignClaimDays)).
		SetValidFrom(now).
		SetValidUntil(now.AddDate(0, 0, campaignValidDays)).
		SetDailyPackQuota(campaignDailyPack).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("coupon campaign: %w", err)
	}
	b := make([]*ent.CouponTierCreate, len(tiers))
	for i, t := range tiers {
		b[i] = tx.CouponTier.Create().SetCampaignID(c.ID).
			SetThreshold(t.threshold).SetDiscount(t.discount).SetPosition(i)
	}
	if err := tx.CouponTier.CreateBulk(b...).Exec(ctx); err != nil {
		return fmt.Errorf("coupon tiers: %w", err)
	}
	return nil
}

// createLiveEvent creates the live event running now and its flash sales,
// each taking its units out of the product's stock as any new sale does.
func createLiveEvent(ctx context.Context, tx *ent.Tx, now time.Time, productsByName map[string]*ent.Product) error {
	ev, err := tx.LiveEvent.Create().
		SetTitle(liveTitle).
		SetStartsAt(now.Add(-liveStartedAgo)).
		SetEndsAt(now.Add(liveEndsIn)).
		SetStreamURL(liveStreamURL).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("live event: %w", err)
	}
	for _, s := range flashSales {
		p, ok := productsByName[s.product]
		if !ok {
			return fmt.Errorf("flash sale: unknown product %s", s.product)
		}
		// The sale's units leave the product's stock, as createFlashSale's do.
		if err := catalog.TakeStock(ctx, tx, p, s.quantity); err != nil {
			return fmt.Errorf("flash sale of %s: %w", s.product, err)
		}
		if err := tx.FlashSale.Create().
			SetProductID(p.ID).
			SetLiveEventID(ev.ID).
			SetPrice(s.price).
			SetQuantity(s.quantity).
			SetPerMemberLimit(s.limit).
			SetStartsAt(now.Add(s.startsIn)).
			SetEndsAt(ev.EndsAt).
			Exec(ctx); err != nil {
			return fmt.Errorf("flash sale of %s: %w", s.product, err)
		}
	}
	return nil
}
