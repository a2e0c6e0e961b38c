// Package catalog holds the rules of the mall's catalogue: counties,
// suppliers, products and their stock, and live events.
package catalog

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/product"
	"unionmall/ent/supplier"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/text"
)

// Service carries out catalogue administration. Each write announces
// changes.Catalog when it returns (after its commit, or a refusal: an
// extra announcement only costs a cache refill).
type Service struct {
	db      *db.DB
	changes *changes.Registry
}

// New returns the catalogue service; reg (nil: none) hears its changes.
func New(d *db.DB, reg *changes.Registry) *Service { return &Service{db: d, changes: reg} }

// CreateCounty adds a county; a county's name is unique within its city.
func (s *Service) CreateCounty(ctx context.Context, name, city string, status county.PovertyStatus) (*ent.County, error) {
	defer s.changes.Announce(changes.Catalog)
	name, err := text.Clean("name", name, 50)
	if err != nil {
		return nil, err
	}
	city, err = text.Clean("city", city, 50)
	if err != nil {
		return nil, err
	}
	c, err := s.db.Client.County.Create().SetName(name).SetCity(city).SetPovertyStatus(status).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.BadInput("name", "%s already has a county of that name", city)
	}
	if err != nil {
		return nil, fmt.Errorf("create county: %w", err)
	}
	return c, nil
}

// CreateSupplier adds a supplier of a county.
func (s *Service) CreateSupplier(ctx context.Context, name string, countyID gid.ID, beneficiaries int) (*ent.Supplier, error) {
	defer s.changes.Announce(changes.Catalog)
	name, err := text.Clean("name", name, 100)
	if err != nil {
		return nil, err
	}
	if beneficiaries < 0 || beneficiaries > MaxBeneficiaries {
		return nil, apperr.BadInput("beneficiaries", "beneficiaries must be between 0 and %d", MaxBeneficiaries)
	}
	if err := s.countyExists(ctx, s.db.Client.County.Query().Where(county.ID(countyID)).Exist); err != nil {
		return nil, err
	}
	sup, err := s.db.Client.Supplier.Create().
		SetName(name).SetCountyID(countyID).SetBeneficiaries(beneficiaries).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.BadInput("name", "a supplier of that name exists already")
	}
	if err != nil {
		return nil, fmt.Errorf("create supplier: %w", err)
	}
	return sup, nil
}

func (s *Service) countyExists(ctx context.Context, exist func(context.Context) (bool, error)) error {
	ok, err := exist(ctx)
	if err != nil {
		return fmt.Errorf("look up county: %w", err)
	}
	if !ok {
		return apperr.New(apperr.NotFound, "no county has that ID")
	}
	return nil
}

// Bounds of what an admin may enter, far above any real figure and far
// below what could overflow a sum: the platform's totals add these up.
const (
	// MaxBeneficiaries is the most people one supplier can be said to lift.
	MaxBeneficiaries = 10_000_000
	// MaxStock is the most units one product can hold, and the largest
	// single stock change.
	MaxStock = 100_000_000
)

// NewProduct is what createProduct takes.
type NewProduct struct {
	Name        string
	Description string
	Category    product.Category
	Price       money.Fen
	SalePrice   *money.Fen // price when nil
	Stock       int
	OnSale      *bool // true when nil
	SupplierID  gid.ID
	CountyID    *gid.ID // the supplier's county when nil
}

// checkPrices enforces 0 < salePrice <= price.
func checkPrices(price, sale money.Fen) error {
	var p apperr.Problems
	if price <= 0 {
		p.Add(apperr.BadInput("price", "the price must be above zero"))
	}
	switch {
	case sale <= 0:
		p.Add(apperr.BadInput("salePrice", "the sale price must be above zero"))
	case price > 0 && sale > price:
		p.Add(apperr.BadInput("salePrice", "the sale price (%s) may not exceed the price (%s)", sale, price))
	}
	return p.Err()
}

