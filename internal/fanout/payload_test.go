package fanout

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The encoding of notices and the handling of one, with no database.

const self, peer = "0123456789abcdef", "fedcba9876543210"

// topic returns a topic of exactly n bytes.
func topic(i, n int) string {
	s := fmt.Sprintf("fls:%d:", i)
	return s + strings.Repeat("x", n-len(s))
}

func TestPayloads(t *testing.T) {
	head := len(self) + 1 // "self|"
	fill := maxPayload - head
	cases := []struct {
		name   string
		topics []string
		want   []string
	}{
		{name: "nothing", topics: nil, want: nil},
		{name: "one topic", topics: []string{"fls:a"}, want: []string{self + "|fls:a"}},
		{name: "joined in order", topics: []string{"fls:b", "fls:a", "lev:c"}, want: []string{self + "|fls:b,fls:a,lev:c"}},
		{name: "a notice of exactly maxPayload bytes",
			topics: []string{topic(1, fill-11), topic(2, 10)},
			want:   []string{self + "|" + topic(1, fill-11) + "," + topic(2, 10)}},
		{name: "one byte more starts a new notice",
			topics: []string{topic(1, fill-11), topic(2, 11)},
			want:   []string{self + "|" + topic(1, fill-11), self + "|" + topic(2, 11)}},
		{name: "a topic that fills a notice alone",
			topics: []string{"a", topic(1, fill), "b"},
			want:   []string{self + "|a", self + "|" + topic(1, fill), self + "|b"}},
		{name: "a topic too long for any notice goes alone",
			topics: []string{"a", topic(1, maxPayload), "b", "c"},
			want:   []string{self + "|a", self + "|" + topic(1, maxPayload), self + "|b,c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := payloads(self, c.topics)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("payloads:\n got %v\nwant %v", short(got), short(c.want))
			}
		})
	}
}

