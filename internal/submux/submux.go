// Package submux multiplexes the public subscriptions served over the
// websocket: subscribers of the same operation share one execution of it
// per state and one encoding of each event.
//
// Design (a gqlgen extension; nothing in the resolvers, the broker or the
// transport's protocol changes):
//
//   - Subscriptions whose root field is in Options.Shared (feeds that do
//     not depend on who watches) are keyed by their normalized document,
//     operation name, variables, language and viewer class (roles and
//     verification status: visibility rules look at roles, never at who).
//   - The first subscriber of a key starts a group: the operation runs
//     once (gqlgen's own next handler, so the resolver and the conflating
//     broker of internal/live serve it as before) on a context detached
//     from that subscriber, whose viewer keeps only the class, and whose
//     responses are encoded once per state (Executions counts them).
//   - Each subscriber parks on gqlgen's subscription goroutine in our
//     response handler and writes the latest state straight to its
//     connection (wsgorilla.Stream: a prefix with its id, the shared
//     bytes, "}"; a PreparedMessage where ids coincide). A slow connection
//     blocks only its own goroutine and then writes the newest state: it
//     skips, never delays the group or anyone else.
//   - A new state wakes its waiting subscribers a few at a time (a relay
//     of turns, see serve), not all at once: ten thousand goroutines made
//     runnable together would queue every other goroutine of the process
//     (a purchase's, at each of its database round trips) behind their
//     writes.
//   - The last subscriber leaving cancels the group's execution, so the
//     broker's subscription ends. The group ending by itself (the broker
//     closed) ends every subscriber's stream like an ended channel.
//   - Each subscriber still passes the operation middlewares before this
//     one (the websocket token re-check) and takes its own slot of the
//     connection's subscriptions (TOO_MANY_SUBSCRIPTIONS); an operation
//     whose first response is an error (no such sale) is not grouped: the
//     error goes to its subscribers as gqlgen would send it.
//
// Anything else (orderUpdated, operations over SSE, a refused slot) passes
// through untouched.
package submux

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"unionmall/graph"
	"unionmall/internal/apperr"
	"unionmall/internal/auth"
	"unionmall/internal/wsgorilla"
)

// PublicFeeds are the subscription fields whose result does not depend on
// the viewer beyond its class.
var PublicFeeds = []string{"flashSaleStock", "liveEventCounters", "platformStatsUpdated", "liveEventBuyers", "liveEventFeed"}

// streamVar is where MutateOperationContext leaves the subscriber's stream
// in the operation's variables until InterceptOperation takes it: no
// GraphQL variable can have this name, and an operation that never gets
// there leaves nothing behind.
const streamVar = "submux.stream"

// Mux is a gqlgen extension (srv.Use it after the middlewares that must
// see every subscriber, e.g. the token re-check).
type Mux struct {
	shared map[string]bool
	// turns is how many of a group's subscribers are woken at once: one,
	// so that a push's writes take at most about one core (mallbench
	// subscribers, 10,000 watchers on two cores shared with the clients
	// and PostgreSQL: purchase p50 33-41 ms with one turn against 141 ms
	// with four, commit-to-receipt p99 310-421 ms against 349 ms).
	turns int

	mu     sync.Mutex
	groups map[string]*group

	executions atomic.Uint64
	off        atomic.Bool // tests: measure without grouping
}

var (
	_ graphql.HandlerExtension        = (*Mux)(nil)
	_ graphql.OperationContextMutator = (*Mux)(nil)
	_ graphql.OperationInterceptor    = (*Mux)(nil)
)

// New returns a Mux grouping subscriptions to the given root fields.
func New(shared ...string) *Mux {
	m := &Mux{shared: map[string]bool{}, groups: map[string]*group{}, turns: 1}
	for _, f := range shared {
		m.shared[f] = true
	}
	return m
}

// Executions is how many states the groups have executed and encoded.
func (m *Mux) Executions() uint64 { return m.executions.Load() }

// Groups is the number of groups running.
func (m *Mux) Groups() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.groups)
}

