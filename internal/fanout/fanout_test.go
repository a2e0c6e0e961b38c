package fanout_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"unionmall/internal/fanout"
	"unionmall/internal/testdb"
)

// peer is one instance's fanout and what it heard.
type peer struct {
	f     *fanout.Fanout
	stop  context.CancelFunc
	mu    sync.Mutex
	heard []string
	hold  chan struct{} // when set, handling blocks until it is closed
}

func start(t *testing.T, d *testdb.DB) *peer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{stop: cancel}
	f, err := fanout.Start(ctx, d.URL, d.Pool, fanout.Handlers{
		Changed: func(ts []string) {
			p.mu.Lock()
			hold := p.hold
			p.mu.Unlock()
			if hold != nil {
				<-hold
			}
			p.mu.Lock()
			p.heard = append(p.heard, ts...)
			p.mu.Unlock()
		},
		Reconnected: func() {},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	p.f = f
	return p
}

func (p *peer) has(topic string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.heard, topic)
}

// Sync returns only once every listening peer has handled the topics;
// Publish is told a moment later.
func TestSyncWaitsForEveryPeer(t *testing.T) {
	d := testdb.Open(t, "postgres")
	a, b, c := start(t, d), start(t, d), start(t, d)
	for i := range 20 {
		topic := "tok:" + string(rune('a'+i))
		if err := a.f.Sync(context.Background(), topic); err != nil {
			t.Fatal(err)
		}
		if !b.has(topic) || !c.has(topic) {
			t.Fatalf("Sync(%s) returned before every peer had handled it (b %v, c %v)", topic, b.has(topic), c.has(topic))
		}
		if a.has(topic) {
			t.Fatal("an instance heard its own notice")
		}
	}
}

// A peer that stopped listening is not waited for; one that hangs is
// waited for no longer than the timeout.
func TestSyncWithDeadAndHungPeers(t *testing.T) {
	d := testdb.Open(t, "postgres")
	a, dead, hung := start(t, d), start(t, d), start(t, d)
	dead.stop()
	deadline := time.Now().Add(5 * time.Second)
	for a.listeners(t, d) > 2 { // its connection closes
		if time.Now().After(deadline) {
			t.Fatal("the stopped peer's connection stayed open")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t0 := time.Now()
	if err := a.f.Sync(context.Background(), "mem:x"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(t0); took > time.Second {
		t.Fatalf("Sync took %s with a dead peer", took)
	}
	hung.mu.Lock()
	hung.hold = make(chan struct{})
	hung.mu.Unlock()
	t0 = time.Now()
	if err := a.f.Sync(context.Background(), "mem:y"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	close(hung.hold)
	if took < time.Second || took > 4*time.Second {
		t.Fatalf("Sync with a hung peer took %s, want about the 2 s timeout", took)
	}
}

// listeners counts this schema's listening connections (tests of other
// schemas listen on the same database).
func (p *peer) listeners(t *testing.T, d *testdb.DB) int {
	t.Helper()
	var schema string
	if err := d.Pool.QueryRow("SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(schema))
	return d.Int(t, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE ?`,
		"unionmall-listen-"+hex.EncodeToString(sum[:4])+"-%")
}
