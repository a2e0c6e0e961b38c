package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// metric reads one sample (name with labels, exactly as exposed) from
// /metrics; -1 when absent.
func metric(t *testing.T, m *servertest.Mall, sample string) float64 {
	t.Helper()
	res, err := http.Get(m.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+-]+)$`)
	sm := re.FindSubmatch(b)
	if sm == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(string(sm[1]), 64)
	return v
}

func TestMetrics(t *testing.T) {
	d := testdb.Open(t, "sqlite")
	m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
	oil := servertest.OilProduct(t, m, 10)
	now := time.Now().UTC()
	sale := servertest.CreateSale(t, m, oil, "1", 1, 1, now.Add(-time.Second), now.Add(time.Hour))
	buyers := m.BulkVerified(2)
	ws, err := servertest.DialWS(m.HTTP.URL, servertest.TransportWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_, _ = ws.Subscribe(servertest.StockSub, map[string]any{"id": sale.ID})
	servertest.WaitSold(t, ws, 0, 2*time.Second)
	for _, b := range buyers {
		m.Do(b.Token, `mutation($s: ID!) { buyFlashSale(input: {flashSaleID: $s}) { id } }`, map[string]any{"s": sale.ID})
	}
	servertest.WaitSold(t, ws, 1, 2*time.Second)
	for sample, want := range map[string]float64{
		`mall_flash_sale_purchases_total`:                                                  1,
		`mall_flash_sale_refusals_total{code="SOLD_OUT"}`:                                  1,
		`mall_graphql_operations_total{code="OK",operation="mutation.buyFlashSale"}`:       1,
		`mall_graphql_operations_total{code="SOLD_OUT",operation="mutation.buyFlashSale"}`: 1,
		`mall_graphql_operation_seconds_count{operation="mutation.buyFlashSale"}`:          2,
		`mall_websocket_connections`:                                                       1,
		`mall_subscriptions`:                                                               1,
		`mall_subscription_groups`:                                                         1,
	} {
		if got := metric(t, m, sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
	for _, sample := range []string{`mall_broker_pushes_total`, `mall_subscription_executions_total`, `go_sql_max_open_connections{db_name="mall"}`, `go_goroutines`, `process_resident_memory_bytes`} {
		if metric(t, m, sample) <= 0 {
			t.Errorf("%s missing or zero", sample)
		}
	}
	for _, sample := range []string{`mall_broker_skipped_total`, `mall_response_cache_hits_total`, `mall_response_cache_misses_total`} {
		if metric(t, m, sample) < 0 {
			t.Errorf("%s missing", sample)
		}
	}
}

// On PostgreSQL the statements that went through the prepared-statement
// cache are counted: a page of products read twice is prepared once and
// runs prepared both times. SQLite has no such cache and no such metric.
func TestStatementMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})
		servertest.OilProduct(t, m, 10)
		if d.Name == "sqlite" {
			if got := metric(t, m, `mall_db_statements_prepared_total`); got != -1 {
				t.Fatalf("SQLite exports mall_db_statements_prepared_total = %v", got)
			}
			return
		}
		page := func() {
			if r := m.Do("", `{ products(first: 5) { totalCount edges { node { name supplier { name } } } } }`, nil); len(r.Errors) > 0 {
				t.Fatalf("products: %+v", r.Errors)
			}
		}
		page()
		ran, prepared := metric(t, m, `mall_db_statements_prepared_total`), metric(t, m, `mall_db_statement_preparations_total`)
		page()
		if got := metric(t, m, `mall_db_statements_prepared_total`) - ran; got < 3 {
			t.Errorf("the second page ran %v statements prepared, want at least 3 (count, products, suppliers)", got)
		}
		if got := metric(t, m, `mall_db_statement_preparations_total`) - prepared; got != 0 {
			t.Errorf("the second page prepared %v statements, want 0", got)
		}
		if got := metric(t, m, `mall_db_prepared_statements`); got < 3 {
			t.Errorf("mall_db_prepared_statements = %v, want at least 3", got)
		}
		if got := metric(t, m, `mall_db_statement_evictions_total`); got != 0 {
			t.Errorf("mall_db_statement_evictions_total = %v, want 0", got)
		}
	})
}
