package submux

// SetOff turns grouping off (new subscriptions only), to measure without it.
func (m *Mux) SetOff(off bool) { m.off.Store(off) }
