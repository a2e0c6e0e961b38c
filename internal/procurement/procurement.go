// Package procurement records purchasing units' purchases made outside the
// mall (线下采购), which count towards the platform's totals.
package procurement

import (
	"context"
	"fmt"
	"strings"
	"time"

	"unionmall/ent"
	"unionmall/ent/procurementrecord"
	"unionmall/ent/purchasingunit"
	"unionmall/ent/supplier"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/text"
)

// Offline is one recorded offline purchase.
type Offline struct {
	PurchasingUnitID gid.ID
	SupplierID       gid.ID
	Amount           money.Fen
	OccurredOn       time.Time
	Note             *string
	RecordedBy       gid.ID
}

// Service records procurement.
type Service struct {
	db      *db.DB
	now     func() time.Time
	changes *changes.Registry // told after a record commits (totals moved)
}

// New returns the procurement service; reg may be nil.
func New(d *db.DB, reg *changes.Registry) *Service {
	return &Service{db: d, now: time.Now, changes: reg}
}

// RecordOffline stores an offline purchase: above zero, not in the future,
// of a known unit from a known supplier.
func (s *Service) RecordOffline(ctx context.Context, o Offline) (*ent.ProcurementRecord, error) {
	if o.Amount <= 0 {
		return nil, apperr.BadInput("amount", "the amount must be above zero")
	}
	if o.OccurredOn.After(s.now().Add(time.Minute)) {
		return nil, apperr.BadInput("occurredOn", "a procurement cannot be recorded before it happens")
	}
	if o.Note != nil {
		n := strings.TrimSpace(*o.Note)
		if n != "" { // an empty note stays allowed
			var err error
			if n, err = text.Clean("note", n, 500); err != nil {
				return nil, err
			}
		}
		o.Note = &n
	}
	c := s.db.Client
	if ok, err := c.PurchasingUnit.Query().Where(purchasingunit.ID(o.PurchasingUnitID)).Exist(ctx); err != nil || !ok {
		return nil, notFound("purchasing unit", err, apperr.New(apperr.NotFound, "no purchasing unit has that ID"))
	}
	if ok, err := c.Supplier.Query().Where(supplier.ID(o.SupplierID)).Exist(ctx); err != nil || !ok {
		return nil, notFound("supplier", err, apperr.New(apperr.NotFound, "no supplier has that ID"))
	}
	r, err := c.ProcurementRecord.Create().
		SetPurchasingUnitID(o.PurchasingUnitID).
		SetSupplierID(o.SupplierID).
		SetAmount(o.Amount).
		SetChannel(procurementrecord.ChannelOFFLINE).
		SetOccurredOn(o.OccurredOn.UTC()).
		SetNillableNote(o.Note).
		SetRecordedByID(o.RecordedBy).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("record procurement: %w", err)
	}
	s.changes.Announce(changes.Stats)
	return r, nil
}

// notFound is the lookup's failure, or the refusal when there was none.
func notFound(what string, err error, refusal *apperr.Error) error {
	if err != nil {
		return fmt.Errorf("look up %s: %w", what, err)
	}
	return refusal
}
