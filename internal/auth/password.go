package auth

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/alexedwards/argon2id"
	"golang.org/x/sync/semaphore"

	"unionmall/internal/apperr"
)

// HashParams are argon2id's costs. Production keeps the library's defaults
// (64 MiB, one pass); tests use cheap ones.
type HashParams struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultHashParams are argon2id's recommended costs.
var DefaultHashParams = HashParams{
	MemoryKiB:   argon2id.DefaultParams.Memory,
	Iterations:  argon2id.DefaultParams.Iterations,
	Parallelism: argon2id.DefaultParams.Parallelism,
}

// Hasher hashes and checks passwords. At most a fixed number of hashes run
// at once: argon2id takes MemoryKiB per hash, so a login storm of a thousand
// would otherwise want a thousand times that. Callers beyond the bound wait
// (or give up when their request is cancelled).
type Hasher struct {
	params *argon2id.Params
	slots  *semaphore.Weighted
	// dummy is a hash of nothing in particular, checked when a phone is
	// unknown so that the answer takes as long as for a wrong password.
	dummy string
}

// NewHasher returns a hasher running at most concurrent hashes at once
// (the CPU count when concurrent <= 0).
func NewHasher(p HashParams, concurrent int) (*Hasher, error) {
	if concurrent <= 0 {
		concurrent = runtime.NumCPU()
	}
	h := &Hasher{
		params: &argon2id.Params{
			Memory:      p.MemoryKiB,
			Iterations:  p.Iterations,
			Parallelism: p.Parallelism,
			SaltLength:  16,
			KeyLength:   32,
		},
		slots: semaphore.NewWeighted(int64(concurrent)),
	}
	dummy, err := argon2id.CreateHash("not a password of anyone", h.params)
	if err != nil {
		return nil, fmt.Errorf("argon2id parameters: %w", err)
	}
	h.dummy = dummy
	return h, nil
}

// MaxHashesPerRequest bounds the password hashes one request may run: a
// changePassword checks the old password and hashes the new one; nothing
// needs more. (A mutation has one root field, so aliases cannot multiply
// them either; this is the bound should that rule ever be relaxed.)
const MaxHashesPerRequest = 2

// errTooManyHashes may be retried at once in a request of its own; a
// second is the least Retry-After says.
var errTooManyHashes = apperr.Limited(time.Second, "too many password checks in one request")

// spend counts one hash against the request's budget; requests without a
// slot (the server's own work, such as creating the ADMIN) are not bounded.
func spend(ctx context.Context) error {
	if s := slotOf(ctx); s != nil && s.hashes.Add(1) > MaxHashesPerRequest {
		return errTooManyHashes
	}
	return nil
}

// Hash returns the encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := spend(ctx); err != nil {
		return "", err
	}
	if err := h.slots.Acquire(ctx, 1); err != nil {
		return "", err
	}
	defer h.slots.Release(1)
	return argon2id.CreateHash(password, h.params)
}

// Check reports whether password matches the encoded hash. An empty hash
// (unknown account) is checked against a dummy so that both cost the same.
func (h *Hasher) Check(ctx context.Context, password, encoded string) (bool, error) {
	if err := spend(ctx); err != nil {
		return false, err
	}
	if err := h.slots.Acquire(ctx, 1); err != nil {
		return false, err
	}
	defer h.slots.Release(1)
	if encoded == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false, nil
	}
	return argon2id.ComparePasswordAndHash(password, encoded)
}
