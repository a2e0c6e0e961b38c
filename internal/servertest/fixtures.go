package servertest

// Shared fixtures of the end-to-end tests: the admin API's operations, a
// catalogue created through it, row counts, money in fen, and a
// goroutine-safe request helper.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"unionmall/internal/testdb"
)

// The admin's and the accounts' operations, with the fields the tests read.
const (
	CreateCountyQ = `mutation($i: CreateCountyInput!) {
		createCounty(input: $i) { id name city povertyStatus } }`
	CreateSupplierQ = `mutation($i: CreateSupplierInput!) {
		createSupplier(input: $i) { id name beneficiaries county { id } } }`
	CreateProductQ = `mutation($i: CreateProductInput!) {
		createProduct(input: $i) { id name category price salePrice stock onSale supplier { id } county { id } } }`
	UpdateProductQ = `mutation($id: ID!, $i: UpdateProductInput!) {
		updateProduct(id: $id, input: $i) { id name price salePrice stock onSale } }`
	CreateLiveEventQ = `mutation($i: CreateLiveEventInput!) {
		createLiveEvent(input: $i) { id title startsAt endsAt streamURL } }`
	RegisterUnitQ = `mutation($i: RegisterPurchasingUnitInput!) {
		registerPurchasingUnit(input: $i) { id name } }`
	GrantRoleQ = `mutation($i: GrantRoleInput!) {
		grantRole(input: $i) { id roles purchasingUnit { id name } } }`
	ReviewQ = `mutation($i: ReviewVerificationInput!) {
		reviewRealNameVerifications(input: $i) { id verificationStatus } }`
	SubmitRealNameQ = `mutation($i: RealNameInput!) {
		submitRealNameVerification(input: $i) { id verificationStatus } }`
	RegisterQ = `mutation($i: RegisterMemberInput!) {
		registerMember(input: $i) { token member { id phone } } }`
	LoginQ = `mutation($i: LoginInput!) { login(input: $i) { token member { id phone } } }`
	MeQ    = `{ me { id phone roles verificationStatus realName verificationNote } }`

	ChangePasswordQ = `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`
)

// MustDo is Mall.MustDo reporting to t, so that subtests fail themselves
// rather than their parent; out may be nil.
func MustDo(t testing.TB, m *Mall, token, query string, vars map[string]any, out any) {
	t.Helper()
	r := m.Do(token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s\nerrors: %+v", strings.TrimSpace(query), r.Errors)
	}
	if out != nil {
		r.Decode(t, out)
	}
}

// Rows counts the rows of a table.
func Rows(t testing.TB, d *testdb.DB, table string) int {
	t.Helper()
	return d.Int(t, "SELECT COUNT(*) FROM "+table)
}

// WantCode fails unless the response's first error carries the code.
func WantCode(t testing.TB, r *Response, code string) {
	t.Helper()
	if r.Code() != code {
		t.Fatalf("code %q, want %q; errors %+v, data %s", r.Code(), code, r.Errors, r.Data)
	}
}

