package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/money"
)

// pgCatalogQuery is catalogQuery in PostGraphile's names: the same 20
// products (on sale, by id, as our server shows an anonymous caller), the
// same fields, the same connection shape.
const pgCatalogQuery = `{ allProducts(first: 20, orderBy: PRIMARY_KEY_ASC, condition: {onSale: true}) { totalCount edges { node { id name salePrice category supplierBySupplierId { name countyByCountyId { name } } countyByCountyId { name } } } } }`

// pageRow is one product of the page, as both servers must show it.
type pageRow struct {
	ID, Name       string
	SalePrice      money.Fen
	Category       string
	Supplier       string
	SupplierCounty string
	County         string
}

type named struct {
	Name string `json:"name"`
}

// ourPage reads our answer to catalogQuery.
func ourPage(data json.RawMessage) (total int, rows []pageRow, err error) {
	var a struct {
		Products struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Node struct {
					ID, Name, SalePrice, Category string
					Supplier                      struct {
						Name   string `json:"name"`
						County named  `json:"county"`
					} `json:"supplier"`
					County named `json:"county"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"products"`
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return 0, nil, err
	}
	for _, e := range a.Products.Edges {
		n := e.Node
		p, err := money.Parse(n.SalePrice)
		if err != nil {
			return 0, nil, err
		}
		rows = append(rows, pageRow{n.ID, n.Name, p, n.Category, n.Supplier.Name, n.Supplier.County.Name, n.County.Name})
	}
	return a.Products.TotalCount, rows, nil
}

// postgraphilePage reads PostGraphile's answer to pgCatalogQuery (bigint
// columns come as strings of fen).
func postgraphilePage(data json.RawMessage) (total int, rows []pageRow, err error) {
	var a struct {
		AllProducts struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Node struct {
					ID, Name, SalePrice, Category string
					Supplier                      struct {
						Name   string `json:"name"`
						County named  `json:"countyByCountyId"`
					} `json:"supplierBySupplierId"`
					County named `json:"countyByCountyId"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"allProducts"`
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return 0, nil, err
	}
	for _, e := range a.AllProducts.Edges {
		n := e.Node
		p, err := strconv.ParseInt(n.SalePrice, 10, 64)
		if err != nil {
			return 0, nil, fmt.Errorf("salePrice %q: %w", n.SalePrice, err)
		}
		rows = append(rows, pageRow{n.ID, n.Name, money.Fen(p), n.Category, n.Supplier.Name, n.Supplier.County.Name, n.County.Name})
	}
	return a.AllProducts.TotalCount, rows, nil
}

// fetchPage asks endpoint for a page once and reads it with read.
func fetchPage(ctx context.Context, endpoint, query string, read func(json.RawMessage) (int, []pageRow, error)) (int, []pageRow, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	r, err := harness.PostBody(ctx, c, endpoint, "", "", body(query, nil))
	if err != nil {
		return 0, nil, err
	}
	if r.Status != http.StatusOK || r.Code() != "" {
		return 0, nil, fmt.Errorf("%s: status %d, errors %v", endpoint, r.Status, r.Errors)
	}
	return read(r.Data)
}

// samePages checks that the pages hold the same 20 products with the same
// supplier and county names (and the same totals).
func samePages(ourTotal int, ours []pageRow, theirTotal int, theirs []pageRow) error {
	if len(ours) != 20 {
		return fmt.Errorf("our page has %d products, not 20: the database needs at least 20 products on sale (DEMO_DATA=true on an empty database seeds 20)", len(ours))
	}
	if ourTotal != theirTotal {
		return fmt.Errorf("totalCount: ours %d, PostGraphile's %d", ourTotal, theirTotal)
	}
	if len(theirs) != len(ours) {
		return fmt.Errorf("PostGraphile's page has %d products, ours %d", len(theirs), len(ours))
	}
	for i := range ours {
		if ours[i] != theirs[i] {
			return fmt.Errorf("product %d differs: ours %+v, PostGraphile's %+v", i+1, ours[i], theirs[i])
		}
	}
	return nil
}

// postPage posts a page query and returns the answer's first error code
// ("" for none) and its bytes. Unlike client.post it decodes the JSON only
// when the answer holds errors: the load generator shares the machine's
// cores with the servers, and decoding every 5 KB page cost it more CPU
// than a cached answer costs our server.
func postPage(ctx context.Context, c *client, b []byte) (string, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(b))
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return "", nil, err
	}
	if res.StatusCode == http.StatusOK && bytes.HasPrefix(raw, []byte(`{"data":{`)) && !bytes.Contains(raw, []byte(`"errors"`)) {
		return "", raw, nil
	}
	var r harness.Response
	if err := json.Unmarshal(raw, &r); err != nil {
		return "", nil, &harness.UndecodableError{Status: res.StatusCode, Body: string(raw[:min(len(raw), 200)]), Err: err}
	}
	if code := r.Code(); code != "" || res.StatusCode == http.StatusOK {
		return code, raw, nil
	}
	return fmt.Sprintf("HTTP %d", res.StatusCode), raw, nil
}
