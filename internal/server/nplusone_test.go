package server_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A page of products with their suppliers' and their own counties costs a
// fixed number of statements, not one per product.
func TestProductsEdgesLoadedInBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		counted, counter := d.Counted()
		m := servertest.Start(t, d, servertest.Options{DB: counted})
		c := servertest.SeedCatalogue(t, m, 28) // 3 suppliers over 2 counties; some products in the other county
		countyName := map[string]string{c.LiftedCounty: "紫阳县", c.PoorCounty: "秦都区"}
		supplierCounty := map[string]string{c.Suppliers[0]: c.LiftedCounty, c.Suppliers[1]: c.PoorCounty, c.Suppliers[2]: c.LiftedCounty}
		byID := map[string]servertest.Seeded{}
		for _, p := range c.Products {
			byID[p.ID] = p
		}

		const q = `{ products(first: 20) { edges { node { id supplier { id name county { name } } county { name } } } } }`
		counter.Reset()
		r := m.Do("", q, nil)
		n := counter.Count()
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if n == 0 || n > 4 {
			t.Fatalf("%d statements for a page of 20 products with suppliers and counties, want 1 to 4", n)
		}
		t.Logf("%d statements", n)

		var out struct {
			Products struct {
				Edges []struct {
					Node struct {
						ID       string
						Supplier struct {
							ID, Name string
							County   struct{ Name string }
						}
						County struct{ Name string }
					}
				}
			}
		}
		r.Decode(t, &out)
		if len(out.Products.Edges) != 20 {
			t.Fatalf("%d edges", len(out.Products.Edges))
		}
		for _, e := range out.Products.Edges {
			p, ok := byID[e.Node.ID]
			if !ok || !p.OnSale {
				t.Fatalf("unexpected product %s", e.Node.ID)
			}
			ownCounty := supplierCounty[p.SupplierID]
			if p.CountyID != "" {
				ownCounty = p.CountyID
			}
			if e.Node.Supplier.ID != p.SupplierID || e.Node.Supplier.Name == "" ||
				e.Node.Supplier.County.Name != countyName[supplierCounty[p.SupplierID]] ||
				e.Node.County.Name != countyName[ownCounty] {
				t.Fatalf("product %s: %+v", e.Node.ID, e.Node)
			}
		}
	})
}
