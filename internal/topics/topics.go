// Package topics names what subscribers watch, and carries "something
// changed" from the domain packages to the broker (and, through
// PostgreSQL, to every other instance).
package topics

import (
	"strings"

	"unionmall/internal/gid"
)

// Stats is the platform's totals.
const Stats = "stats"

// FlashSale is one sale's stock.
func FlashSale(id gid.ID) string { return "fls:" + string(id) }

// LiveEvent is one live event's counters.
func LiveEvent(id gid.ID) string { return "lev:" + string(id) }

// Token is a bearer token (by its hash, hex) that was revoked.
func Token(hashHex string) string { return "tok:" + hashHex }

// Member is a member whose roles, verification or tokens changed.
func Member(id gid.ID) string { return "mem:" + string(id) }

// Parse splits a topic into its kind ("fls", "lev", "stats") and ID.
func Parse(topic string) (kind string, id gid.ID) {
	k, rest, _ := strings.Cut(topic, ":")
	return k, gid.ID(rest)
}

// Notify is told, after commit, which topics a change touched.
type Notify func(topics ...string)

// Discard is a Notify that does nothing.
func Discard(...string) {}
