// Package changes carries "this committed change happened" from the package
// that made it to every consequence: subscription pushes, flash-sale gates
// re-reading their copy of a sale, the token and member caches forgetting,
// the platform totals' cache. A package announces a change once, after
// commit; each consequence is a handler its own package registered for the
// change's kind when it was built.
//
// There is one delivery path. Announce hands the change to deliver at once
// and queues it for the other instances (internal/fanout, over
// PostgreSQL); another instance's changes arrive through the same deliver.
// No handler knows or asks where a change came from, so a consequence that
// holds for local changes holds for remote ones (the shape of centrifuge's
// broker → Node.HandlePublication path). After the connection to the other
// instances comes back, every handler's Resync runs: anything may have
// changed meanwhile.
package changes

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"unionmall/internal/fanout"
	"unionmall/internal/gid"
)

// Kind is what changed. Every kind is declared here, in Kinds.
type Kind string

// The kinds of change, and the prefix of each on the wire.
const (
	FlashSaleKind Kind = "fls"   // a flash sale's stock, window or settlement
	LiveEventKind Kind = "lev"   // something a live event's counters count
	StatsKind     Kind = "stats" // the platform's totals
	TokenKind     Kind = "tok"   // a bearer token (its hash, hex) was revoked
	MemberKind    Kind = "mem"   // a member's roles, verification or tokens
	OrderKind     Kind = "ord"   // an order's status, payment or shipping
	CatalogKind   Kind = "cat"   // a county, supplier, product, its images or a live event
)

// Kinds lists every kind, for the check that each has a handler.
var Kinds = []Kind{FlashSaleKind, LiveEventKind, StatsKind, TokenKind, MemberKind, OrderKind, CatalogKind}

// Change names one changed thing. It is comparable, so it can key a map.
type Change struct {
	Kind Kind
	ID   string // empty for kinds of one thing (StatsKind)
}

// FlashSale is a change of one sale.
func FlashSale(id gid.ID) Change { return Change{FlashSaleKind, string(id)} }

// LiveEvent is a change of one live event's counters.
func LiveEvent(id gid.ID) Change { return Change{LiveEventKind, string(id)} }

// Stats is a change of the platform's totals.
var Stats = Change{Kind: StatsKind}

// Token is the revocation of a token, named by its hash in hex.
func Token(hashHex string) Change { return Change{TokenKind, hashHex} }

// Member is a change of a member's roles, verification or tokens.
func Member(id gid.ID) Change { return Change{MemberKind, string(id)} }

// Order is a change of one order: its status, its payment or its shipping.
func Order(id gid.ID) Change { return Change{OrderKind, string(id)} }

// Catalog is a change of the catalogue (one kind for all of it: its one
// consequence, the response cache, drops everything anyway).
var Catalog = Change{Kind: CatalogKind}

// String is the change on the wire, and its topic for subscriptions:
// "fls:ID", or the kind alone when there is no ID.
func (c Change) String() string {
	if c.ID == "" {
		return string(c.Kind)
	}
	return string(c.Kind) + ":" + c.ID
}

// Parse reads String's form; ok is false for a kind this build does not
// know (an instance of another version may send one).
func Parse(s string) (c Change, ok bool) {
	k, id, _ := strings.Cut(s, ":")
	for _, known := range Kinds {
		if Kind(k) == known {
			return Change{known, id}, true
		}
	}
	return Change{}, false
}

// Handler is one consequence of a kind of change. Handlers run in the
// goroutine that delivers (the announcing request's, or the one that
// receives other instances' changes), so they must not block: they mark,
// touch or forget, and do slow work in the background.
type Handler struct {
	// Changed is told of each change of the kind.
	Changed func(Change)
	// Resync, if set, is told that any change of the kind may have been
	// missed (the connection to the other instances was down).
	Resync func()
}

// Registry delivers changes to their handlers. Its zero value is not
// usable; a nil *Registry announces nothing (for tests of one package).
type Registry struct {
	mu       sync.RWMutex
	handlers map[Kind][]Handler

	peers atomic.Pointer[fanout.Fanout]
	deaf  atomic.Bool // Join failed: other instances' changes go unheard
}

// New returns a registry that serves this instance alone until Join.
func New() *Registry { return &Registry{handlers: map[Kind][]Handler{}} }

// On registers h for changes of kind k. Handlers of a kind run in the
// order they were registered. A package registers its consequences when
// it is built, before the server serves.
func (r *Registry) On(k Kind, h Handler) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[k] = append(r.handlers[k], h)
}

// Unhandled lists the kinds no handler is registered for (a kind announced
// to nobody is a consequence forgotten).
func (r *Registry) Unhandled() []Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Kind
	for _, k := range Kinds {
		if len(r.handlers[k]) == 0 {
			out = append(out, k)
		}
	}
	return out
}

// Announce is told, after commit, of what a change touched: this
// instance's handlers run now, the other instances' soon (within
// fanout's flush interval).
func (r *Registry) Announce(cs ...Change) {
	if r == nil || len(cs) == 0 {
		return
	}
	r.deliver(cs)
	if f := r.peers.Load(); f != nil {
		f.Publish(wire(cs)...)
	}
}

// AnnounceSync is Announce that returns once every other instance has
// run its handlers too (fanout.Sync): for revocations, which must hold
// everywhere before the request that made them answers.
func (r *Registry) AnnounceSync(ctx context.Context, cs ...Change) error {
	if r == nil || len(cs) == 0 {
		return nil
	}
	r.deliver(cs)
	if f := r.peers.Load(); f != nil {
		return f.Sync(ctx, wire(cs)...)
	}
	return nil
}

// Fresh reports whether this instance hears the other instances' changes
// (always, while it is alone), so whether a cache of state that others
// change may be trusted.
func (r *Registry) Fresh() bool {
	if r == nil {
		return true
	}
	if f := r.peers.Load(); f != nil {
		return f.Connected()
	}
	return !r.deaf.Load()
}

// Join connects to the other instances on the PostgreSQL database at dsn
// until ctx ends. Without it (SQLite) the registry serves this instance
// alone.
func (r *Registry) Join(ctx context.Context, dsn string, pool *sql.DB) error {
	f, err := fanout.Start(ctx, dsn, pool, fanout.Handlers{Changed: r.received, Reconnected: r.resync})
	if err != nil {
		r.deaf.Store(true)
		return fmt.Errorf("join other instances: %w", err)
	}
	r.peers.Store(f)
	return nil
}

// received is another instance's announcement.
func (r *Registry) received(topics []string) {
	cs := make([]Change, 0, len(topics))
	for _, t := range topics {
		if c, ok := Parse(t); ok {
			cs = append(cs, c)
		} else {
			slog.Debug("ignoring a change of an unknown kind", "change", t)
		}
	}
	r.deliver(cs)
}

// deliver is the one path from a change to its consequences, for this
// instance's changes and the others' alike.
func (r *Registry) deliver(cs []Change) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, c := range cs {
		for _, h := range r.handlers[c.Kind] {
			h.Changed(c)
		}
	}
}

// resync tells every handler that changes may have been missed.
func (r *Registry) resync() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range Kinds {
		for _, h := range r.handlers[k] {
			if h.Resync != nil {
				h.Resync()
			}
		}
	}
}

func wire(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}
