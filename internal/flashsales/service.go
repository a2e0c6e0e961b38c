package flashsales

import (
	"context"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"unionmall/ent"
	"unionmall/ent/flashsale"
	"unionmall/ent/liveevent"
	"unionmall/internal/apperr"
	"unionmall/internal/catalog"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/ratelimit"
)

// Service runs flash sales: creating and ending them, settling their
// leftovers, and selling through a gate per sale (gate.go).
type Service struct {
	db      *db.DB
	window  time.Duration
	now     func() time.Time
	changes *changes.Registry
	buyers  *ratelimit.Limiter // per member; see LimitBuyers
	// prepared holds the PostgreSQL batch's statements.
	prepared *db.Prepared

	mu    sync.Mutex
	gates map[gid.ID]*gate
}

// ErrBuyingTooFast is the refusal of a buyer over the buying rate (Buy
// returns it with the wait, After).
var ErrBuyingTooFast = apperr.New(apperr.RateLimited, "too many purchase attempts; slow down")

// DefaultBuyLimit: twenty attempts at once, then ten a second, per member
// (not per address: a whole office shares one).
var DefaultBuyLimit = ratelimit.Rule{Every: 100 * time.Millisecond, Burst: 20}

// An Option tunes New.
type Option func(*Service)

// LimitBuyers makes Buy refuse a member over rule with ErrBuyingTooFast
// (without it nobody is limited). The limit is asked after the answers
// that this instance gives from its copy of the sale (NOT_STARTED, ENDED,
// SOLD_OUT): those cost no more than the limit itself, so a sold-out
// sale's refusals stay as cheap as a no-op.
func LimitBuyers(rule ratelimit.Rule) Option {
	return func(s *Service) { s.buyers = ratelimit.New(rule) }
}

// New returns the flash-sale service. window is PAYMENT_WINDOW; reg is
// told of each committed change (nil: a registry of its own), and each
// change of a sale, here or on another instance, marks this instance's copy
// of it stale (gate.go).
func New(d *db.DB, window time.Duration, reg *changes.Registry, opts ...Option) *Service {
	if reg == nil {
		reg = changes.New() // this instance alone, no other consequences
	}
	s := &Service{db: d, window: window, now: time.Now, changes: reg, gates: map[gid.ID]*gate{}, prepared: d.Prepared()}
	for _, o := range opts {
		o(s)
	}
	reg.On(changes.FlashSaleKind, changes.Handler{
		Changed: func(c changes.Change) { s.changed(gid.ID(c.ID)) },
		Resync:  s.changedAll,
	})
	return s
}

// NewSale is what createFlashSale takes.
type NewSale struct {
	ProductID      gid.ID
	Price          money.Fen
	Quantity       int
	PerMemberLimit int
	StartsAt       time.Time
	EndsAt         time.Time
	LiveEventID    *gid.ID
}

// Create opens a sale. Its quantity comes out of the product's stock at
// once (OUT_OF_STOCK if the stock is short), so the sale can never sell
// units the warehouse does not hold.
func (s *Service) Create(ctx context.Context, n NewSale) (*ent.FlashSale, error) {
	now := s.now().UTC()
	var bad apperr.Problems
	if n.Price <= 0 {
		bad.Add(apperr.BadInput("price", "the flash price must be above zero"))
	}
	if n.Quantity < 1 || n.Quantity > 1_000_000 {
		bad.Add(apperr.BadInput("quantity", "the quantity must be between 1 and 1000000"))
	}
	if n.PerMemberLimit < 1 {
		bad.Add(apperr.BadInput("perMemberLimit", "the per-member limit must be at least 1"))
	}
	switch {
	case !n.StartsAt.Before(n.EndsAt):
		bad.Add(apperr.BadInput("endsAt", "a flash sale must end after it starts"))
	case !n.EndsAt.After(now):
		bad.Add(apperr.BadInput("endsAt", "a flash sale cannot end in the past"))
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	var out *ent.FlashSale
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		p, err := tx.Product.Get(ctx, n.ProductID)
		if ent.IsNotFound(err) {
			return apperr.New(apperr.NotFound, "no product has that ID")
		}
		if err != nil {
			return err
		}
		if n.LiveEventID != nil {
			ok, err := tx.LiveEvent.Query().Where(liveevent.ID(*n.LiveEventID)).Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.New(apperr.NotFound, "no live event has that ID")
			}
		}
		if err := catalog.TakeStock(ctx, tx, p, n.Quantity); err != nil {
			return err
		}
		out, err = tx.FlashSale.Create().
			SetProductID(p.ID).
			SetPrice(n.Price).
			SetQuantity(n.Quantity).
			SetPerMemberLimit(n.PerMemberLimit).
			SetStartsAt(n.StartsAt.UTC()).
			SetEndsAt(n.EndsAt.UTC()).
			SetNillableLiveEventID(n.LiveEventID).
			Save(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create flash sale: %w", err)
	}
	out = out.Unwrap()
	s.changes.Announce(ChangesOf(out.ID, out.LiveEventID)...)
	return out, nil
}

// ChangesOf is what a change of a sale touches: its stock and its live
// event's counters.
func ChangesOf(saleID gid.ID, liveEventID *gid.ID) []changes.Change {
	cs := []changes.Change{changes.FlashSale(saleID)}
	if liveEventID != nil {
		cs = append(cs, changes.LiveEvent(*liveEventID))
	}
	return cs
}

