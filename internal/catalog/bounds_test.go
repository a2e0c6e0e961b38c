package catalog_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// GraphQL's Int is 32-bit, but what a client can send is wider: the
// served Int is Go's int, and both a variable (a JSON number) and a
// literal in the document reach the resolvers with up to 64 bits (gqlgen
// and gqlparser parse them as int64); only a value past 64 bits is refused
// by validation. So the bounds below are reached with plain requests.

// The bounds, as catalog.MaxBeneficiaries and catalog.MaxStock say
// (written out so that the test also runs against code without them).
const (
	maxBeneficiaries = 10_000_000
	maxStock         = 100_000_000
)

const (
	createSupplierQ = `mutation($i: CreateSupplierInput!) { createSupplier(input: $i) { id beneficiaries } }`
	createProductQ  = `mutation($i: CreateProductInput!) { createProduct(input: $i) { id stock } }`
	updateProductQ  = `mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id stock } }`
	statsQ          = `{ platformStats { beneficiaries paidOrders } }`
)

// refused checks a BAD_USER_INPUT on the field.
func refused(t *testing.T, r *servertest.Response, field string) {
	t.Helper()
	if r.Code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
		t.Fatalf("code %q, errors %+v, data %s; want BAD_USER_INPUT on %s", r.Code(), r.Errors, r.Data, field)
	}
}