func (m *Mux) ExtensionName() string                   { return "SubscriptionMultiplexer" }
func (m *Mux) Validate(graphql.ExecutableSchema) error { return nil }
func (m *Mux) sharedField(op *ast.OperationDefinition) bool {
	if op == nil || op.Operation != ast.Subscription || len(op.SelectionSet) != 1 {
		return false
	}
	f, ok := op.SelectionSet[0].(*ast.Field)
	return ok && m.shared[f.Name] && len(f.Directives) == 0
}

// MutateOperationContext runs on the transport's read loop, right after
// the subscribe message was read: the only moment its id can be known.
func (m *Mux) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if m.off.Load() || !m.sharedField(oc.Operation) {
		return nil
	}
	if s, ok := wsgorilla.StreamOf(ctx); ok {
		if oc.Variables == nil {
			oc.Variables = map[string]any{}
		}
		oc.Variables[streamVar] = s
	}
	return nil
}

// InterceptOperation groups the subscriptions MutateOperationContext
// marked.
func (m *Mux) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	s, ok := oc.Variables[streamVar].(*wsgorilla.Stream)
	if !ok {
		return next(ctx)
	}
	delete(oc.Variables, streamVar)
	if graph.TakeSubscriptionSlot(ctx) != nil {
		return next(ctx) // refused there again, exactly as ungrouped
	}
	g, gctx := m.join(ctx, oc)
	context.AfterFunc(ctx, g.leave)
	if gctx != nil {
		// On this goroutine: gqlgen's DispatchOperation reads back the
		// context its next handler was called with.
		go g.run(gctx, next(gctx))
	} else {
		shed(oc)
	}
	select {
	case <-g.ready:
	case <-ctx.Done():
		return func(context.Context) *graphql.Response { return nil }
	}
	if g.failed != nil {
		if len(g.failed.Errors) == 0 && len(g.failed.Data) == 0 {
			return func(context.Context) *graphql.Response { return nil }
		}
		return graphql.OneShot(g.failed)
	}
	// The context gqlgen passes back may be the group's (see above): the
	// subscriber's own is ctx.
	return func(context.Context) *graphql.Response {
		g.serve(ctx, s)
		return nil
	}
}

// shed drops from a joining subscriber's operation context what only an
// execution of it reads: the group executes its first subscriber's, and
// gqlgen keeps every subscriber's for the subscription's life. The
// coerced variables, the document's text and the extensions' statistics
// (a map) are most of what a subscription holds in gqlgen's objects.
func shed(oc *graphql.OperationContext) {
	oc.RawQuery = ""
	oc.Variables = nil
	oc.Extensions = nil
	oc.Stats = graphql.Stats{OperationStart: oc.Stats.OperationStart, Read: oc.Stats.Read,
		Parsing: oc.Stats.Parsing, Validation: oc.Stats.Validation}
}

// key is what subscribers must share to share a group.
func key(ctx context.Context, oc *graphql.OperationContext) string {
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(oc.Doc)
	b.WriteByte(0)
	b.WriteString(oc.OperationName)
	b.WriteByte(0)
	vars, _ := json.Marshal(oc.Variables) // sorted keys
	b.Write(vars)
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(int(apperr.LangOf(ctx))))
	b.WriteByte(0)
	b.WriteString(viewerClass(auth.FromContext(ctx)))
	return b.String()
}

func viewerClass(v *auth.Viewer) string {
	if v == nil {
		return "anonymous"
	}
	var b strings.Builder
	for _, r := range v.Roles {
		b.WriteString(string(r))
		b.WriteByte(',')
	}
	b.WriteString(string(v.Status))
	return b.String()
}

// classViewer is a viewer of v's class that is nobody in particular, so
// nothing the group renders can be one member's own.
func classViewer(v *auth.Viewer) *auth.Viewer {
	if v == nil {
		return nil
	}
	return &auth.Viewer{Roles: v.Roles, Status: v.Status}
}

type group struct {
	m      *Mux
	key    string
	cancel context.CancelFunc
	ready  chan struct{} // closed once the first state, or failed, is set
	failed *graphql.Response

	mu   sync.Mutex
	subs int
	// cur is the newest state (nil until ready), read by every subscriber
	// at every state: no lock for it.
	cur atomic.Pointer[state]
}

