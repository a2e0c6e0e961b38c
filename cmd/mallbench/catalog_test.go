package main

import (
	"encoding/json"
	"testing"
)

// The page answers of both servers read alike, and a rename's number is
// found in our answer.
func TestPagesAndRenames(t *testing.T) {
	ours := `{"products":{"totalCount":21,"edges":[{"node":{"id":"prd_1","name":"茶 250g ·v12","salePrice":"128.00","category":"TEA","supplier":{"name":"茶业","county":{"name":"紫阳县"}},"county":{"name":"紫阳县"}}},{"node":{"id":"prd_2","name":"木耳","salePrice":"39.90","category":"SNACKS","supplier":{"name":"木耳公司","county":{"name":"柞水县"}},"county":{"name":"柞水县"}}}]}}`
	theirs := `{"allProducts":{"totalCount":21,"edges":[{"node":{"id":"prd_1","name":"茶 250g ·v12","salePrice":"12800","category":"TEA","supplierBySupplierId":{"name":"茶业","countyByCountyId":{"name":"紫阳县"}},"countyByCountyId":{"name":"紫阳县"}}},{"node":{"id":"prd_2","name":"木耳","salePrice":"3990","category":"SNACKS","supplierBySupplierId":{"name":"木耳公司","countyByCountyId":{"name":"柞水县"}},"countyByCountyId":{"name":"柞水县"}}}]}}`
	ot, or, err := ourPage(json.RawMessage(ours))
	if err != nil {
		t.Fatal(err)
	}
	pt, pr, err := postgraphilePage(json.RawMessage(theirs))
	if err != nil {
		t.Fatal(err)
	}
	if ot != pt || len(or) != 2 || len(pr) != 2 || or[0] != pr[0] || or[1] != pr[1] {
		t.Fatalf("ours %d %+v, theirs %d %+v", ot, or, pt, pr)
	}
	if err := samePages(ot, or, pt, pr); err == nil {
		t.Error("a page of 2 products passed for 20")
	}

	ch := &changer{product: "prd_1", base: "茶 250g"}
	if seq, ok := ch.seqIn([]byte(ours)); !ok || seq != 12 {
		t.Errorf("rename %d %v, want 12", seq, ok)
	}
	ch.product, ch.base = "prd_2", "木耳"
	if seq, ok := ch.seqIn([]byte(ours)); !ok || seq != 0 {
		t.Errorf("the original name: %d %v", seq, ok)
	}
	ch.product = "prd_3"
	if _, ok := ch.seqIn([]byte(ours)); ok {
		t.Error("a product not on the page was found")
	}
}
