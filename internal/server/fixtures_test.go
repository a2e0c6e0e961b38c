package server_test

// Shared fixtures of the server's end-to-end tests: a catalogue created
// through the admin API, row counts, money in fen, and a goroutine-safe
// request helper.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

const (
	createCountyQ = `mutation($i: CreateCountyInput!) {
		createCounty(input: $i) { id name city povertyStatus } }`
	createSupplierQ = `mutation($i: CreateSupplierInput!) {
		createSupplier(input: $i) { id name beneficiaries county { id } } }`
	createProductQ = `mutation($i: CreateProductInput!) {
		createProduct(input: $i) { id name category price salePrice stock onSale supplier { id } county { id } } }`
	updateProductQ = `mutation($id: ID!, $i: UpdateProductInput!) {
		updateProduct(id: $id, input: $i) { id name price salePrice stock onSale } }`
	createLiveEventQ = `mutation($i: CreateLiveEventInput!) {
		createLiveEvent(input: $i) { id title startsAt endsAt streamURL } }`
	registerUnitQ = `mutation($i: RegisterPurchasingUnitInput!) {
		registerPurchasingUnit(input: $i) { id name } }`
	grantRoleQ = `mutation($i: GrantRoleInput!) {
		grantRole(input: $i) { id roles purchasingUnit { id name } } }`
	reviewQ = `mutation($i: ReviewVerificationInput!) {
		reviewRealNameVerifications(input: $i) { id verificationStatus } }`
	submitRealNameQ = `mutation($i: RealNameInput!) {
		submitRealNameVerification(input: $i) { id verificationStatus } }`
	registerQ = `mutation($i: RegisterMemberInput!) {
		registerMember(input: $i) { token member { id phone } } }`
	loginQ = `mutation($i: LoginInput!) { login(input: $i) { token member { id phone } } }`
	meQ    = `{ me { id phone roles verificationStatus realName verificationNote } }`
)

// mustDo is Mall.MustDo reporting to t, so that subtests fail themselves
// rather than their parent.
func mustDo(t testing.TB, m *servertest.Mall, token, query string, vars map[string]any, out any) {
	t.Helper()
	r := m.Do(token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s\nerrors: %+v", strings.TrimSpace(query), r.Errors)
	}
	if out != nil {
		r.Decode(t, out)
	}
}

// rows counts the rows of a table.
func rows(t testing.TB, d *testdb.DB, table string) int {
	t.Helper()
	return d.Int(t, "SELECT COUNT(*) FROM "+table)
}

// wantCode fails unless the response's first error carries the code.
func wantCode(t testing.TB, r *servertest.Response, code string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("code %q, want %q; errors %+v, data %s", r.Code(), code, r.Errors, r.Data)
	}
}

// fen parses a Money string ("12.50") into fen, failing on anything that is
// not exactly two fraction digits.
func fen(t testing.TB, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 2 {
		t.Fatalf("money %q: not two fraction digits", s)
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("money %q: not a number", s)
	}
	return w*100 + f
}

// yuan formats fen as a Money string.
func yuan(f int64) string { return fmt.Sprintf("%d.%02d", f/100, f%100) }

func createCounty(t testing.TB, m *servertest.Mall, name, city, status string) string {
	t.Helper()
	var out struct{ CreateCounty struct{ ID string } }
	mustDo(t, m, m.Admin, createCountyQ, map[string]any{"i": map[string]any{
		"name": name, "city": city, "povertyStatus": status}}, &out)
	return out.CreateCounty.ID
}

func createSupplier(t testing.TB, m *servertest.Mall, name, countyID string, beneficiaries int) string {
	t.Helper()
	var out struct{ CreateSupplier struct{ ID string } }
	mustDo(t, m, m.Admin, createSupplierQ, map[string]any{"i": map[string]any{
		"name": name, "countyID": countyID, "beneficiaries": beneficiaries}}, &out)
	return out.CreateSupplier.ID
}

// productIn is what createProduct gets; empty SalePrice and CountyID are
// left out.
type productIn struct {
	Name, Category, Price, SalePrice string
	Stock                            int
	OnSale                           bool
	SupplierID, CountyID             string
}

func (p productIn) vars() map[string]any {
	in := map[string]any{
		"name": p.Name, "category": p.Category, "price": p.Price, "stock": p.Stock,
		"onSale": p.OnSale, "supplierID": p.SupplierID,
	}
	if p.SalePrice != "" {
		in["salePrice"] = p.SalePrice
	}
	if p.CountyID != "" {
		in["countyID"] = p.CountyID
	}
	return map[string]any{"i": in}
}

func createProduct(t testing.TB, m *servertest.Mall, p productIn) string {
	t.Helper()
	var out struct{ CreateProduct struct{ ID string } }
	mustDo(t, m, m.Admin, createProductQ, p.vars(), &out)
	return out.CreateProduct.ID
}

// dbProduct is a product as stored.
type dbProduct struct {
	Name             string
	Price, SalePrice int64
	Stock            int
	OnSale           bool
}

