// Package ordernum makes order numbers: human-readable, unique by index.
package ordernum

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// New returns the Shanghai date and time to the second followed by eight
// random digits, e.g. 2026110910300112345678. A clash (one in 10^8 within
// one second) fails that one placement on the unique index, never the data.
func New(now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	return fmt.Sprintf("%s%08d", now.In(shanghai).Format("20060102150405"), n.Int64())
}
