package chaos

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"unionmall/internal/payments"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// payBook is what the workload did with WeChat Pay: the provider orders
// the payer paid (for the back office's refunds), counts for the figures,
// and the payOrder answers that broke the contract.
type payBook struct {
	mu     sync.Mutex
	trades []*trade
	counts map[string]map[string]int // what → how → how many
	broken []string
}

// trade is a provider order the payer paid.
type trade struct {
	order, number string
	refundFault   string    // what happens to its refund's notification, if it is refunded
	due           time.Time // the provider completes its refund no sooner
	done          bool
}

func newPayBook() *payBook { return &payBook{counts: map[string]map[string]int{}} }

func (b *payBook) count(what, how string) { b.add(what, how, 1) }

func (b *payBook) add(what, how string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts[what] == nil {
		b.counts[what] = map[string]int{}
	}
	b.counts[what][how] += n
}

func (b *payBook) wrong(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.broken = append(b.broken, fmt.Sprintf(format, args...))
}

// resumed is the payment two payOrder calls started: both OK must name
// one provider order (out_trade_no and prepay_id), whether the second was
// sent at once or after the first was answered (WeChat Pay answers a
// repeated prepay with the same prepay_id, and so does the fake).
func (b *payBook) resumed(o placed, x, y started, _ bool) started {
	if x.ok && y.ok && (x.number != y.number || x.prepay != y.prepay) {
		b.wrong("order %s: payOrder twice answered out_trade_no %s prepay_id %s, then %s %s", o.id, x.number, x.prepay, y.number, y.prepay)
	}
	if x.ok {
		return x
	}
	return y
}

// refundFaults are what happens to a refund's notification.
var refundFaults = []struct {
	name  string
	share float64
}{{"delivered", 0.65}, {"repeated", 0.15}, {"dropped (found by the refund query)", 0.20}}

// paid records a payment the payer made, with its notification's fault.
func (b *payBook) paid(o placed, s started, fault string, rng *rand.Rand) {
	t := &trade{order: o.id, number: s.number, due: time.Now().Add(time.Duration(200+rng.IntN(1500)) * time.Millisecond)}
	p := rng.Float64()
	for _, f := range refundFaults {
		if t.refundFault = f.name; p < f.share {
			break
		}
		p -= f.share
	}
	b.count("payment notification", fault)
	b.mu.Lock()
	b.trades = append(b.trades, t)
	b.mu.Unlock()
}

// figures renders the counts.
func (b *payBook) figures() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	whats := make([]string, 0, len(b.counts))
	for w := range b.counts {
		whats = append(whats, w)
	}
	sort.Strings(whats)
	parts := make([]string, len(whats))
	for i, w := range whats {
		parts[i] = w + ": " + countsText(b.counts[w])
	}
	return strings.Join(parts, "; ")
}

// backOffice is WeChat Pay's own doing during a run: every moment it
// releases the held notifications in a shuffled order, and it completes
// each refund the mall asked for a moment after the payment, its
// notification delivered, repeated or dropped. A refund's notification is
// dropped only while the instances' refund query (instanceRefundPoll)
// still comes within the workload; else it is delivered.
type backOffice struct {
	w    *workload
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (w *workload) startBackOffice() *backOffice {
	b := &backOffice{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go b.run(w.rng(streamPayments))
	return b
}

// close stops it (once; later calls do nothing).
func (b *backOffice) close() {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
	})
}

func (b *backOffice) run(rng *rand.Rand) {
	defer close(b.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	nextRelease := time.Now().Add(time.Second)
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
		}
		if time.Now().After(nextRelease) {
			b.release(rng)
			nextRelease = time.Now().Add(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
		}
		b.completeRefunds()
	}
}

// release posts the held notifications, in another order than made.
func (b *backOffice) release(rng *rand.Rand) {
	held := b.w.fake.Held()
	if len(held) == 0 {
		return
	}
	rng.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
	_ = b.w.fake.Release(held...) // (a key released twice: already posted)
	b.w.book.add("held notifications", "released in a shuffled order", len(held))
}

// completeRefunds completes the refunds asked for due trades.
func (b *backOffice) completeRefunds() {
	w := b.w
	w.book.mu.Lock()
	var due []*trade
	now := time.Now()
	for _, t := range w.book.trades {
		if !t.done && now.After(t.due) {
			due = append(due, t)
		}
	}
	w.book.mu.Unlock()
	dropBy := w.start.Add(w.cfg.Duration - instanceRefundPoll - 5*time.Second)
	for _, t := range due {
		fault, f := t.refundFault, wechatpaytest.NotifyFault{}
		switch {
		case strings.HasPrefix(fault, "dropped") && now.Before(dropBy):
			f.Drop = true
		case strings.HasPrefix(fault, "dropped"):
			fault = "delivered (a drop's refund query would come after the workload)"
		case fault == "repeated":
			f.Repeat = 2
		}
		no := payments.OutRefundNo(t.number)
		w.fake.SetNotifyFault(no, f)
		if w.fake.CompleteRefund(no) != nil {
			continue // not asked (yet)
		}
		w.book.mu.Lock()
		t.done = true
		w.book.mu.Unlock()
		w.book.count("refund notification", fault)
	}
}
