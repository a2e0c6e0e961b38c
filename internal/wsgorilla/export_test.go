package wsgorilla

import "time"

// NewWithoutPool is New with a per-connection write buffer instead of the
// shared pool; only the memory comparison uses it.
func NewWithoutPool(o Options) *Implementation {
	i := New(o)
	i.upgrader.WriteBufferPool = nil
	return i
}

// NewKeepingHijackedBuffers is New without releasing net/http's hijacked
// buffers; only the memory comparison uses it.
func NewKeepingHijackedBuffers(o Options) *Implementation {
	i := New(o)
	i.keepHijackedBuffers = true
	return i
}

// WithCloseLinger shortens the close linger for tests.
func WithCloseLinger(i *Implementation, d time.Duration) *Implementation {
	i.linger = d
	return i
}
