package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// holdConfig is one client process's share of the subscribers.
type holdConfig struct {
	URLs     []string // the servers' base URLs: connection g goes to URLs[g % len]
	N        int      // connections of this holder
	Offset   int      // global index of its first connection
	Total    int      // connections of all holders (sizes the source addresses)
	Sources  int      // source addresses (0: one per 8000 connections on loopback)
	Sale     string   // the sale's ID
	Protocol string
	Dials    int           // connections being opened at once by this holder
	Timeout  time.Duration // for the initial states, and for the final one
}

// holder opens and keeps one holdConfig's subscribers; each has its own
// reading goroutine.
type holder struct {
	cfg     holdConfig
	subs    []*subscriber
	readers sync.WaitGroup
}

// opened is what a holder reports once every subscriber has its initial state.
type opened struct {
	N     int
	Sold0 int64
	Took  time.Duration
	Err   string
}

// purchaseTimes is one purchase as the subscribers' side needs it.
type purchaseTimes struct {
	Sent, Answered, Created time.Time // Created: the order's created_at, zero if unknown
	Sold                    int64     // the sale's sold count after it
}

// holdResult is a holder's part of the receipt figures; results of several
// holders merge (add).
type holdResult struct {
	Lat, LatSent, LatMade []time.Duration // one per (subscriber, purchase) pair
	AllHad                []time.Duration // per purchase: the last of these subscribers to have it, after its answer
	MsgsMin, MsgsMax      int
	MsgsSum, Got, Broken  int
	Subscribers           int
	LastFinal             time.Duration // the last subscriber to have the final state, after the last answer
}

// closed is how closing went.
type closed struct {
	Frames, Took      time.Duration
	Forced, ReadErrs  int
	FirstReadErr, Err string
}

func newHolder(cfg holdConfig) *holder { return &holder{cfg: cfg} }

// open dials every subscriber and waits for each one's initial state.
func (h *holder) open(ctx context.Context) opened {
	cfg := h.cfg
	proto, ok := wsProtocols[cfg.Protocol]
	if !ok {
		return opened{Err: "unknown protocol " + cfg.Protocol}
	}
	type target struct {
		url     string
		dialers []*websocket.Dialer
	}
	var targets []target
	for _, base := range cfg.URLs {
		u, ds, err := wsDialers(base, proto.name, cfg.Total, cfg.Sources)
		if err != nil {
			return opened{Err: err.Error()}
		}
		targets = append(targets, target{u, ds})
	}
	subscribe, _ := json.Marshal(map[string]any{"id": subID, "type": proto.subscribe,
		"payload": map[string]any{"query": stockSubscription, "variables": map[string]any{"id": cfg.Sale}}})
	h.subs = make([]*subscriber, cfg.N)
	var (
		slots    = make(chan struct{}, max(cfg.Dials, 1))
		openErrs atomic.Int64
		firstErr atomic.Pointer[error]
		wait     sync.WaitGroup
	)
	openCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()
	for i := range h.subs {
		s := &subscriber{proto: proto, done: make(chan struct{})}
		h.subs[i] = s
		g := cfg.Offset + i
		t := targets[g%len(targets)]
		d := t.dialers[(g/len(targets))%len(t.dialers)]
		h.readers.Add(1)
		wait.Add(1)
		go func() {
			defer h.readers.Done()
			defer close(s.done)
			slots <- struct{}{}
			err := s.open(openCtx, d, t.url, subscribe)
			<-slots
			wait.Done()
			if err != nil {
				s.err = err
				if openErrs.Add(1) == 1 {
					firstErr.Store(&err)
				}
				if s.conn != nil {
					_ = s.conn.Close()
				}
				return
			}
			s.read()
		}()
	}
	wait.Wait()
	took := time.Since(start)
	if k := openErrs.Load(); k > 0 {
		h.closeAll()
		return opened{Err: fmt.Sprintf("%d of %d subscribers failed to open or get their initial state; the first: %v", k, cfg.N, *firstErr.Load())}
	}
	sold0 := h.subs[0].lastSold.Load()
	for _, s := range h.subs {
		if s.lastSold.Load() != sold0 {
			h.closeAll()
			return opened{Err: fmt.Sprintf("initial states disagree: sold %d and %d", sold0, s.lastSold.Load())}
		}
	}
	return opened{N: cfg.N, Sold0: sold0, Took: took}
}

