package faulttest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/servertest"
)

// vanish closes a connection without a close frame: with a FIN, or with an
// RST (linger 0) when reset is set.
func vanish(c net.Conn, reset bool) {
	if tc, ok := c.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// maskedFrame is a client's websocket text frame (clients must mask).
func maskedFrame(payload []byte) []byte {
	frame := []byte{0x81} // FIN, text
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	default:
		frame = append(frame, 0x80|126, 0, 0)
		binary.BigEndian.PutUint16(frame[2:], uint16(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	frame = append(frame, key[:]...)
	for i, b := range payload {
		frame = append(frame, b^key[i%4])
	}
	return frame
}

// The ways a client vanishes.
const (
	afterDial      = iota // the upgrade done, then gone
	midInit               // half a connection_init frame, then gone
	afterInit             // connection_init sent, gone before the ack
	afterFirstPush        // subscribed, gone after the first state
	afterSubscribe        // subscribed, gone at once
	ways
)

var wayNames = [ways]string{"after dialing", "mid connection_init", "after connection_init",
	"after the first push", "right after subscribing"}

// A storm of clients that connect and vanish without a goodbye: websocket
// connections dropped at every stage, HTTP requests cut in half. Afterwards
// the server's goroutines return to their baseline and its connection and
// subscription gauges to zero, and it still serves.
func TestConnectAndVanishStorm(t *testing.T) {
	base := needPostgres(t)
	tStart := time.Now()
	dbURL := newDatabase(t, base)
	migrate(t, dbURL)
	d := openDB(t, dbURL)
	sale := makeSale(t, d, 100, 1)
	buyers := makeBuyers(t, d, 2)
	in := startInstance(t, "mall", dbURL)
	ctx := context.Background()
	buy := func(token string) {
		t.Helper()
		r, err := gql(ctx, harness.NoKeepAlive, in.URL, token, buyMutation, buyVars(sale.ID))
		if err != nil {
			t.Fatal(err)
		}
		if r.Code() != "" {
			t.Fatalf("buy: %+v", r.Errors)
		}
	}
	sample := func() map[string]float64 {
		t.Helper()
		m, err := harness.Metrics(in.URL)
		if err != nil {
			t.Fatalf("/metrics: %v", err)
		}
		return m
	}

	// Warm up what a first subscriber and a first purchase start lazily,
	// then take the baseline on an idle server.
	warm := subscribeStock(t, in.URL, sale.ID)
	buy(buyers[0].Token)
	if _, ok := warm.waitFor(2*time.Second, func(e stockEvent) bool { return e.Sold == 1 }); !ok {
		t.Fatalf("warm-up subscriber: %s", warm.status())
	}
	warm.ws.Close()
	var baseline float64
	for i := 0; ; i++ {
		time.Sleep(200 * time.Millisecond)
		m := sample()
		if m["mall_websocket_connections"] == 0 && m["mall_subscriptions"] == 0 {
			baseline = m["go_goroutines"]
			break
		}
		if i > 25 {
			t.Fatalf("the warm-up connection is still counted after 5 s: %v connections, %v subscriptions",
				m["mall_websocket_connections"], m["mall_subscriptions"])
		}
	}
	t.Logf("baseline: %v goroutines", baseline)

	// A subscriber that stays through the storm.
	survivor := subscribeStock(t, in.URL, sale.ID)

	const (
		wsClients   = 2000
		httpClients = 300
		parallel    = 100
	)
	host := strings.TrimPrefix(in.URL, "http://")
	wsURL := "ws://" + host + "/graphql"
	initMsg, _ := json.Marshal(map[string]any{"type": "connection_init"})
	var (
		done     [ways]atomic.Int64
		httpDone atomic.Int64
		dialErrs atomic.Int64
		firstErr atomic.Value
	)
	fail := func(err error) {
		dialErrs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	// Every client connects and goes as far as its way says, then waits
	// for all the others (so that they are all open at once), then
	// vanishes.
	var (
		dialing = make(chan struct{}, parallel) // bounds the clients connecting at a time
		opened  sync.WaitGroup                  // clients that got as far as they go
		release = make(chan struct{})           // closed: vanish now
		gone    sync.WaitGroup
	)
	hold := func(c net.Conn, reset bool) {
		<-dialing
		opened.Done()
		<-release
		vanish(c, reset)
	}
	wsClient := func(i int) {
		way := i % ways
		proto := servertest.TransportWS
		if i%10 >= 5 {
			proto = servertest.LegacyWS
		}
		reset := i%3 == 0
		if way == afterFirstPush || way == afterSubscribe {
			ws, err := servertest.DialWS(in.URL, proto, nil)
			if err != nil {
				<-dialing
				opened.Done()
				fail(err)
				return
			}
			if _, err := ws.Subscribe(stockSub, map[string]any{"id": string(sale.ID)}); err != nil {
				fail(err)
			} else if way == afterFirstPush {
				if _, r, err := ws.Next(10 * time.Second); err != nil || len(r.Errors) > 0 {
					if err == nil {
						err = fmt.Errorf("%+v", r.Errors)
					}
					fail(fmt.Errorf("first push: %w", err))
				}
			}
			done[way].Add(1)
			hold(ws.Conn.UnderlyingConn(), reset)
			return
		}
		dialer := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 10 * time.Second}
		c, _, err := dialer.Dial(wsURL, nil)
		if err != nil {
			<-dialing
			opened.Done()
			fail(err)
			return
		}
		raw := c.UnderlyingConn()
		switch way {
		case midInit:
			f := maskedFrame(initMsg)
			_, _ = raw.Write(f[:len(f)/2])
		case afterInit:
			_, _ = raw.Write(maskedFrame(initMsg))
		}
		done[way].Add(1)
		hold(raw, reset)
	}
	// HTTP clients that send part of a request and drop.
	halves := []string{
		"POST /graphql HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: applic",
		"POST /graphql HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"query\":\"{ __typ",
		"GET /graphql HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
		"POST /graphql HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"query\":",
	}
	httpClient := func(i int) {
		c, err := net.DialTimeout("tcp", host, 10*time.Second)
		if err != nil {
			<-dialing
			opened.Done()
			fail(err)
			return
		}
		_, _ = c.Write([]byte(halves[i%len(halves)]))
		httpDone.Add(1)
		hold(c, i%3 == 0)
	}

	t0 := time.Now()
	for j := range wsClients + httpClients {
		opened.Add(1)
		gone.Add(1)
		dialing <- struct{}{}
		go func() {
			defer gone.Done()
			if j < wsClients {
				wsClient(j)
			} else {
				httpClient(j - wsClients)
			}
		}()
	}
	opened.Wait()
	openedIn := time.Since(t0)
	time.Sleep(300 * time.Millisecond) // the last subscriptions settle
	peak := sample()
	t.Logf("all open after %s: %v goroutines, %v websocket connections, %v subscriptions",
		openedIn.Round(time.Millisecond), peak["go_goroutines"], peak["mall_websocket_connections"], peak["mall_subscriptions"])
	if n := dialErrs.Load(); n > 0 {
		t.Errorf("%d clients failed before vanishing, e.g. %v", n, firstErr.Load())
	}
	if got := peak["mall_websocket_connections"]; got < wsClients {
		t.Errorf("%v websocket connections open at the peak, want all %d (and the survivor)", got, wsClients)
	}
	close(release)
	gone.Wait()
	stormEnd := time.Now()
	var summary []string
	for w := range ways {
		summary = append(summary, fmt.Sprintf("%d %s", done[w].Load(), wayNames[w]))
	}
	t.Logf("storm: %d websocket clients vanished (%s), %d HTTP clients dropped half requests; %s in all",
		wsClients, strings.Join(summary, ", "), httpDone.Load(), stormEnd.Sub(t0).Round(time.Millisecond))

	// The server still serves: the survivor sees a purchase.
	buy(buyers[1].Token)
	if _, ok := survivor.waitFor(2*time.Second, func(e stockEvent) bool { return e.Sold == 2 }); !ok {
		t.Errorf("the subscriber that stayed did not see a purchase after the storm: %s", survivor.status())
	}
	survivor.ws.Close()

	// Everything returns to the baseline.
	const margin = 20
	var last map[string]float64
	for {
		last = sample()
		if last["go_goroutines"] <= baseline+margin && last["mall_websocket_connections"] == 0 && last["mall_subscriptions"] == 0 {
			break
		}
		if time.Since(stormEnd) > 15*time.Second {
			t.Fatalf("15 s after the storm: %v goroutines (baseline %v), %v websocket connections, %v subscriptions",
				last["go_goroutines"], baseline, last["mall_websocket_connections"], last["mall_subscriptions"])
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("back to %v goroutines (baseline %v), 0 connections and 0 subscriptions %s after the storm",
		last["go_goroutines"], baseline, time.Since(stormEnd).Round(time.Millisecond))
	if code, err := harness.Readyz(in.URL); code != http.StatusOK {
		t.Errorf("/readyz after the storm: %d %v", code, err)
	}
	t.Logf("total %s", time.Since(tStart).Round(time.Millisecond))
}