// End ends a sale now (ADMIN) and sends its unsold units back to the
// product. Ending an ended sale changes nothing. "Now" is read under the
// sale's row lock (db.Now), so a batch that commits before the end sold
// before it, and none can sell after.
func (s *Service) End(ctx context.Context, id gid.ID) (*ent.FlashSale, error) {
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		sale, now, err := s.lock(ctx, tx, id)
		if err != nil || !now.Before(sale.EndsAt) {
			return err
		}
		upd := tx.FlashSale.UpdateOneID(id).SetEndsAt(now)
		if now.Before(sale.StartsAt.Add(time.Millisecond)) {
			// A sale ended before it began: keep starts_at < ends_at.
			upd.Modify(func(u *sql.UpdateBuilder) { u.Set(flashsale.FieldStartsAt, now.Add(-time.Millisecond)) })
		}
		return upd.Exec(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("end flash sale: %w", err)
	}
	if err := s.settle(ctx, id); err != nil {
		return nil, err
	}
	sale, err := s.db.Client.FlashSale.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("end flash sale: %w", err)
	}
	s.changes.Announce(ChangesOf(sale.ID, sale.LiveEventID)...)
	return sale, nil
}

// lock locks the sale's row for the rest of tx and reads it with the time
// to decide by (db.Now, read once the lock is held).
func (s *Service) lock(ctx context.Context, tx *ent.Tx, id gid.ID) (*ent.FlashSale, time.Time, error) {
	sale, err := s.lockSale(ctx, tx, id)
	if err != nil {
		return nil, time.Time{}, err
	}
	now, err := s.db.Now(ctx, tx)
	return sale, now, err
}

// lockSale locks the sale's row for the rest of tx and reads it as it is
// once locked (PostgreSQL re-reads a row it waited for; SQLite's
// transaction holds the write lock from BEGIN).
func (s *Service) lockSale(ctx context.Context, tx *ent.Tx, id gid.ID) (*ent.FlashSale, error) {
	q := tx.FlashSale.Query().Where(flashsale.ID(id))
	if s.db.Postgres() {
		q = q.ForUpdate()
	}
	sale, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no flash sale has that ID")
	}
	return sale, err
}

// SettleDue sends the unsold units of every ended, unsettled sale back to
// its product, and returns how many sales it settled. Every instance runs
// it; settle decides under the sale's lock, so one settles each sale. The
// instance's clock only picks the candidates.
func (s *Service) SettleDue(ctx context.Context) (int, error) {
	ids, err := s.db.Client.FlashSale.Query().
		Where(flashsale.SettledAtIsNil(), flashsale.EndsAtLTE(s.now().UTC())).
		IDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("find ended sales: %w", err)
	}
	for _, id := range ids {
		if err := s.settle(ctx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// settle marks an ended sale settled and gives its unsold units to the
// product, once: under the sale's row lock, so no batch sells between the
// decision and the commit, and every later batch sees settled_at (and
// refuses with ENDED).
func (s *Service) settle(ctx context.Context, id gid.ID) error {
	var sale *ent.FlashSale
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		locked, now, err := s.lock(ctx, tx, id)
		if err != nil || locked.SettledAt != nil || now.Before(locked.EndsAt) {
			return err
		}
		if err := tx.FlashSale.UpdateOneID(id).SetSettledAt(now).Exec(ctx); err != nil {
			return err
		}
		if left := locked.Quantity - locked.Sold; left > 0 {
			if err := catalog.ReturnStock(ctx, tx, locked.ProductID, left); err != nil {
				return err
			}
		}
		sale = locked
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle flash sale: %w", err)
	}
	if sale != nil {
		s.changes.Announce(ChangesOf(sale.ID, sale.LiveEventID)...)
	}
	return nil
}

// StockNow is a sale's snapshot from the database (the broker's loader).
func (s *Service) StockNow(ctx context.Context, id gid.ID) (*Stock, error) {
	sale, err := s.db.Client.FlashSale.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no flash sale has that ID")
	}
	if err != nil {
		return nil, err
	}
	st := StockOf(sale, s.now())
	return &st, nil
}

// CountersNow is a live event's counters from the database (the broker's
// loader).
func (s *Service) CountersNow(ctx context.Context, liveEventID gid.ID) (*Counters, error) {
	ev, err := s.LiveEventNow(ctx, liveEventID)
	if err != nil {
		return nil, fmt.Errorf("live counters: %w", err)
	}
	c, err := CountersOf(ctx, s.db.Client, liveEventID, s.now())
	if c != nil {
		c.LiveEvent = ev
	}
	return c, err
}

// LiveEventNow reads a live event's row: NOT_FOUND for an unknown ID.
func (s *Service) LiveEventNow(ctx context.Context, id gid.ID) (*ent.LiveEvent, error) {
	ev, err := s.db.Client.LiveEvent.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no live event has that ID")
	}
	return ev, err
}

func (s *Service) liveEventExists(ctx context.Context, id gid.ID) error {
	ok, err := s.db.Client.LiveEvent.Query().Where(liveevent.ID(id)).Exist(ctx)
	if err == nil && !ok {
		err = apperr.New(apperr.NotFound, "no live event has that ID")
	}
	return err
}
