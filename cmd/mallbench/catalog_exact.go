package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/db"
	"unionmall/internal/role"
)

const renameProduct = `mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id name } }`

// versionMark separates a product's name from the number of the change
// that gave it ("紫阳富硒茶 明前毛尖 250g ·v12").
const versionMark = " ·v"

// changer renames one product of the page through our servers' GraphQL
// API as an ADMIN, and checks that the page read from the cached instance
// shows every rename whose mutation had answered before the read started.
// Renames alternate between the cached instance itself (its cache is
// emptied before the mutation answers: no stale answer is allowed) and
// the other instance (the announcement reaches the cached one through
// PostgreSQL within fanout's flush interval, 50 ms: stale answers there
// are counted with how late they started after the mutation answered).
type changer struct {
	token   string
	product string // its ID
	base    string // its name without versionMark
	via     [2]string
	http    *http.Client

	seq    int64                   // the last rename sent (one sender at a time)
	same   atomic.Int64            // the last rename answered by the cached instance
	latest atomic.Pointer[renamed] // the last rename answered by either

	checked, staleSame, staleCross, missing atomic.Int64
	mu                                      sync.Mutex
	maxLag                                  time.Duration // of a stale cross-instance answer
	renames, failed                         [2]int
}

type renamed struct {
	seq int64
	at  time.Time // when its mutation answered
	via int       // 0: the cached instance, 1: the other
}

// newChanger makes an ADMIN straight in the database and picks the page's
// first product (rows from our page).
func newChanger(ctx context.Context, d *db.DB, cached, other string, first pageRow) (*changer, error) {
	admins, err := harness.MakeBuyers(ctx, d, harness.Buyers{N: 1, PhonePrefix: fmt.Sprintf("1709%04d", rand.IntN(10000)), Name: "压测管理员"})
	if err != nil {
		return nil, err
	}
	if err := d.Client.Member.UpdateOneID(admins[0].ID).SetRoles(role.Set{role.Member, role.Admin}).Exec(ctx); err != nil {
		return nil, err
	}
	base, _, _ := strings.Cut(first.Name, versionMark) // a crashed run's rename
	ch := &changer{token: admins[0].Token, product: first.ID, base: base, via: [2]string{cached, other},
		http: &http.Client{Timeout: 10 * time.Second}}
	ch.latest.Store(&renamed{})
	return ch, nil
}

// rename sets the product's name through instance via (0 or 1); seq 0
// restores the original name.
func (ch *changer) rename(ctx context.Context, via int, seq int64) error {
	name := ch.base
	if seq > 0 {
		name += versionMark + strconv.FormatInt(seq, 10)
	}
	r, err := harness.PostBody(ctx, ch.http, ch.via[via]+"/graphql", ch.token, "",
		body(renameProduct, map[string]any{"id": ch.product, "i": map[string]any{"name": name}}))
	if err != nil {
		return err
	}
	if r.Code() != "" {
		return fmt.Errorf("updateProduct: %v", r.Errors)
	}
	if !bytes.Contains(r.Data, []byte(strconv.Quote(name))) {
		return fmt.Errorf("updateProduct answered %s, not the name %q", r.Data, name)
	}
	return nil
}

// run renames every interval until ctx ends, alternating the instances.
func (ch *changer) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ch.seq++
		via := int(ch.seq % 2)
		// Not cut short by the end of the run: a rename sent is seen through.
		err := ch.rename(context.WithoutCancel(ctx), via, ch.seq)
		at := time.Now()
		ch.mu.Lock()
		if err != nil {
			ch.failed[via]++
			ch.mu.Unlock()
			fmt.Printf("  rename %d through %s failed: %v\n", ch.seq, ch.via[via], err)
			continue
		}
		ch.renames[via]++
		ch.mu.Unlock()
		if via == 0 {
			ch.same.Store(ch.seq)
		}
		ch.latest.Store(&renamed{seq: ch.seq, at: at, via: via})
	}
}

// expected is what an answer started now must show at least.
type expected struct {
	same   int64
	latest *renamed
}

func (ch *changer) expect() expected { return expected{ch.same.Load(), ch.latest.Load()} }

// check reads the product's rename in a page answer started when e was
// taken.
func (ch *changer) check(data json.RawMessage, e expected, started time.Time) {
	ch.checked.Add(1)
	seq, ok := ch.seqIn(data)
	switch {
	case !ok:
		ch.missing.Add(1)
	case seq < e.same:
		ch.staleSame.Add(1)
	case seq < e.latest.seq:
		ch.staleCross.Add(1)
		lag := started.Sub(e.latest.at)
		ch.mu.Lock()
		ch.maxLag = max(ch.maxLag, lag)
		ch.mu.Unlock()
	}
}

// seqIn finds the product in the answer (our server writes fields in the
// query's order: id, then name) and the number of its name's rename.
func (ch *changer) seqIn(data []byte) (int64, bool) {
	at := bytes.Index(data, []byte(`"id":"`+ch.product+`","name":"`+ch.base))
	if at < 0 {
		return 0, false
	}
	rest := data[at+len(`"id":"`+ch.product+`","name":"`+ch.base):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return 0, false
	}
	suffix := string(rest[:end])
	if suffix == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(suffix, versionMark), 10, 64)
	return n, err == nil && strings.HasPrefix(suffix, versionMark)
}

// report prints the checks' counts.
func (ch *changer) report() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	fmt.Printf("exactness: %d renames of %s (%d through the cached instance, %d through the other; %d failed), %d cached answers checked\n",
		ch.renames[0]+ch.renames[1], ch.product, ch.renames[0], ch.renames[1], ch.failed[0]+ch.failed[1], ch.checked.Load())
	fmt.Printf("  stale answers started after the rename's mutation answered: %d after renames through the cached instance (must be 0), %d after renames through the other instance (max %s after its answer; the announcement crosses within fanout's 50 ms flush)\n",
		ch.staleSame.Load(), ch.staleCross.Load(), ms(ch.maxLag))
	if n := ch.missing.Load(); n > 0 {
		fmt.Printf("  ✗ %d answers without the product under its name\n", n)
	}
}