// Admin input is bounded (maxBeneficiaries, maxStock):
// past the bounds it is BAD_USER_INPUT on the field, not an internal error
// or an overflow in the platform's totals, and nothing is written.
func TestAdminInputIsBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		county := m.NewCounty()
		supplier := m.NewSupplier(3)
		stats := func() string {
			t.Helper()
			r := m.Do("", statsQ, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("platformStats: %+v", r.Errors)
			}
			return string(r.Data)
		}
		statsBefore := stats()

		t.Run("createSupplier beneficiaries", func(t *testing.T) {
			for _, tt := range []struct {
				name  string
				value int64
				ok    bool
			}{
				{"5000000000000000000", 5_000_000_000_000_000_000, false},
				{"MaxInt64", math.MaxInt64, false},
				{"MaxBeneficiaries+1", maxBeneficiaries + 1, false},
				{"-1", -1, false},
				{"MaxBeneficiaries", maxBeneficiaries, true},
			} {
				t.Run(tt.name, func(t *testing.T) {
					before := d.Int(t, `SELECT COUNT(*) FROM suppliers`)
					r := m.Do(m.Admin, createSupplierQ, map[string]any{"i": map[string]any{
						"name": "合作社 " + tt.name, "countyID": county, "beneficiaries": tt.value}})
					if tt.ok {
						if len(r.Errors) > 0 {
							t.Fatalf("at the bound: %+v", r.Errors)
						}
						return
					}
					refused(t, r, "beneficiaries")
					if n := d.Int(t, `SELECT COUNT(*) FROM suppliers`); n != before {
						t.Fatalf("suppliers %d -> %d after a refusal", before, n)
					}
				})
			}
			if got := stats(); got != statsBefore {
				t.Fatalf("platformStats %s, was %s", got, statsBefore)
			}
		})

		t.Run("createProduct stock", func(t *testing.T) {
			for _, tt := range []struct {
				name  string
				value int64
				ok    bool
			}{
				{"MaxStock+1", maxStock + 1, false},
				{"MaxInt64", math.MaxInt64, false},
				{"MaxStock", maxStock, true},
			} {
				t.Run(tt.name, func(t *testing.T) {
					before := d.Int(t, `SELECT COUNT(*) FROM products`)
					r := m.Do(m.Admin, createProductQ, map[string]any{"i": map[string]any{
						"name": "商品 " + tt.name, "category": "TEA", "price": "10.00", "stock": tt.value, "supplierID": supplier}})
					if tt.ok {
						if len(r.Errors) > 0 {
							t.Fatalf("at the bound: %+v", r.Errors)
						}
						return
					}
					refused(t, r, "stock")
					if n := d.Int(t, `SELECT COUNT(*) FROM products`); n != before {
						t.Fatalf("products %d -> %d after a refusal", before, n)
					}
				})
			}
		})

		t.Run("updateProduct stockDelta", func(t *testing.T) {
			product := m.NewProduct("10.00", 50)
			full := m.NewProduct("10.00", maxStock)
			for _, tt := range []struct {
				name    string
				product string
				delta   int64
			}{
				{"MaxInt64", product, math.MaxInt64},
				{"MinInt64", product, math.MinInt64},
				{"MaxStock+1", product, maxStock + 1},
				{"-(MaxStock+1)", product, -(maxStock + 1)},
				{"below zero", product, -51},
				{"past MaxStock", full, 1},
			} {
				t.Run(tt.name, func(t *testing.T) {
					before := d.Int(t, `SELECT stock FROM products WHERE id = ?`, tt.product)
					r := m.Do(m.Admin, updateProductQ, map[string]any{"id": tt.product, "i": map[string]any{"stockDelta": tt.delta}})
					refused(t, r, "stockDelta")
					if after := d.Int(t, `SELECT stock FROM products WHERE id = ?`, tt.product); after != before {
						t.Fatalf("stock %d -> %d after a refusal", before, after)
					}
				})
			}
			// Within the bounds it applies.
			var out struct{ UpdateProduct struct{ Stock int } }
			m.MustDo(m.Admin, updateProductQ, map[string]any{"id": product, "i": map[string]any{"stockDelta": maxStock - 50}}, &out)
			if out.UpdateProduct.Stock != maxStock {
				t.Fatalf("stock %d, want %d", out.UpdateProduct.Stock, maxStock)
			}
		})

		// Two suppliers said to lift 5·10^18 people each, if they could be
		// created, would overflow the platform's beneficiaries once they
		// sell: whatever createSupplier answers, platformStats goes on
		// answering.
		t.Run("platformStats after oversized suppliers sell", func(t *testing.T) {
			buyer := m.Verified("统计")
			for i := range 2 {
				r := m.Do(m.Admin, createSupplierQ, map[string]any{"i": map[string]any{
					"name": fmt.Sprint("巨大合作社 ", i), "countyID": county, "beneficiaries": int64(5_000_000_000_000_000_000)}})
				if len(r.Errors) > 0 {
					continue // refused: nothing to sell
				}
				var sup struct{ CreateSupplier struct{ ID string } }
				r.Decode(t, &sup)
				var prod struct{ CreateProduct struct{ ID string } }
				m.MustDo(m.Admin, createProductQ, map[string]any{"i": map[string]any{
					"name": fmt.Sprint("巨大商品 ", i), "category": "TEA", "price": "10.00", "stock": 10, "supplierID": sup.CreateSupplier.ID}}, &prod)
				var ord struct{ PlaceOrder struct{ ID string } }
				m.MustDo(buyer.Token, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }`, map[string]any{"i": map[string]any{
					"items": []map[string]any{{"productID": prod.CreateProduct.ID, "quantity": 1}}}}, &ord)
				m.MustDo(m.Admin, `mutation($i: ConfirmPaymentInput!) { confirmPayment(input: $i) { id } }`, map[string]any{"i": map[string]any{
					"orderID": ord.PlaceOrder.ID, "paymentReference": fmt.Sprint("pay-", i), "amount": "10.00"}}, nil)
			}
			if r := m.Do("", statsQ, nil); len(r.Errors) > 0 {
				t.Fatalf("platformStats: %+v", r.Errors)
			}
		})

		// Literals in the document reach the server like variables, up to
		// 64 bits; a value past 64 bits, literal or variable, is refused
		// by validation before anything runs.
		t.Run("literals and values past 64 bits", func(t *testing.T) {
			lit := func(v string) *servertest.Response {
				return m.Do(m.Admin, fmt.Sprintf(`mutation { createSupplier(input: {name: "字面 %s", countyID: %q, beneficiaries: %s}) { id } }`,
					v, county, v), nil)
			}
			for _, tt := range []struct {
				name        string
				do          func() *servertest.Response
				code, field string
			}{
				{"literal MaxBeneficiaries+1", func() *servertest.Response { return lit(fmt.Sprint(maxBeneficiaries + 1)) },
					"BAD_USER_INPUT", "beneficiaries"},
				{"literal 5000000000000000000", func() *servertest.Response { return lit("5000000000000000000") },
					"BAD_USER_INPUT", "beneficiaries"},
				{"literal past 64 bits", func() *servertest.Response { return lit("99999999999999999999") },
					"GRAPHQL_VALIDATION_FAILED", ""},
				{"variable past 64 bits", func() *servertest.Response {
					return m.Do(m.Admin, createSupplierQ, map[string]any{"i": map[string]any{
						"name": "合作社 past 64 bits", "countyID": county, "beneficiaries": json.Number("99999999999999999999")}})
				}, "GRAPHQL_VALIDATION_FAILED", ""},
			} {
				t.Run(tt.name, func(t *testing.T) {
					before := d.Int(t, `SELECT COUNT(*) FROM suppliers`)
					r := tt.do()
					if tt.field != "" {
						refused(t, r, tt.field)
					} else if r.Code() != tt.code {
						t.Fatalf("code %q, errors %+v; want %s", r.Code(), r.Errors, tt.code)
					}
					if n := d.Int(t, `SELECT COUNT(*) FROM suppliers`); n != before {
						t.Fatalf("suppliers %d -> %d after a refusal", before, n)
					}
				})
			}
			product := m.NewProduct("10.00", 5)
			for _, delta := range []string{fmt.Sprint(maxStock + 1), "9223372036854775807", "-9223372036854775808"} {
				r := m.Do(m.Admin, fmt.Sprintf(`mutation { updateProduct(id: %q, input: {stockDelta: %s}) { stock } }`, product, delta), nil)
				refused(t, r, "stockDelta")
				if s := d.Int(t, `SELECT stock FROM products WHERE id = ?`, product); s != 5 {
					t.Fatalf("stock %d after a refused literal stockDelta %s, want 5", s, delta)
				}
			}
		})
	})
}
