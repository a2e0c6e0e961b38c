package catalog_test

import (
	"encoding/json"
	"sync"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// updateProduct's stockDelta never takes stock below zero, alone or under
// concurrency, and a refused change applies none of the call's fields.
func TestUpdateProductStock(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		county := servertest.CreateCounty(t, m, "柞水县", "商洛市", "LIFTED")
		supplier := servertest.CreateSupplier(t, m, "Zhashui Fungus Co-op", county, 20)
		newProduct := func(stock int) string {
			return servertest.CreateProduct(t, m, servertest.ProductIn{Name: "Black Fungus", Category: "MOUNTAIN_GOODS",
				Price: "18.80", Stock: stock, OnSale: true, SupplierID: supplier})
		}

		t.Run("below zero", func(t *testing.T) {
			id := newProduct(5)
			want := servertest.ReadProduct(t, d, id)
			for _, in := range []map[string]any{
				{"stockDelta": -6},
				{"stockDelta": -6, "name": "Renamed", "price": "99", "salePrice": "50", "onSale": false, "category": "TEA"},
				{"stockDelta": -1000000},
			} {
				r := m.Do(m.Admin, servertest.UpdateProductQ, map[string]any{"id": id, "i": in})
				servertest.WantCode(t, r, "BAD_USER_INPUT")
				if got := servertest.ReadProduct(t, d, id); got != want {
					t.Fatalf("%v: product changed to %+v from %+v", in, got, want)
				}
				if n := d.Int(t, `SELECT COUNT(*) FROM products WHERE id = ? AND category = 'MOUNTAIN_GOODS'`, id); n != 1 {
					t.Fatalf("%v: category changed", in)
				}
			}
			// Exactly to zero is fine, and back up again.
			var out struct {
				UpdateProduct struct {
					Stock int
					Name  string
				}
			}
			servertest.MustDo(t, m, m.Admin, servertest.UpdateProductQ, map[string]any{"id": id, "i": map[string]any{"stockDelta": -5, "name": "Sold Out Fungus"}}, &out)
			if out.UpdateProduct.Stock != 0 || out.UpdateProduct.Name != "Sold Out Fungus" || servertest.ReadProduct(t, d, id).Stock != 0 {
				t.Fatalf("to zero: %+v", out)
			}
			servertest.WantCode(t, m.Do(m.Admin, servertest.UpdateProductQ, map[string]any{"id": id, "i": map[string]any{"stockDelta": -1}}), "BAD_USER_INPUT")
			servertest.MustDo(t, m, m.Admin, servertest.UpdateProductQ, map[string]any{"id": id, "i": map[string]any{"stockDelta": 3}}, &out)
			if out.UpdateProduct.Stock != 3 || servertest.ReadProduct(t, d, id).Stock != 3 {
				t.Fatalf("restock: %+v", out)
			}
		})

		t.Run("unknown product", func(t *testing.T) {
			n := servertest.Rows(t, d, "products")
			for _, id := range []string{"prd_01JD5Z8Q5V8N4W3X2Y1Z0A9B8C", "nope", ""} {
				servertest.WantCode(t, m.Do(m.Admin, servertest.UpdateProductQ, map[string]any{"id": id, "i": map[string]any{"stockDelta": 1}}), "NOT_FOUND")
			}
			if servertest.Rows(t, d, "products") != n {
				t.Fatal("rows changed")
			}
		})

		t.Run("concurrent", func(t *testing.T) {
			const stock, callers = 10, 40
			id := newProduct(stock)
			client := m.HTTP.Client()
			type result struct {
				code  string
				stock int
				err   error
			}
			results := make([]result, callers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r, err := servertest.Post(client, m.HTTP.URL, m.Admin, servertest.UpdateProductQ,
						map[string]any{"id": id, "i": map[string]any{"stockDelta": -1}})
					if err != nil {
						results[i] = result{err: err}
						return
					}
					res := result{code: r.Code()}
					if res.code == "" {
						var out struct{ UpdateProduct struct{ Stock int } }
						if err := json.Unmarshal(r.Data, &out); err != nil {
							res.err = err
						}
						res.stock = out.UpdateProduct.Stock
					}
					results[i] = res
				}()
			}
			close(start)
			wg.Wait()

			ok, refused := 0, 0
			seen := map[int]bool{}
			for i, r := range results {
				switch {
				case r.err != nil:
					t.Fatalf("caller %d: %v", i, r.err)
				case r.code == "":
					ok++
					if r.stock < 0 || r.stock >= stock || seen[r.stock] {
						t.Errorf("caller %d saw stock %d after its change", i, r.stock)
					}
					seen[r.stock] = true
				case r.code == "BAD_USER_INPUT":
					refused++
				default:
					t.Errorf("caller %d: code %s", i, r.code)
				}
			}
			if ok != stock || refused != callers-stock {
				t.Fatalf("%d succeeded and %d were refused, want %d and %d", ok, refused, stock, callers-stock)
			}
			if got := servertest.ReadProduct(t, d, id).Stock; got != 0 {
				t.Fatalf("final stock %d, want 0", got)
			}
			if n := d.Int(t, `SELECT COUNT(*) FROM products WHERE stock < 0`); n != 0 {
				t.Fatalf("%d products with negative stock", n)
			}
		})
	})
}
