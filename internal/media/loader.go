package media

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"unionmall/ent"
	"unionmall/internal/gid"
)

type loaderKey struct{}

type loader = dataloadgen.Loader[gid.ID, []*ent.ProductImage]

// WithLoader gives ctx a loader that batches the image look-ups of one
// GraphQL response (a page of products costs one query, not one per
// product). Give each response its own: its cache lives as long as ctx.
func (s *Service) WithLoader(ctx context.Context) context.Context {
	l := dataloadgen.NewLoader(func(ctx context.Context, ids []gid.ID) ([][]*ent.ProductImage, []error) {
		byProduct, err := s.ImagesOf(ctx, ids)
		out := make([][]*ent.ProductImage, len(ids))
		if err != nil {
			errs := make([]error, len(ids))
			for i := range errs {
				errs[i] = err
			}
			return out, errs
		}
		for i, id := range ids {
			out[i] = byProduct[id]
		}
		return out, nil
	}, dataloadgen.WithWait(time.Millisecond))
	return context.WithValue(ctx, loaderKey{}, l)
}

// Images returns the product's images in order, through ctx's loader when
// it has one.
func (s *Service) Images(ctx context.Context, productID gid.ID) ([]*ent.ProductImage, error) {
	if l, ok := ctx.Value(loaderKey{}).(*loader); ok {
		return l.Load(ctx, productID)
	}
	m, err := s.ImagesOf(ctx, []gid.ID{productID})
	return m[productID], err
}
