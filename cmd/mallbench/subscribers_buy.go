package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"unionmall/internal/db"
	"unionmall/internal/gid"
)

// purchases is one run of purchases made one after another at a steady rate.
type purchases struct {
	done  []purchaseTimes
	order []string // the orders' IDs, as done
	codes map[string]int
	took  time.Duration
	lat   []time.Duration // request times of the successful ones
}

// buyAt buys one unit of the sale per token, at rate purchases per
// second, each after the previous one's answer or on its slot, whichever
// is later; sold is the sale's sold count before.
func buyAt(ctx context.Context, c *client, tokens []string, sale gid.ID, rate float64, sold int64) purchases {
	b := body(buyQuery, map[string]any{"i": map[string]any{"flashSaleID": sale}})
	interval := time.Duration(float64(time.Second) / rate)
	p := purchases{codes: map[string]int{}}
	start := time.Now()
	for i, token := range tokens {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		t0 := time.Now()
		r, err := c.post(ctx, token, b)
		now := time.Now()
		code := ""
		if err != nil {
			code = "TRANSPORT: " + err.Error()
		} else {
			code = r.Code()
		}
		p.codes[code]++
		if code != "" {
			continue
		}
		sold++
		var o struct {
			Buy struct {
				ID string `json:"id"`
			} `json:"buyFlashSale"`
		}
		_ = json.Unmarshal(r.Data, &o)
		p.done = append(p.done, purchaseTimes{Sent: t0, Answered: now, Sold: sold})
		p.order = append(p.order, o.Buy.ID)
		p.lat = append(p.lat, now.Sub(t0))
	}
	p.took = time.Since(start)
	return p
}

// created fills in the orders' created_at from the database.
func (p *purchases) created(ctx context.Context, d *db.DB, sale gid.ID) {
	at, err := orderTimes(ctx, d, sale)
	if err != nil {
		fmt.Printf("(no created_at of the orders: %v)\n", err)
		return
	}
	for k := range p.done {
		p.done[k].Created = at[p.order[k]]
	}
}

func (p purchases) String() string {
	return fmt.Sprintf("%d in %s, answers %v, request p50 %s, p90 %s, p99 %s, max %s", len(p.done), p.took.Round(time.Millisecond), p.codes,
		ms(percentile(p.lat, .5)), ms(percentile(p.lat, .9)), ms(percentile(p.lat, .99)), ms(percentile(p.lat, 1)))
}

// ratio is a/b of two durations, "n/a" without a reference.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}
