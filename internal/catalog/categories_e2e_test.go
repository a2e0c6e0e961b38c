package catalog_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// productCategories lists every value of the served ProductCategory enum
// once, in display order, with its display name, to anyone.
func TestProductCategories(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		var out struct {
			ProductCategories []struct{ Category, Name string }
			Type              struct{ EnumValues []struct{ Name string } } `json:"__type"`
		}
		servertest.MustDo(t, m, "", `{ productCategories { category name } __type(name: "ProductCategory") { enumValues { name } } }`, nil, &out)
		want := map[string]string{"TEA": "陕茶茗品", "MOUNTAIN_GOODS": "山野干货", "SNACKS": "休闲零食", "GRAIN_OIL": "米面粮油", "SEASONAL": "应季保暖", "OTHER": "其他"}
		if len(out.ProductCategories) != len(out.Type.EnumValues) || len(out.ProductCategories) != len(want) {
			t.Fatalf("%d categories listed, the enum has %d: %+v", len(out.ProductCategories), len(out.Type.EnumValues), out.ProductCategories)
		}
		for i, c := range out.ProductCategories {
			if want[c.Category] != c.Name || out.Type.EnumValues[i].Name != c.Category {
				t.Errorf("category %d: %+v, want %s named %q", i, c, out.Type.EnumValues[i].Name, want[c.Category])
			}
		}
	})
}
