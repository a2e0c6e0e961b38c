package media

import (
	"context"
	"fmt"

	"unionmall/ent"
	"unionmall/ent/product"
	"unionmall/ent/productimage"
	"unionmall/internal/apperr"
	"unionmall/internal/changes"
	"unionmall/internal/db"
	"unionmall/internal/gid"
)

// MaxImages is how many images a product may have.
const MaxImages = 20

// shift moves positions out of the way inside a transaction: the unique
// (product, position) index is checked row by row, so positions are first
// moved past every used one and then set, never swapped in place.
const shift = 1000

// Service keeps products' images: the rows in the database, the blobs in
// the store.
type Service struct {
	db     *db.DB
	store  Store
	limits Limits
	// changes hears changes.Catalog when a write returns (nil: nobody).
	changes *changes.Registry
}

// New returns the service; a nil store refuses uploads.
func New(d *db.DB, store Store, l Limits, reg *changes.Registry) *Service {
	return &Service{db: d, store: store, limits: l.withDefaults(), changes: reg}
}

// Store is where the blobs are.
func (s *Service) Store() Store { return s.store }

// URL is where clients fetch an image.
func (s *Service) URL(img *ent.ProductImage) string {
	name := img.Hash + "." + extOf[img.ContentType]
	if s.store == nil {
		return Route + name
	}
	return s.store.URL(name)
}

