package schema

import "time"

// timeNow is the default of every timestamp column: UTC, as the contract
// serves times.
func timeNow() time.Time { return time.Now().UTC() }