// CreateProduct adds a product.
func (s *Service) CreateProduct(ctx context.Context, p NewProduct) (*ent.Product, error) {
	defer s.changes.Announce(changes.Catalog)
	var bad apperr.Problems
	name, err := text.Clean("name", p.Name, 100)
	bad.Add(err)
	if utf8.RuneCountInString(p.Description) > 5000 {
		bad.Add(apperr.BadInput("description", "the description may have at most 5000 characters"))
	}
	sale := p.Price
	if p.SalePrice != nil {
		sale = *p.SalePrice
	}
	bad.Add(checkPrices(p.Price, sale))
	if p.Stock < 0 || p.Stock > MaxStock {
		bad.Add(apperr.BadInput("stock", "stock must be between 0 and %d", MaxStock))
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	sup, err := s.db.Client.Supplier.Query().Where(supplier.ID(p.SupplierID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no supplier has that ID")
	}
	if err != nil {
		return nil, fmt.Errorf("create product: %w", err)
	}
	countyID := sup.CountyID
	if p.CountyID != nil {
		if err := s.countyExists(ctx, s.db.Client.County.Query().Where(county.ID(*p.CountyID)).Exist); err != nil {
			return nil, err
		}
		countyID = *p.CountyID
	}
	onSale := true
	if p.OnSale != nil {
		onSale = *p.OnSale
	}
	out, err := s.db.Client.Product.Create().
		SetName(name).
		SetDescription(strings.TrimSpace(p.Description)).
		SetCategory(p.Category).
		SetPrice(p.Price).
		SetSalePrice(sale).
		SetStock(p.Stock).
		SetStockReceived(p.Stock).
		SetOnSale(onSale).
		SetSupplierID(sup.ID).
		SetCountyID(countyID).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create product: %w", err)
	}
	return out, nil
}

// ProductChange is what updateProduct takes; nil fields stay as they are.
type ProductChange struct {
	Name        *string
	Description *string
	Category    *product.Category
	Price       *money.Fen
	SalePrice   *money.Fen
	StockDelta  *int
	OnSale      *bool
}

// UpdateProduct changes a product in one transaction. A stock change is a
// conditional update (stock + delta >= 0), so concurrent changes can never
// take stock below zero; a refused change writes nothing at all.
func (s *Service) UpdateProduct(ctx context.Context, id gid.ID, c ProductChange) (*ent.Product, error) {
	defer s.changes.Announce(changes.Catalog)
	var out *ent.Product
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		q := tx.Product.Query().Where(product.ID(id))
		if s.db.Postgres() {
			q = q.ForUpdate() // prices are checked against each other
		}
		p, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return apperr.New(apperr.NotFound, "no product has that ID")
		}
		if err != nil {
			return err
		}
		upd := tx.Product.UpdateOneID(id).SetUpdatedAt(time.Now().UTC())
		var bad apperr.Problems // every bad field, before anything is written
		if c.Name != nil {
			name, err := text.Clean("name", *c.Name, 100)
			if bad.Check(err) {
				upd.SetName(name)
			}
		}
		if c.Description != nil {
			if utf8.RuneCountInString(*c.Description) > 5000 {
				bad.Add(apperr.BadInput("description", "the description may have at most 5000 characters"))
			}
			upd.SetDescription(strings.TrimSpace(*c.Description))
		}
		if c.Category != nil {
			upd.SetCategory(*c.Category)
		}
		price, sale := p.Price, p.SalePrice
		if c.Price != nil {
			price = *c.Price
		}
		if c.SalePrice != nil {
			sale = *c.SalePrice
		}
		if c.Price != nil || c.SalePrice != nil {
			bad.Add(checkPrices(price, sale))
			upd.SetPrice(price).SetSalePrice(sale)
		}
		if c.OnSale != nil {
			upd.SetOnSale(*c.OnSale)
		}
		if c.StockDelta != nil {
			bad.Add(checkDelta(*c.StockDelta))
		}
		if err := bad.Err(); err != nil {
			return err
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		if c.StockDelta != nil && *c.StockDelta != 0 {
			if err := AdjustStock(ctx, tx.Client(), id, *c.StockDelta); err != nil {
				return err
			}
		}
		out, err = tx.Product.Get(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update product: %w", err)
	}
	return out.Unwrap(), nil
}

func checkDelta(delta int) error {
	if delta < -MaxStock || delta > MaxStock {
		return apperr.BadInput("stockDelta", "a stock change must be between -%d and %d", MaxStock, MaxStock)
	}
	return nil
}

// AdjustStock adds delta (a restock, or a negative correction) to a
// product's stock and to the units it ever received, if the stock stays
// between zero and MaxStock, in one conditional UPDATE; otherwise it refuses
// with BAD_USER_INPUT and writes nothing.
func AdjustStock(ctx context.Context, client *ent.Client, id gid.ID, delta int) error {
	if err := checkDelta(delta); err != nil {
		return err
	}
	n, err := client.Product.Update().
		Where(product.ID(id), product.StockGTE(-delta), product.StockLTE(MaxStock-delta)).
		AddStock(delta).
		AddStockReceived(delta).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("adjust stock: %w", err)
	}
	if n == 0 {
		return apperr.BadInput("stockDelta", "that change would take the stock below zero or above %d", MaxStock)
	}
	return nil
}

// CreateLiveEvent schedules a livestream.
func (s *Service) CreateLiveEvent(ctx context.Context, title string, startsAt, endsAt time.Time, streamURL *string) (*ent.LiveEvent, error) {
	defer s.changes.Announce(changes.Catalog)
	title, err := text.Clean("title", title, 100)
	if err != nil {
		return nil, err
	}
	if !startsAt.Before(endsAt) {
		return nil, apperr.BadInput("endsAt", "a live event must end after it starts")
	}
	if streamURL != nil {
		u, err := url.Parse(*streamURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "rtmp") || u.Host == "" || len(*streamURL) > 500 {
			return nil, apperr.BadInput("streamURL", "the stream URL must be an absolute http, https or rtmp URL")
		}
	}
	ev, err := s.db.Client.LiveEvent.Create().
		SetTitle(title).
		SetStartsAt(startsAt.UTC()).
		SetEndsAt(endsAt.UTC()).
		SetNillableStreamURL(streamURL).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create live event: %w", err)
	}
	return ev, nil
}
