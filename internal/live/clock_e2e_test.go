package live_test

import (
	"encoding/json"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// A sale's start and end are pushed to its subscribers although nothing
// is written then (no purchase; the workers, which settle ended sales, are
// off): SCHEDULED, then ACTIVE, then ENDED.
func TestStockPushedAtStartAndEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		now := time.Now()
		sale := servertest.CreateSale(t, m, servertest.OilProduct(t, m, 10), "1", 5, 1, now.Add(1500*time.Millisecond), now.Add(3*time.Second))
		ws := servertest.WatchStock(t, m.HTTP.URL, servertest.TransportWS, nil, sale.ID)
		var seen []string
		deadline := time.Now().Add(10 * time.Second)
		for len(seen) == 0 || seen[len(seen)-1] != "ENDED" {
			_, r, err := ws.Next(time.Until(deadline))
			if err != nil {
				t.Fatalf("after %v: %v", seen, err)
			}
			var s servertest.StockEvent
			if err := json.Unmarshal(r.Data, &s); err != nil {
				t.Fatal(err)
			}
			if st := s.FlashSaleStock.Status; len(seen) == 0 || seen[len(seen)-1] != st {
				seen = append(seen, st)
			}
		}
		if want := []string{"SCHEDULED", "ACTIVE", "ENDED"}; len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] {
			t.Fatalf("pushed %v, want %v", seen, want)
		}
	})
}
