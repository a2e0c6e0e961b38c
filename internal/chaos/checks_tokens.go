package chaos

import (
	"fmt"
	"time"
)

// revocations finds when each token was revoked, from the journal: a
// logout answered OK revokes its token when the answer arrived; a
// changePassword answered OK revokes, when the answer arrived, every other
// token of the member issued before it was sent (setup tokens, and logins
// answered before it started).
func revocations(entries []Entry, tokens []TokenInfo) map[int]time.Time {
	issued := map[int]time.Time{} // token → its login's answer; setup tokens: zero
	for _, e := range entries {
		if e.Issued >= 0 {
			issued[e.Issued] = e.End
		}
	}
	revoked := map[int]time.Time{}
	revoke := func(tok int, at time.Time) {
		if t, ok := revoked[tok]; !ok || at.Before(t) {
			revoked[tok] = at
		}
	}
	for _, e := range entries {
		if e.Outcome != OK || e.Token < 0 {
			continue
		}
		switch e.Kind {
		case kindLogout:
			revoke(e.Token, e.End)
		case kindPassword:
			for tok, info := range tokens {
				if info.Member != e.Member || tok == e.Token {
					continue
				}
				if at, ok := issued[tok]; ok && !at.Before(e.Start) {
					continue // issued while (or after) the password changed
				}
				revoke(tok, e.End)
			}
		}
	}
	return revoked
}

// CheckRevocations: no request that started after its token had been
// revoked (its logout or changePassword answered, on any instance) was
// served as the token's member.
func CheckRevocations(entries []Entry, tokens []TokenInfo, start time.Time) Check {
	c := Check{Name: "tokens: no token revoked before a request started was accepted by it"}
	revoked := revocations(entries, tokens)
	used, refused := 0, 0
	for _, e := range entries {
		at, ok := revoked[e.Token]
		if e.Token < 0 || !ok || !e.Start.After(at) {
			continue
		}
		used++
		if !e.Served {
			refused++
			continue
		}
		c.Violations = append(c.Violations, fmt.Sprintf("token #%d of member %d, revoked at +%s, accepted %s later: %s",
			e.Token, tokens[e.Token].Member, at.Sub(start).Round(time.Millisecond),
			e.Start.Sub(at).Round(time.Microsecond), describe(e, start)))
	}
	c.Figures = fmt.Sprintf("%d tokens revoked; %d requests sent with them afterwards, %d refused", len(revoked), used, refused)
	return c
}
