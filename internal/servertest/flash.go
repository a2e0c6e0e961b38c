package servertest

// Flash-sale fixtures: a sale created through the admin API, a product to
// sell, and a websocket watching a sale's stock.

import (
	"encoding/json"
	"testing"
	"time"
)

// The flash sales' operations, with the fields the tests read.
const (
	CreateSaleQ = `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) {
		id price quantity sold remaining perMemberLimit status product { id stock } } }`
	BuyQ = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) {
		id status total subtotal payBy flashSale { id } items { quantity unitPrice product { id } } } }`
	StockSub = `subscription($id: ID!) { flashSaleStock(flashSaleID: $id) { flashSaleID quantity sold remaining status updatedAt } }`
)

// Sale is a flash sale as createFlashSale returns it.
type Sale struct {
	ID             string
	Price          string
	Quantity       int
	Sold           int
	Remaining      int
	PerMemberLimit int
	Status         string
	Product        struct {
		ID    string
		Stock int
	}
}

// CreateSale creates (as ADMIN) a flash sale of the product running from
// from to to.
func CreateSale(t testing.TB, m *Mall, productID, price string, qty, limit int, from, to time.Time) Sale {
	t.Helper()
	var out struct{ CreateFlashSale Sale }
	MustDo(t, m, m.Admin, CreateSaleQ, map[string]any{"i": map[string]any{
		"productID": productID, "price": price, "quantity": qty, "perMemberLimit": limit,
		"startsAt": from.Format(time.RFC3339Nano), "endsAt": to.Format(time.RFC3339Nano),
	}}, &out)
	return out.CreateFlashSale
}

// OilProduct creates an on-sale product (of a new county and supplier) with
// the stock.
func OilProduct(t testing.TB, m *Mall, stock int) string {
	t.Helper()
	county := CreateCounty(t, m, "城固县", "汉中市", "NON_POOR_WITH_TASKS")
	sup := CreateSupplier(t, m, "汉中香小粮油有限公司", county, 950)
	return CreateProduct(t, m, ProductIn{Name: "汉中香小榨菜籽油 5L", Category: "GRAIN_OIL", Price: "79.90", Stock: stock, OnSale: true, SupplierID: sup})
}

// StockEvent is an event of StockSub.
type StockEvent struct {
	FlashSaleStock struct {
		FlashSaleID string
		Quantity    int
		Sold        int
		Remaining   int
		Status      string
	}
}

// WatchStock opens a websocket to baseURL with protocol and init payload
// and subscribes it to the sale's stock; it is closed when the test ends.
func WatchStock(t *testing.T, baseURL, protocol string, init map[string]any, saleID string) *WS {
	t.Helper()
	ws, err := DialWS(baseURL, protocol, init)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	if _, err := ws.Subscribe(StockSub, map[string]any{"id": saleID}); err != nil {
		t.Fatal(err)
	}
	return ws
}

// WaitSold reads events until the stock shows sold, failing after timeout.
func WaitSold(t *testing.T, ws *WS, sold int, timeout time.Duration) StockEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, r, err := ws.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for sold=%d: %v", sold, err)
		}
		if len(r.Errors) > 0 {
			t.Fatalf("subscription error %+v", r.Errors)
		}
		var s StockEvent
		if err := json.Unmarshal(r.Data, &s); err != nil {
			t.Fatal(err)
		}
		if s.FlashSaleStock.Sold == sold {
			return s
		}
	}
}

// LiveSale creates a live event running now and in it a flash sale of qty
// units of product at 1.00, limit one per member, running now.
func LiveSale(t testing.TB, m *Mall, product string, qty int) (eventID, saleID string) {
	t.Helper()
	now := time.Now().UTC()
	var ev struct{ CreateLiveEvent struct{ ID string } }
	MustDo(t, m, m.Admin, `mutation($i: CreateLiveEventInput!) { createLiveEvent(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"title": "一元秒杀", "startsAt": now.Add(-time.Minute).Format(time.RFC3339),
			"endsAt": now.Add(time.Hour).Format(time.RFC3339)}}, &ev)
	var created struct{ CreateFlashSale struct{ ID string } }
	MustDo(t, m, m.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"productID": product, "price": "1", "quantity": qty, "perMemberLimit": 1,
			"startsAt": now.Add(-time.Second).Format(time.RFC3339Nano), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
			"liveEventID": ev.CreateLiveEvent.ID}}, &created)
	return ev.CreateLiveEvent.ID, created.CreateFlashSale.ID
}

// BuyFlash buys one unit of the sale as the token's member; it must succeed.
func BuyFlash(t testing.TB, m *Mall, token, sale string) {
	t.Helper()
	MustDo(t, m, token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`, map[string]any{"s": sale}, nil)
}