func readProduct(t testing.TB, d *testdb.DB, id string) dbProduct {
	t.Helper()
	var p dbProduct
	err := d.Pool.QueryRow(d.Q(`SELECT name, price, sale_price, stock, on_sale FROM products WHERE id = ?`), id).
		Scan(&p.Name, &p.Price, &p.SalePrice, &p.Stock, &p.OnSale)
	if err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return p
}

// seeded is one product of the test catalogue as created.
type seeded struct {
	productIn
	ID string
	// Lifted: the product's county (not necessarily its supplier's) is LIFTED.
	Lifted bool
	// SalePriceFen is the effective sale price.
	PriceFen, SalePriceFen int64
}

// catalogue is what seedCatalogue created.
type catalogue struct {
	LiftedCounty, PoorCounty string
	Suppliers                []string // 3, the first and last in the LIFTED county
	SupplierNames            []string
	Products                 []seeded // in creation (= id) order
}

var categories = []string{"TEA", "MOUNTAIN_GOODS", "SNACKS", "GRAIN_OIL", "SEASONAL", "OTHER"}

// Names by category; the SNACKS name contains "Tea" so that a name filter
// and a category filter give different sets.
var namesByCategory = map[string]string{
	"TEA":            "Ziyang Selenium Green Tea",
	"MOUNTAIN_GOODS": "Qinling Shiitake Mushroom",
	"SNACKS":         "Hanzhong TEA Cake",
	"GRAIN_OIL":      "Rapeseed Oil",
	"SEASONAL":       "Wool Socks",
	"OTHER":          "Bamboo Basket",
}

// seedCatalogue creates through the admin API two counties (one LIFTED,
// one NON_POOR_WITH_TASKS), three suppliers and n products: categories in
// turn, varied prices, every third with a sale price of 75%, every sixth
// (i%6 == 5) off sale, every seventh placed in the other county than its
// supplier's.
func seedCatalogue(t testing.TB, m *servertest.Mall, n int) *catalogue {
	t.Helper()
	c := &catalogue{
		LiftedCounty: createCounty(t, m, "紫阳县", "安康市", "LIFTED"),
		PoorCounty:   createCounty(t, m, "秦都区", "咸阳市", "NON_POOR_WITH_TASKS"),
	}
	supCounty := map[string]string{}
	for i, county := range []string{c.LiftedCounty, c.PoorCounty, c.LiftedCounty} {
		name := fmt.Sprintf("Supplier %c Cooperative", 'A'+i)
		id := createSupplier(t, m, name, county, 10*(i+1))
		c.Suppliers = append(c.Suppliers, id)
		c.SupplierNames = append(c.SupplierNames, name)
		supCounty[id] = county
	}
	for i := 0; i < n; i++ {
		cat := categories[i%len(categories)]
		price := int64(500 + (i*7919)%20000) // distinct for i < 100
		p := seeded{productIn: productIn{
			Name:       fmt.Sprintf("%s No.%02d", namesByCategory[cat], i),
			Category:   cat,
			Price:      yuan(price),
			Stock:      100 + i,
			OnSale:     i%6 != 5,
			SupplierID: c.Suppliers[i%3],
		}, PriceFen: price, SalePriceFen: price}
		if i%3 == 0 {
			p.SalePriceFen = (price*75 + 50) / 100
			p.SalePrice = yuan(p.SalePriceFen)
		}
		county := supCounty[p.SupplierID]
		if i%7 == 6 {
			county = c.LiftedCounty
			if county == supCounty[p.SupplierID] {
				county = c.PoorCounty
			}
			p.CountyID = county
		}
		p.Lifted = county == c.LiftedCounty
		p.ID = createProduct(t, m, p.productIn)
		c.Products = append(c.Products, p)
	}
	return c
}

// ids returns the IDs of the products for which keep is true, in id order.
func (c *catalogue) ids(keep func(p seeded) bool) []string {
	var out []string
	for _, p := range c.Products {
		if keep(p) {
			out = append(out, p.ID)
		}
	}
	return out
}

// post sends a GraphQL request without touching testing.T, so that
// goroutines may use it.
func post(client *http.Client, url, token, query string, vars map[string]any) (*servertest.Response, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out servertest.Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode response (%d): %w", res.StatusCode, err)
	}
	out.Status = res.StatusCode
	return &out, nil
}

// rowLines is what query returns, a line a row: label, then every column's
// name and value (NULL apart from an empty string), for comparing a
// database's state before and after a call.
func rowLines(t testing.TB, d *testdb.DB, label, query string) []string {
	t.Helper()
	rs, err := d.Pool.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		var b strings.Builder
		b.WriteString(label)
		for i, v := range vals {
			if v.Valid {
				fmt.Fprintf(&b, " %s=%q", cols[i], v.String)
			} else {
				fmt.Fprintf(&b, " %s=NULL", cols[i])
			}
		}
		out = append(out, b.String())
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}
