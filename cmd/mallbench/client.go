package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
)

// client posts GraphQL requests with a pool of keep-alive connections to
// each of one or more instances.
type client struct {
	url  string   // the first instance's endpoint
	urls []string // every instance's endpoint
	http *http.Client
}

// newClient takes one server URL or several separated by commas; conns
// bounds the connections to each.
func newClient(base string, conns int) *client {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	c := &client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	for _, u := range strings.Split(base, ",") {
		c.urls = append(c.urls, strings.TrimSuffix(strings.TrimSpace(u), "/")+"/graphql")
	}
	c.url = c.urls[0]
	return c
}

// postTo is post to the instance'th instance (modulo their number).
func (c *client) postTo(ctx context.Context, instance int, token string, body []byte) (*harness.Response, error) {
	return harness.PostBody(ctx, c.http, c.urls[instance%len(c.urls)], token, "", body)
}

// post sends a prepared body and decodes the answer (the code of an
// error without one is harness.NoCode).
func (c *client) post(ctx context.Context, token string, body []byte) (*harness.Response, error) {
	return harness.PostBody(ctx, c.http, c.url, token, "", body)
}

func body(query string, vars map[string]any) []byte { return harness.Body(query, vars) }

// tally counts answers by code and keeps latencies.
type tally struct {
	mu        sync.Mutex
	codes     map[string]int
	latencies []time.Duration
	first     time.Time // first success
	last      time.Time // last success
}

func newTally() *tally { return &tally{codes: map[string]int{}} }

func (t *tally) add(code string, d time.Duration, at time.Time) {
	t.mu.Lock()
	t.codes[code]++
	t.latencies = append(t.latencies, d)
	if code == "" {
		if t.first.IsZero() {
			t.first = at
		}
		t.last = at
	}
	t.mu.Unlock()
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p * float64(len(s)-1))
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// hammer runs workers sending requests until stop says so, and returns the
// number of requests per second and the tally.
func hammer(ctx context.Context, workers int, next func(worker int) (token string, body []byte, ok bool),
	send func(ctx context.Context, token string, body []byte) (string, error)) (*tally, time.Duration) {
	return hammerAt(ctx, workers, func(w int) (request, bool) {
		token, b, ok := next(w)
		return request{token: token, body: b}, ok
	}, func(ctx context.Context, r request) (string, error) { return send(ctx, r.token, r.body) })
}

// request is one request of hammerAt: whose, what, and to which instance.
type request struct {
	token    string
	body     []byte
	instance int
}

// hammerAt is hammer with requests that name their instance.
func hammerAt(ctx context.Context, workers int, next func(worker int) (request, bool),
	send func(ctx context.Context, r request) (string, error)) (*tally, time.Duration) {
	t := newTally()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				r, ok := next(w)
				if !ok {
					return
				}
				t0 := time.Now()
				code, err := send(ctx, r)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					code = "TRANSPORT: " + err.Error()
				}
				now := time.Now()
				t.add(code, now.Sub(t0), now)
			}
		}()
	}
	wg.Wait()
	return t, time.Since(start)
}
