package catalog

import (
	"testing"

	"unionmall/ent/product"
)

// Each category has one display name.
func TestCategoriesCoverTheEnum(t *testing.T) {
	seen := map[product.Category]bool{}
	for _, c := range Categories {
		if err := product.CategoryValidator(c.Category); err != nil || seen[c.Category] || c.Name == "" {
			t.Fatalf("category %+v: %v (seen %v)", c, err, seen[c.Category])
		}
		seen[c.Category] = true
	}
	// That none is missing is checked against the served enum
	// (TestProductCategories).
}