// Upload checks the file (Check), stores its blob and adds it to the
// product: last, or first when cover. Returns NOT_FOUND for an unknown
// product and BAD_USER_INPUT for a refused file or a product that has
// MaxImages already; a refused file stores nothing.
func (s *Service) Upload(ctx context.Context, productID gid.ID, file []byte, cover bool) (*ent.ProductImage, error) {
	defer s.changes.Announce(changes.Catalog)
	img, err := Check(file, s.limits)
	if err != nil {
		return nil, err
	}
	if s.store == nil {
		return nil, fmt.Errorf("media: no store configured")
	}
	if ok, err := s.db.Client.Product.Query().Where(product.ID(productID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("find product: %w", err)
	} else if !ok {
		return nil, notFound()
	}
	n, err := s.db.Client.ProductImage.Query().Where(productimage.ProductID(productID)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count images: %w", err)
	}
	if n >= MaxImages {
		return nil, tooMany()
	}
	// The blob first: a row never names a missing blob. If the
	// transaction then refuses (a race to the last free place), the blob
	// stays unreferenced, as after removeProductImage.
	if err := s.store.Put(ctx, img.Name(), img.Data, img.ContentType); err != nil {
		return nil, err
	}
	var out *ent.ProductImage
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		if err := lockProduct(ctx, s.db, tx, productID); err != nil {
			return err
		}
		n, err := tx.ProductImage.Query().Where(productimage.ProductID(productID)).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxImages {
			return tooMany()
		}
		pos := n
		if cover {
			pos = 0
			if err := move(ctx, tx, productID, -1, 1); err != nil {
				return err
			}
		}
		out, err = tx.ProductImage.Create().
			SetProductID(productID).SetHash(img.Hash).SetContentType(img.ContentType).
			SetWidth(img.Width).SetHeight(img.Height).SetBytes(len(img.Data)).SetPosition(pos).
			Save(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("add image: %w", err)
	}
	return out.Unwrap(), nil
}

// Remove deletes an image; the images after it move up one. It returns
// the image's product. The blob stays in the store, since another image
// (of this product or another) may have the same bytes. NOT_FOUND for an
// unknown image.
func (s *Service) Remove(ctx context.Context, imageID gid.ID) (gid.ID, error) {
	defer s.changes.Announce(changes.Catalog)
	img, err := s.db.Client.ProductImage.Get(ctx, imageID)
	if ent.IsNotFound(err) {
		return "", apperr.New(apperr.NotFound, "no product image has that ID")
	}
	if err != nil {
		return "", fmt.Errorf("find image: %w", err)
	}
	err = s.db.Tx(ctx, func(tx *ent.Tx) error {
		if err := lockProduct(ctx, s.db, tx, img.ProductID); err != nil {
			return err
		}
		// Read again under the lock: a reorder may have moved it.
		cur, err := tx.ProductImage.Get(ctx, imageID)
		if ent.IsNotFound(err) {
			return apperr.New(apperr.NotFound, "no product image has that ID")
		}
		if err != nil {
			return err
		}
		if err := tx.ProductImage.DeleteOneID(imageID).Exec(ctx); err != nil {
			return err
		}
		return move(ctx, tx, img.ProductID, cur.Position, -1)
	})
	if err != nil {
		return "", fmt.Errorf("remove image: %w", err)
	}
	return img.ProductID, nil
}

// Reorder puts the product's images in the order of ids, which must name
// each of them once (BAD_USER_INPUT otherwise). NOT_FOUND for an unknown
// product.
func (s *Service) Reorder(ctx context.Context, productID gid.ID, ids []gid.ID) error {
	defer s.changes.Announce(changes.Catalog)
	err := s.db.Tx(ctx, func(tx *ent.Tx) error {
		if err := lockProduct(ctx, s.db, tx, productID); err != nil {
			return err
		}
		have, err := tx.ProductImage.Query().Where(productimage.ProductID(productID)).IDs(ctx)
		if err != nil {
			return err
		}
		left := make(map[gid.ID]bool, len(have))
		for _, id := range have {
			left[id] = true
		}
		for _, id := range ids {
			if !left[id] {
				return badOrder()
			}
			delete(left, id)
		}
		if len(left) > 0 {
			return badOrder()
		}
		if err := move(ctx, tx, productID, -1, shift); err != nil {
			return err
		}
		for i, id := range ids {
			if err := tx.ProductImage.UpdateOneID(id).SetPosition(i).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reorder images: %w", err)
	}
	return nil
}

// move adds by to the position of the product's images after position
// after, in two steps (see shift).
func move(ctx context.Context, tx *ent.Tx, productID gid.ID, after, by int) error {
	sel := tx.ProductImage.Update().Where(productimage.ProductID(productID), productimage.PositionGT(after))
	if err := sel.AddPosition(shift).Exec(ctx); err != nil {
		return err
	}
	if by == shift {
		return nil
	}
	return tx.ProductImage.Update().
		Where(productimage.ProductID(productID), productimage.PositionGTE(shift)).
		AddPosition(by - shift).Exec(ctx)
}

// lockProduct takes the product's row lock on PostgreSQL (SQLite's
// transactions hold the write lock already), so that changes to one
// product's images serialize.
func lockProduct(ctx context.Context, d *db.DB, tx *ent.Tx, id gid.ID) error {
	q := tx.Product.Query().Where(product.ID(id))
	if d.Postgres() {
		q = q.ForUpdate()
	}
	if _, err := q.OnlyID(ctx); ent.IsNotFound(err) {
		return notFound()
	} else if err != nil {
		return err
	}
	return nil
}

// ImagesOf returns the images of each product, in order, in one query.
func (s *Service) ImagesOf(ctx context.Context, productIDs []gid.ID) (map[gid.ID][]*ent.ProductImage, error) {
	rows, err := s.db.Client.ProductImage.Query().
		Where(productimage.ProductIDIn(productIDs...)).
		Order(ent.Asc(productimage.FieldProductID), ent.Asc(productimage.FieldPosition)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	out := make(map[gid.ID][]*ent.ProductImage, len(productIDs))
	for _, r := range rows {
		out[r.ProductID] = append(out[r.ProductID], r)
	}
	return out, nil
}

func notFound() error { return apperr.New(apperr.NotFound, "no product has that ID") }

func tooMany() error {
	return apperr.BadInput("productID", "a product may have at most %d images; remove one first", MaxImages)
}

func badOrder() error {
	return apperr.BadInput("imageIDs", "imageIDs must name each of the product's images exactly once")
}

// Limits are the service's bounds on a file.
func (s *Service) Limits() Limits { return s.limits }