// closeAll drops every connection and waits for the readers.
func (h *holder) closeAll() {
	for _, s := range h.subs {
		if s != nil && s.conn != nil {
			_ = s.conn.Close()
		}
	}
	h.readers.Wait()
}

// receipts waits until every subscriber has the final state (or the
// timeout passed), then times each purchase's arrival at each subscriber.
func (h *holder) receipts(done []purchaseTimes, final int64) holdResult {
	deadline := time.Now().Add(h.cfg.Timeout)
	r := holdResult{Subscribers: len(h.subs), AllHad: make([]time.Duration, len(done))}
	for {
		r.Got = 0
		for _, s := range h.subs {
			if s.lastSold.Load() >= final {
				r.Got++
			}
		}
		if r.Got == len(h.subs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var lastAnswer time.Time
	if len(done) > 0 {
		lastAnswer = done[len(done)-1].Answered
	}
	r.MsgsMin = -1
	for _, s := range h.subs {
		s.mu.Lock()
		ev := append([]stockEvent(nil), s.events...)
		s.mu.Unlock()
		m := len(ev) - 1 // the initial state is not counted
		if r.MsgsMin < 0 || m < r.MsgsMin {
			r.MsgsMin = m
		}
		r.MsgsMax, r.MsgsSum = max(r.MsgsMax, m), r.MsgsSum+m
		j := 0
		for k, p := range done {
			for j < len(ev) && ev[j].sold < p.Sold {
				j++
			}
			if j == len(ev) {
				r.Broken++
				break
			}
			l := max(ev[j].at.Sub(p.Answered), 0)
			r.Lat = append(r.Lat, l)
			r.LatSent = append(r.LatSent, ev[j].at.Sub(p.Sent))
			if !p.Created.IsZero() {
				r.LatMade = append(r.LatMade, ev[j].at.Sub(p.Created))
			}
			r.AllHad[k] = max(r.AllHad[k], l)
			if k == len(done)-1 {
				r.LastFinal = max(r.LastFinal, ev[j].at.Sub(lastAnswer))
			}
		}
	}
	return r
}

// add merges another holder's result into r.
func (r *holdResult) add(o holdResult) {
	if r.Subscribers == 0 {
		*r = o
		return
	}
	r.Lat = append(r.Lat, o.Lat...)
	r.LatSent = append(r.LatSent, o.LatSent...)
	r.LatMade = append(r.LatMade, o.LatMade...)
	for k := range r.AllHad {
		if k < len(o.AllHad) {
			r.AllHad[k] = max(r.AllHad[k], o.AllHad[k])
		}
	}
	r.MsgsMin, r.MsgsMax = min(r.MsgsMin, o.MsgsMin), max(r.MsgsMax, o.MsgsMax)
	r.MsgsSum, r.Got, r.Broken = r.MsgsSum+o.MsgsSum, r.Got+o.Got, r.Broken+o.Broken
	r.Subscribers += o.Subscribers
	r.LastFinal = max(r.LastFinal, o.LastFinal)
}

// close sends a close frame on every connection and waits for the server
// to close back.
func (h *holder) close() closed {
	var c closed
	start := time.Now()
	for _, s := range h.subs {
		if s.conn == nil {
			continue
		}
		s.closing.Store(true)
		_ = s.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
	}
	c.Frames = time.Since(start)
	all := make(chan struct{})
	go func() { h.readers.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		for _, s := range h.subs {
			select {
			case <-s.done:
			default:
				c.Forced++
			}
		}
	}
	c.Took = time.Since(start)
	h.closeAll()
	for _, s := range h.subs {
		if s.err != nil {
			if c.ReadErrs == 0 {
				c.FirstReadErr = s.err.Error()
			}
			c.ReadErrs++
		}
	}
	return c
}

func (c *closed) add(o closed) {
	if c.FirstReadErr == "" {
		c.FirstReadErr = o.FirstReadErr
	}
	if c.Err == "" {
		c.Err = o.Err
	}
	c.Frames, c.Took = max(c.Frames, o.Frames), max(c.Took, o.Took)
	c.Forced, c.ReadErrs = c.Forced+o.Forced, c.ReadErrs+o.ReadErrs
}
