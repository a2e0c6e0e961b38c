package main

import (
	"context"
	"flag"
	"fmt"
	"time"
)

const catalogQuery = `{ products(first: 20) { totalCount edges { node { id name salePrice category supplier { name county { name } } county { name } } } } }`

func catalog(args []string) error {
	fs := flag.NewFlagSet("catalog", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "the server")
	workers := fs.Int("workers", 32, "concurrent clients")
	duration := fs.Duration("duration", 10*time.Second, "how long")
	_ = fs.Parse(args)
	c := newClient(*url, *workers)
	b := body(catalogQuery, nil)
	m := measureFor(context.Background(), *duration, *workers, func(int) (string, []byte, bool) { return "", b, true },
		func(ctx context.Context, token string, b []byte) (string, error) {
			r, err := c.post(ctx, token, b)
			if err != nil {
				return "", err
			}
			return r.Code(), nil
		})
	fmt.Printf("catalog: %.0f requests/s, answers %v, p50 %s, p99 %s\n",
		m.rate, m.t.codes, ms(percentile(m.t.latencies, .5)), ms(percentile(m.t.latencies, .99)))
	return nil
}
