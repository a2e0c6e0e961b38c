package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// workload drives the instances: the fixture it set up, the journal of
// every request, and the tokens its members hold.
type workload struct {
	cfg   Config
	urls  []string // the instances, by index
	http  *http.Client
	j     *Journal
	fx    *fixture
	start time.Time // of the workload proper (fault times are relative to it)
	fake  *wechatpaytest.Server
	book  *payBook

	mu     sync.Mutex
	tokens []string // by journal token index
}

func newWorkload(cfg Config, urls []string, fake *wechatpaytest.Server) *workload {
	return &workload{
		cfg: cfg, urls: urls, j: &Journal{}, fake: fake, book: newPayBook(),
		http: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 512, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute, DisableCompression: true,
		}},
	}
}

// rng is a seeded source for one part of the workload: the run's seed and
// the part's own stream, so that a seed replays every part's choices.
func (w *workload) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(w.cfg.Seed, stream))
}

// addToken records a token of the member and returns its index.
func (w *workload) addToken(member int, value string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.j.NewToken(member)
	for len(w.tokens) <= id {
		w.tokens = append(w.tokens, "")
	}
	w.tokens[id] = value
	return id
}

func (w *workload) token(id int) string {
	if id < 0 {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tokens[id]
}

// op is one request to make.
type op struct {
	kind     string
	member   int // -1: the ADMIN or nobody
	token    int // -1: the ADMIN's token (when admin) or none
	admin    bool
	doc      string
	vars     map[string]any
	key      string // the idempotency key or payment reference it carries
	instance int
	retry    bool
	// onAnswer, when set, sees the entry (and the response, nil without
	// one) before it is recorded: a login records the token it issued.
	onAnswer func(*Entry, *harness.Response)
}

// send makes one request, records it and returns its entry and response
// (nil without an answer). A request once sent runs to its answer (or the
// client's timeout) even when the run ends meanwhile.
func (w *workload) send(o op) (Entry, *harness.Response) {
	token := w.token(o.token)
	if o.admin {
		token = w.fx.admin
	}
	forwarded := ""
	if o.member >= 0 {
		forwarded = w.fx.members[o.member].addr
	}
	e := Entry{Kind: o.kind, Instance: o.instance, Retry: o.retry, Member: o.member, Token: o.token,
		Key: o.key, Issued: -1, Start: time.Now()}
	if o.kind != kindLogin && o.kind != kindLoginWrong && o.kind != kindPassword && o.kind != kindSetup {
		e.Vars, _ = json.Marshal(o.vars) // (passwords stay out of the journal)
	}
	r, err := harness.Post(context.Background(), w.http, w.urls[o.instance], harness.Request{
		Query: o.doc, Vars: o.vars, Token: token, ForwardedFor: forwarded,
	})
	e.End = time.Now()
	e.Outcome, e.Message, e.Status = outcomeOf(r, err)
	if r != nil && e.Outcome == OK && o.key != "" {
		e.OrderID = orderIDOf(r.Data)
	}
	e.Served = w.served(o, e, r)
	if o.onAnswer != nil {
		o.onAnswer(&e, r)
	}
	w.j.Add(e)
	return e, r
}

// served judges whether the request was served as its token's member.
func (w *workload) served(o op, e Entry, r *harness.Response) bool {
	if o.token < 0 || e.FromFault() {
		return false
	}
	if o.doc == meDoc {
		var v struct{ Me *struct{ ID string } }
		return r != nil && json.Unmarshal(r.Data, &v) == nil && v.Me != nil
	}
	return needsMember[o.kind] && e.Outcome != "UNAUTHENTICATED"
}

// orderIDOf finds the order an answer names: the id of its one root field.
func orderIDOf(data json.RawMessage) string {
	var root map[string]json.RawMessage
	if json.Unmarshal(data, &root) != nil {
		return ""
	}
	for _, v := range root {
		var o struct{ ID string }
		if json.Unmarshal(v, &o) == nil {
			return o.ID
		}
	}
	return ""
}

// call sends the request and, while the answers come from a fault, sends
// it again (up to three times in all) to another instance: what a client
// behind a load balancer does.
func (w *workload) call(ctx context.Context, rng *rand.Rand, o op) (Entry, *harness.Response) {
	for try := 1; ; try++ {
		e, r := w.send(o)
		if !e.FromFault() || try == 3 || ctx.Err() != nil {
			return e, r
		}
		o.retry = true
		o.instance = (o.instance + 1 + rng.IntN(len(w.urls)-1)) % len(w.urls)
		sleep(ctx, time.Duration(100+rng.IntN(200))*time.Millisecond)
	}
}

// decode unmarshals an OK answer's data.
func decode(r *harness.Response, v any) error {
	if r == nil {
		return fmt.Errorf("no answer")
	}
	return json.Unmarshal(r.Data, v)
}

// sleep waits d or until ctx ends, and reports whether ctx is still going.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// pick returns a random element.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }
