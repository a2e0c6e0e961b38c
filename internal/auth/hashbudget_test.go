package auth

import (
	"context"
	"testing"

	"unionmall/internal/apperr"
)

// A request (a context with a slot) runs at most MaxHashesPerRequest
// password hashes, whether it checks or hashes; the next is RATE_LIMITED
// and runs no hash. The server's own work (no slot) is not bounded.
func TestHashesPerRequestAreBounded(t *testing.T) {
	h, err := NewHasher(cheap, 2)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	check := func(ctx context.Context) error { _, err := h.Check(ctx, "correct horse", enc); return err }
	hash := func(ctx context.Context) error { _, err := h.Hash(ctx, "correct horse"); return err }
	for _, tt := range []struct {
		name string
		ops  []func(context.Context) error
	}{
		{"checks", []func(context.Context) error{check, check, check}},
		{"hashes", []func(context.Context) error{hash, hash, hash}},
		{"a check and a hash, then a check", []func(context.Context) error{check, hash, check}},
		{"a check and a hash, then a hash", []func(context.Context) error{check, hash, hash}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := WithClientAddr(context.Background(), "x")
			for i, op := range tt.ops {
				err := op(ctx)
				switch {
				case i < MaxHashesPerRequest && err != nil:
					t.Fatalf("hash %d of a request: %v, want it run", i+1, err)
				case i >= MaxHashesPerRequest && !apperr.Is(err, apperr.RateLimited):
					t.Fatalf("hash %d of a request: %v, want RATE_LIMITED", i+1, err)
				}
			}
			// Another request has its own budget.
			if err := tt.ops[0](WithClientAddr(context.Background(), "x")); err != nil {
				t.Fatalf("another request's first hash: %v", err)
			}
			// No slot: not bounded.
			for i := range 3 * MaxHashesPerRequest {
				if err := tt.ops[i%len(tt.ops)](context.Background()); err != nil {
					t.Fatalf("hash %d without a request: %v", i+1, err)
				}
			}
		})
	}
}