// state is one encoded event. When a newer one (or the end, a state with
// a nil payload) replaces it, turns gets its tokens: each subscriber
// waiting for what follows takes one and passes it on (see serve).
type state struct {
	payload *wsgorilla.Payload
	turns   chan struct{}
}

func (g *group) newState(p *wsgorilla.Payload) *state {
	return &state{payload: p, turns: make(chan struct{}, g.m.turns)}
}

// join returns the group of oc's key with one more subscriber. If it
// started the group it also returns the context to run it with.
func (m *Mux) join(ctx context.Context, oc *graphql.OperationContext) (*group, context.Context) {
	k := key(ctx, oc)
	m.mu.Lock()
	defer m.mu.Unlock()
	var gctx context.Context
	g := m.groups[k]
	if g == nil {
		var cancel context.CancelFunc
		gctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		gctx = auth.WithViewer(graph.WithoutSubscriptionSlots(gctx), classViewer(auth.FromContext(ctx)))
		g = &group{m: m, key: k, cancel: cancel, ready: make(chan struct{})}
		m.groups[k] = g
	}
	g.mu.Lock()
	g.subs++
	g.mu.Unlock()
	return g, gctx
}

// leave drops a subscriber; the last one stops the group.
func (g *group) leave() {
	g.m.mu.Lock()
	g.mu.Lock()
	g.subs--
	last := g.subs == 0
	g.mu.Unlock()
	if last && g.m.groups[g.key] == g {
		delete(g.m.groups, g.key)
	}
	g.m.mu.Unlock()
	if last {
		g.cancel()
	}
}

// run executes the operation once and publishes its states.
func (g *group) run(ctx context.Context, responses graphql.ResponseHandler) {
	defer g.cancel()
	defer g.end()
	first := true
	for {
		resp := responses(ctx)
		if resp == nil {
			if first {
				g.fail(&graphql.Response{}) // ended at once: end each like gqlgen
			}
			return
		}
		if first && len(resp.Errors) > 0 && (len(resp.Data) == 0 || bytes.Equal(resp.Data, []byte("null"))) {
			g.fail(resp)
			return
		}
		data, err := json.Marshal(resp)
		if err != nil {
			panic(err) // as gqlgen's transport does
		}
		g.m.executions.Add(1)
		g.publish(g.newState(wsgorilla.NewPayload(data)))
		if first {
			close(g.ready)
			first = false
		}
	}
}

func (g *group) fail(resp *graphql.Response) {
	g.failed = resp
	g.m.mu.Lock()
	if g.m.groups[g.key] == g {
		delete(g.m.groups, g.key)
	}
	g.m.mu.Unlock()
	close(g.ready)
}

// end tells the subscribers that the stream ended (after the first state).
func (g *group) end() {
	g.m.mu.Lock()
	if g.m.groups[g.key] == g {
		delete(g.m.groups, g.key)
	}
	g.m.mu.Unlock()
	if g.failed == nil {
		g.publish(g.newState(nil))
	}
}

func (g *group) publish(s *state) {
	old := g.cur.Swap(s)
	if old != nil {
		for range cap(old.turns) {
			old.turns <- struct{}{} // never blocks: only this sends first
		}
	}
}

// serve writes the group's states to one subscriber, the current one at
// once, then each newer one it gets to (skipping those replaced while it
// was writing), until ctx ends or the stream does.
// sender is a wsgorilla.Stream (a seam for the tests).
type sender interface {
	Send(*wsgorilla.Payload) error
}

func (g *group) serve(ctx context.Context, s sender) {
	if ctx.Err() != nil {
		return
	}
	for {
		st := g.cur.Load()
		if st.payload == nil {
			return
		}
		if s.Send(st.payload) != nil {
			return
		}
		select {
		case <-st.turns:
			// A newer state: pass the turn to the next one waiting, then
			// write it. A token taken is given back before anything can
			// block, so the channel always has room for it; a subscriber
			// stuck in a write holds none.
			select {
			case st.turns <- struct{}{}:
			default:
			}
		case <-ctx.Done():
			return
		}
	}
}