// Fen parses a Money string ("12.50") into fen, failing on anything that is
// not exactly two fraction digits.
func Fen(t testing.TB, s string) int64 {
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

// Yuan formats fen as a Money string.
func Yuan(f int64) string { return fmt.Sprintf("%d.%02d", f/100, f%100) }

func CreateCounty(t testing.TB, m *Mall, name, city, status string) string {
	t.Helper()
	var out struct{ CreateCounty struct{ ID string } }
	MustDo(t, m, m.Admin, CreateCountyQ, map[string]any{"i": map[string]any{
		"name": name, "city": city, "povertyStatus": status}}, &out)
	return out.CreateCounty.ID
}

func CreateSupplier(t testing.TB, m *Mall, name, countyID string, beneficiaries int) string {
	t.Helper()
	var out struct{ CreateSupplier struct{ ID string } }
	MustDo(t, m, m.Admin, CreateSupplierQ, map[string]any{"i": map[string]any{
		"name": name, "countyID": countyID, "beneficiaries": beneficiaries}}, &out)
	return out.CreateSupplier.ID
}

// ProductIn is what CreateProduct gets; empty SalePrice and CountyID are
// left out.
type ProductIn struct {
	Name, Category, Price, SalePrice string
	Stock                            int
	OnSale                           bool
	SupplierID, CountyID             string
}

func (p ProductIn) Vars() map[string]any {
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

func CreateProduct(t testing.TB, m *Mall, p ProductIn) string {
	t.Helper()
	var out struct{ CreateProduct struct{ ID string } }
	MustDo(t, m, m.Admin, CreateProductQ, p.Vars(), &out)
	return out.CreateProduct.ID
}

// StoredProduct is a product as stored.
type StoredProduct struct {
	Name             string
	Price, SalePrice int64
	Stock            int
	OnSale           bool
}

func ReadProduct(t testing.TB, d *testdb.DB, id string) StoredProduct {
	t.Helper()
	var p StoredProduct
	err := d.Pool.QueryRow(d.Q(`SELECT name, price, sale_price, stock, on_sale FROM products WHERE id = ?`), id).
		Scan(&p.Name, &p.Price, &p.SalePrice, &p.Stock, &p.OnSale)
	if err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return p
}

// Seeded is one product of the test catalogue as created.
type Seeded struct {
	ProductIn
	ID string
	// Lifted: the product's county (not necessarily its supplier's) is LIFTED.
	Lifted bool
	// SalePriceFen is the effective sale price.
	PriceFen, SalePriceFen int64
}

// Catalogue is what SeedCatalogue created.
type Catalogue struct {
	LiftedCounty, PoorCounty string
	Suppliers                []string // 3, the first and last in the LIFTED county
	SupplierNames            []string
	Products                 []Seeded // in creation (= id) order
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

// SeedCatalogue creates through the admin API two counties (one LIFTED,
// one NON_POOR_WITH_TASKS), three suppliers and n products: categories in
// turn, varied prices, every third with a sale price of 75%, every sixth
// (i%6 == 5) off sale, every seventh placed in the other county than its
// supplier's.
func SeedCatalogue(t testing.TB, m *Mall, n int) *Catalogue {
	t.Helper()
	c := &Catalogue{
		LiftedCounty: CreateCounty(t, m, "紫阳县", "安康市", "LIFTED"),
		PoorCounty:   CreateCounty(t, m, "秦都区", "咸阳市", "NON_POOR_WITH_TASKS"),
	}
	supCounty := map[string]string{}
	for i, county := range []string{c.LiftedCounty, c.PoorCounty, c.LiftedCounty} {
		name := fmt.Sprintf("Supplier %c Cooperative", 'A'+i)
		id := CreateSupplier(t, m, name, county, 10*(i+1))
		c.Suppliers = append(c.Suppliers, id)
		c.SupplierNames = append(c.SupplierNames, name)
		supCounty[id] = county
	}
	for i := 0; i < n; i++ {
		cat := categories[i%len(categories)]
		price := int64(500 + (i*7919)%20000) // distinct for i < 100
		p := Seeded{ProductIn: ProductIn{
			Name:       fmt.Sprintf("%s No.%02d", namesByCategory[cat], i),
			Category:   cat,
			Price:      Yuan(price),
			Stock:      100 + i,
			OnSale:     i%6 != 5,
			SupplierID: c.Suppliers[i%3],
		}, PriceFen: price, SalePriceFen: price}
		if i%3 == 0 {
			p.SalePriceFen = (price*75 + 50) / 100
			p.SalePrice = Yuan(p.SalePriceFen)
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
		p.ID = CreateProduct(t, m, p.ProductIn)
		c.Products = append(c.Products, p)
	}
	return c
}

// IDs returns the IDs of the products for which keep is true, in id order.
func (c *Catalogue) IDs(keep func(p Seeded) bool) []string {
	var out []string
	for _, p := range c.Products {
		if keep(p) {
			out = append(out, p.ID)
		}
	}
	return out
}

// Post sends a GraphQL request without touching testing.T, so that
// goroutines may use it.
func Post(client *http.Client, url, token, query string, vars map[string]any) (*Response, error) {
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
	var out Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode response (%d): %w", res.StatusCode, err)
	}
	out.Status = res.StatusCode
	return &out, nil
}

// RowLines is what query returns, a line a row: label, then every column's
// name and value (NULL apart from an empty string), for comparing a
// database's state before and after a call.
func RowLines(t testing.TB, d *testdb.DB, label, query string) []string {
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

// MeID is the ID of the token's member, "" when me is null. Any error fails.
func MeID(t testing.TB, m *Mall, token string) string {
	t.Helper()
	var out struct{ Me *struct{ ID string } }
	MustDo(t, m, token, `{ me { id } }`, nil, &out)
	if out.Me == nil {
		return ""
	}
	return out.Me.ID
}

// RealNameVars is submitRealNameVerification's variables.
func RealNameVars(name, id string) map[string]any {
	return map[string]any{"i": map[string]any{"realName": name, "idNumber": id}}
}

// Codes tallies the responses' outcomes: "" for success, else the code.
func Codes(rs []*Response) map[string]int {
	c := map[string]int{}
	for _, r := range rs {
		c[r.Code()]++
	}
	return c
}