// short abbreviates long payloads for failure messages.
func short(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if len(p) > 60 {
			p = fmt.Sprintf("%s…(%d bytes)", p[:40], len(p))
		}
		out[i] = p
	}
	return out
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		want    notice
		ok      bool
	}{
		{name: "own notice", payload: self + "|fls:a"},
		{name: "own sync", payload: self + "|fls:a,sync:n1"},
		{name: "no sender", payload: "fls:a"},
		{name: "empty sender", payload: "|fls:a"},
		{name: "no topics", payload: peer + "|"},
		{name: "empty", payload: ""},
		{name: "topics", payload: peer + "|fls:a,lev:b", ok: true,
			want: notice{sender: peer, changed: []string{"fls:a", "lev:b"}}},
		{name: "a topic with the separator of the sender", payload: peer + "|odd|topic", ok: true,
			want: notice{sender: peer, changed: []string{"odd|topic"}}},
		{name: "empty topics are skipped", payload: peer + "|,fls:a,,", ok: true,
			want: notice{sender: peer, changed: []string{"fls:a"}}},
		{name: "a sync request", payload: peer + "|tok:1,mem:2,sync:n1", ok: true,
			want: notice{sender: peer, changed: []string{"tok:1", "mem:2"}, syncs: []string{"n1"}}},
		{name: "a sync request alone", payload: peer + "|sync:n1", ok: true,
			want: notice{sender: peer, syncs: []string{"n1"}}},
		{name: "an acknowledgement", payload: peer + "|ack:n1", ok: true,
			want: notice{sender: peer, acks: []string{"n1"}}},
		{name: "control topics anywhere", payload: peer + "|ack:n0,fls:a,sync:n1,ack:n2,fls:b", ok: true,
			want: notice{sender: peer, changed: []string{"fls:a", "fls:b"}, syncs: []string{"n1"}, acks: []string{"n0", "n2"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := decode(self, c.payload)
			if ok != c.ok || !reflect.DeepEqual(got, c.want) {
				t.Errorf("decode(%q) = %+v, %v; want %+v, %v", c.payload, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestSyncAndAckPayloads(t *testing.T) {
	topics := []string{"tok:1", topic(2, maxPayload-30), "mem:3"}
	ps := syncPayloads(peer, "n1", topics)
	if len(ps) != 2 {
		t.Fatalf("%d notices, want 2: %v", len(ps), short(ps))
	}
	var changed, syncs []string
	for i, p := range ps {
		n, ok := decode(self, p)
		if !ok || n.sender != peer {
			t.Fatalf("notice %d: %+v, %v", i, n, ok)
		}
		changed = append(changed, n.changed...)
		syncs = append(syncs, n.syncs...)
		if i < len(ps)-1 && len(n.syncs) > 0 {
			t.Errorf("the sync request came in notice %d of %d: it must come after every topic", i, len(ps))
		}
	}
	if !reflect.DeepEqual(changed, topics) || !reflect.DeepEqual(syncs, []string{"n1"}) {
		t.Errorf("decoded %v and syncs %v", short(changed), syncs)
	}
	if !slices.Equal(topics, []string{"tok:1", topic(2, maxPayload-30), "mem:3"}) {
		t.Error("syncPayloads changed the caller's topics")
	}
	n, ok := decode(peer, ackPayload(self, "n1"))
	if !ok || !reflect.DeepEqual(n, notice{sender: self, acks: []string{"n1"}}) {
		t.Errorf("the acknowledgement decodes as %+v, %v", n, ok)
	}
	if _, ok := decode(self, ackPayload(self, "n1")); ok {
		t.Error("an instance would read its own acknowledgement")
	}
}

// Any list of topics survives packing and decoding, in order, in notices
// within the limit.
func TestPayloadsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		topics := make([]string, r.IntN(2000))
		for i := range topics {
			topics[i] = topic(i, 12+r.IntN(60))
			if r.IntN(500) == 0 {
				topics[i] = topic(i, 1000+r.IntN(4000))
			}
		}
		var got []string
		for _, p := range payloads(self, topics) {
			if len(p) > maxPayload {
				t.Fatalf("round %d: a notice of %d bytes", round, len(p))
			}
			n, ok := decode(peer, p)
			if !ok || n.sender != self || n.syncs != nil || n.acks != nil {
				t.Fatalf("round %d: %q decodes as %+v, %v", round, p[:min(len(p), 40)], n, ok)
			}
			got = append(got, n.changed...)
		}
		if !slices.Equal(got, topics) {
			t.Fatalf("round %d: %d topics in, %d out", round, len(topics), len(got))
		}
	}
}

// receive: a notice's topics go to Changed; a Sync is acknowledged only
// after they were handled; an acknowledgement goes to the Sync waiting
// for it, and one nobody waits for is dropped.
func TestReceive(t *testing.T) {
	var mu sync.Mutex
	var events []string
	sent := make(chan string, 4)
	f := &Fanout{self: self, waiters: map[string]chan string{}}
	f.send = func(_ context.Context, payload string) error {
		mu.Lock()
		events = append(events, "send "+payload)
		mu.Unlock()
		sent <- payload
		return nil
	}
	h := Handlers{Changed: func(ts []string) {
		mu.Lock()
		events = append(events, "changed "+strings.Join(ts, ","))
		mu.Unlock()
	}}
	acks := make(chan string, 1)
	f.waiters["n0"] = acks

	for _, p := range syncPayloads(peer, "n1", []string{"tok:1", "mem:2"}) {
		n, ok := decode(self, p)
		if !ok {
			t.Fatalf("%q did not decode", p)
		}
		f.receive(context.Background(), n, h)
	}
	select {
	case p := <-sent:
		if p != ackPayload(self, "n1") {
			t.Errorf("acknowledged with %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sync was not acknowledged")
	}
	mu.Lock()
	if want := []string{"changed tok:1,mem:2", "send " + ackPayload(self, "n1")}; !slices.Equal(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
	mu.Unlock()

	for _, p := range []string{ackPayload(peer, "n0"), ackPayload(peer, "unknown")} {
		n, _ := decode(self, p)
		f.receive(context.Background(), n, h)
	}
	select {
	case who := <-acks:
		if who != peer {
			t.Errorf("the acknowledgement came from %q, want %q", who, peer)
		}
	default:
		t.Error("the waiting Sync did not get its acknowledgement")
	}
	mu.Lock()
	if len(events) != 2 {
		t.Errorf("acknowledgements made events %v", events[2:])
	}
	mu.Unlock()
	if len(sent) != 0 {
		t.Error("an acknowledgement was acknowledged")
	}
}
