package server_test

// BenchmarkRefusal compares what a refusal of a sold-out flash sale costs
// with what a no-op costs, through the real GraphQL endpoint (HTTP over
// loopback, bearer tokens of many members, gqlgen, the gate's sold-out
// flag), with b.RunParallel clients (issue 4: refusals at least 70% of the
// no-op's rate). Refusals touch no database, so SQLite serves:
//
//	go test -run '^$' -bench BenchmarkRefusal -benchtime 5s ./internal/server/

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

func BenchmarkRefusal(b *testing.B) {
	d := testdb.Open(b, "sqlite")
	m := servertest.Start(b, d, servertest.Options{NoWorkers: true})
	oil := servertest.OilProduct(b, m, 100)
	now := time.Now().UTC()
	sale := servertest.CreateSale(b, m, oil, "1", 1, 1, now.Add(-time.Second), now.Add(time.Hour))
	buyers := m.BulkVerified(1000)
	if r := m.Do(buyers[0].Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`,
		map[string]any{"s": sale.ID}); len(r.Errors) > 0 {
		b.Fatalf("the only unit: %+v", r.Errors)
	}
	buy, _ := json.Marshal(map[string]any{"query": benchBuyQ, "variables": map[string]any{"i": map[string]any{"flashSaleID": sale.ID}}})
	typename, _ := json.Marshal(map[string]any{"query": `{ __typename }`})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	url := m.HTTP.URL + "/graphql"

	run := func(b *testing.B, body []byte, signed bool, want string) {
		var next atomic.Int64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if signed {
					req.Header.Set("Authorization", "Bearer "+buyers[next.Add(1)%int64(len(buyers))].Token)
				}
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !bytes.Contains(got, []byte(want)) {
					b.Errorf("answer %s, want %s", got, want)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	}
	b.Run("typename", func(b *testing.B) { run(b, typename, false, `"__typename":"Query"`) })
	b.Run("soldout", func(b *testing.B) { run(b, buy, true, `"code":"SOLD_OUT"`) })
}

const benchBuyQ = `mutation($i: BuyFlashSaleInput!) { buyFlashSale(input: $i) { id status total } }`
