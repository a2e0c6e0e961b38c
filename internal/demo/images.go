package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"unionmall/ent"
	"unionmall/ent/product"
	"unionmall/internal/media"
)

// Images gives every product of the demo catalogue without an image a
// cover: a tile in its category's colour (drawn here, so the demo needs no
// files), uploaded through media like an ADMIN's, so a storefront built on
// the demo shows images from the first run.
func Images(ctx context.Context, client *ent.Client, m *media.Service) (int, error) {
	ps, err := client.Product.Query().Where(product.Not(product.HasImages())).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo images: %w", err)
	}
	for i, p := range ps {
		b, err := tile(categoryColour[p.Category], i)
		if err != nil {
			return i, err
		}
		if _, err := m.Upload(ctx, p.ID, b, true); err != nil {
			return i, fmt.Errorf("demo image of %s: %w", p.ID, err)
		}
	}
	return len(ps), nil
}

var categoryColour = map[product.Category]color.RGBA{
	product.CategoryTEA:            {0x4c, 0x8c, 0x4a, 0xff},
	product.CategoryMOUNTAIN_GOODS: {0x8d, 0x6e, 0x4a, 0xff},
	product.CategorySNACKS:         {0xd9, 0x8c, 0x3f, 0xff},
	product.CategoryGRAIN_OIL:      {0xe0, 0xb8, 0x3a, 0xff},
	product.CategorySEASONAL:       {0xc0, 0x39, 0x2b, 0xff},
	product.CategoryOTHER:          {0x6c, 0x75, 0x7d, 0xff},
}

// tile is a 480×480 PNG: the colour with a lighter disc, placed by n so
// that products of one category differ.
func tile(c color.RGBA, n int) ([]byte, error) {
	const size = 480
	im := image.NewRGBA(image.Rect(0, 0, size, size))
	light := color.RGBA{c.R/2 + 0x7f, c.G/2 + 0x7f, c.B/2 + 0x7f, 0xff}
	cx, cy, r := 160+(n*97)%160, 160+(n*53)%160, 120
	for y := range size {
		for x := range size {
			dx, dy := x-cx, y-cy
			if dx*dx+dy*dy <= r*r {
				im.SetRGBA(x, y, light)
			} else {
				im.SetRGBA(x, y, c)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, im); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
