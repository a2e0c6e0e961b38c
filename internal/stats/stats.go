// Package stats computes the platform's totals (扶贫采购 figures) for big
// screens and reports.
package stats

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/coupon"
	"unionmall/ent/member"
	"unionmall/ent/order"
	"unionmall/ent/orderitem"
	"unionmall/ent/procurementrecord"
	"unionmall/ent/product"
	"unionmall/ent/supplier"
	"unionmall/internal/db"
	"unionmall/internal/money"
	"unionmall/internal/orderstate"
)

// Platform is the contract's PlatformStats.
type Platform struct {
	PurchasingUnits    int
	Members            int
	VerifiedMembers    int
	OnlineProcurement  money.Fen
	OfflineProcurement money.Fen
	TotalProcurement   money.Fen
	PaidOrders         int
	Beneficiaries      int
	CouponsIssued      int
	CouponsRedeemed    int
	UpdatedAt          time.Time
}

type sumRow struct {
	Count int       `json:"count"`
	Sum   money.Fen `json:"sum"`
}

// Compute reads the totals from the database.
func Compute(ctx context.Context, client *ent.Client, now time.Time) (*Platform, error) {
	var (
		p   = &Platform{UpdatedAt: now.UTC()}
		err error
	)
	if p.PurchasingUnits, err = client.PurchasingUnit.Query().Count(ctx); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if p.Members, err = client.Member.Query().Count(ctx); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if p.VerifiedMembers, err = client.Member.Query().
		Where(member.VerificationStatusEQ(member.VerificationStatusVERIFIED)).Count(ctx); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	// Paid orders (orderstate.Paid) are online procurement.
	var online []sumRow
	if err = client.Order.Query().Where(order.StatusIn(orderstate.PaidStatuses()...)).
		Aggregate(ent.Count(), ent.As(db.SumOrZero(order.FieldTotal), "sum")).
		Scan(ctx, &online); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	p.PaidOrders, p.OnlineProcurement = online[0].Count, online[0].Sum
	var offline []sumRow
	if err = client.ProcurementRecord.Query().
		Where(procurementrecord.ChannelEQ(procurementrecord.ChannelOFFLINE)).
		Aggregate(ent.Count(), ent.As(db.SumOrZero(procurementrecord.FieldAmount), "sum")).
		Scan(ctx, &offline); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	p.OfflineProcurement = offline[0].Sum
	p.TotalProcurement = p.OnlineProcurement + p.OfflineProcurement
	// A supplier's beneficiaries count once it has sold anything: a paid
	// order line, or a recorded procurement.
	var ben []struct {
		Sum int `json:"sum"`
	}
	if err = client.Supplier.Query().
		Where(supplier.Or(
			supplier.HasProductsWith(product.HasOrderItemsWith(
				orderitem.HasOrderWith(order.StatusIn(orderstate.PaidStatuses()...)))),
			supplier.HasProcurementRecords(),
		)).
		Aggregate(ent.As(db.SumOrZero(supplier.FieldBeneficiaries), "sum")).
		Scan(ctx, &ben); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	p.Beneficiaries = ben[0].Sum
	if p.CouponsIssued, err = client.Coupon.Query().Count(ctx); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if p.CouponsRedeemed, err = client.Coupon.Query().
		Where(coupon.StatusEQ(coupon.StatusUSED)).Count(ctx); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return p, nil
}
