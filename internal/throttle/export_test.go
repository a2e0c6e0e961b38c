package throttle

import "time"

// SetClock replaces a limiter's clock (tests).
func SetClock(l *Limiter, now func() time.Time) { l.now = now }
