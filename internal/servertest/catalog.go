package servertest

import (
	"fmt"
	"testing"
	"time"

	"unionmall/internal/testdb"
)

// Another instance, catalogue fixtures made by the ADMIN through the
// GraphQL API, and a request over an open websocket.

// StartOwnPool is Start on a pool of its own on d's database (o.DB is
// replaced), as another instance would have: its own connections, server
// and token cache.
func StartOwnPool(t testing.TB, d *testdb.DB, o Options) *Mall {
	t.Helper()
	o.DB = testdb.Reopen(t, d)
	return Start(t, d, o)
}

var nameSeq = make(chan int, 1)

func init() { nameSeq <- 0 }

func nextName(prefix string) string {
	n := <-nameSeq
	nameSeq <- n + 1
	return fmt.Sprintf("%s-%d", prefix, n)
}

// NewCounty creates a county and returns its ID.
func (m *Mall) NewCounty() string {
	m.T.Helper()
	var out struct{ CreateCounty struct{ ID string } }
	m.MustDo(m.Admin, `mutation($i: CreateCountyInput!) { createCounty(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"name": nextName("县"), "city": "商洛市", "povertyStatus": "LIFTED"}}, &out)
	return out.CreateCounty.ID
}

// NewSupplier creates a supplier (in a new county) and returns its ID.
func (m *Mall) NewSupplier(beneficiaries int) string {
	m.T.Helper()
	var out struct{ CreateSupplier struct{ ID string } }
	m.MustDo(m.Admin, `mutation($i: CreateSupplierInput!) { createSupplier(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"name": nextName("合作社"), "countyID": m.NewCounty(), "beneficiaries": beneficiaries}}, &out)
	return out.CreateSupplier.ID
}

// NewProduct creates a product on sale at price (Money, e.g. "10.00") with
// the stock (of a new supplier) and returns its ID.
func (m *Mall) NewProduct(price string, stock int) string {
	m.T.Helper()
	var out struct{ CreateProduct struct{ ID string } }
	m.MustDo(m.Admin, `mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"name": nextName("商品"), "category": "GRAIN_OIL", "price": price,
			"stock": stock, "onSale": true, "supplierID": m.NewSupplier(1)}}, &out)
	return out.CreateProduct.ID
}

// NewFlashSale creates a flash sale of the product that runs from a minute
// ago for an hour, and returns its ID.
func (m *Mall) NewFlashSale(productID, price string, quantity, perMemberLimit int) string {
	m.T.Helper()
	now := time.Now().UTC()
	var out struct{ CreateFlashSale struct{ ID string } }
	m.MustDo(m.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"productID": productID, "price": price, "quantity": quantity,
			"perMemberLimit": perMemberLimit, "startsAt": now.Add(-time.Minute).Format(time.RFC3339),
			"endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, &out)
	return out.CreateFlashSale.ID
}

// Do runs one operation (a query or a mutation) over the websocket and
// returns its result: the data, or the errors it was refused with.
func (w *WS) Do(query string, vars map[string]any) (*Result, error) {
	id, err := w.Subscribe(query, vars)
	if err != nil {
		return nil, err
	}
	for {
		got, r, err := w.Next(5 * time.Second)
		if err != nil {
			return nil, err
		}
		if got == id {
			return r, nil
		}
	}
}

// Code is the first error's code, "" when there is none.
func (r *Result) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}
