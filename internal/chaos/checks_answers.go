package chaos

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// A Window is a fault as it happened: a killed instance from the kill
// until it served again, or PostgreSQL from its stop until every
// instance served again (Instance -1), each with a grace after.
type Window struct {
	What     string
	Instance int // -1: every instance
	From, To time.Time
}

// Covers reports whether the request overlapped the window.
func (w Window) Covers(e Entry) bool {
	return (w.Instance < 0 || w.Instance == e.Instance) && e.Start.Before(w.To) && e.End.After(w.From)
}

func describe(e Entry, start time.Time) string {
	s := fmt.Sprintf("%s on instance %d at +%s: %s", e.Kind, e.Instance, e.Start.Sub(start).Round(time.Millisecond), e.Outcome)
	if e.Message != "" {
		s += " (" + e.Message + ")"
	}
	return s
}

// CheckAnswers: every request got an answer carrying OK or one of the
// contract's codes; no answer, a non-GraphQL answer, INTERNAL_SERVER_ERROR
// and 5xx are allowed only for requests that overlapped a fault window,
// and are counted.
func CheckAnswers(entries []Entry, windows []Window, start time.Time) Check {
	c := Check{Name: "answers: every request got OK or a contract code (fault answers only inside fault windows)"}
	faults := make([]map[string]int, len(windows)) // by window: outcomes from faults
	for i := range faults {
		faults[i] = map[string]int{}
	}
	for _, e := range entries {
		switch {
		case e.FromFault():
			i := slices.IndexFunc(windows, func(w Window) bool { return w.Covers(e) })
			if i < 0 {
				c.Violations = append(c.Violations, fmt.Sprintf("outside every fault window: %s", describe(e, start)))
				continue
			}
			faults[i][e.Outcome]++
		case e.Outcome != OK && !slices.Contains(ContractCodes, e.Outcome):
			c.Violations = append(c.Violations, fmt.Sprintf("not a contract code: %s", describe(e, start)))
		}
	}
	c.Figures = fmt.Sprintf("%d requests", len(entries))
	for i, w := range windows {
		c.Figures += fmt.Sprintf("; %s: %s", w.What, countsText(faults[i]))
	}
	return c
}

// CheckExpected: outside faults and retries, each kind of request got
// one of the outcomes it may have (ops.go).
func CheckExpected(entries []Entry, start time.Time) Check {
	c := Check{Name: "answers: each operation got an outcome it may have"}
	judged := 0
	for _, e := range entries {
		if e.FromFault() || e.Retry {
			continue
		}
		judged++
		if want, ok := expected[e.Kind]; !ok || !slices.Contains(want, e.Outcome) {
			c.Violations = append(c.Violations, fmt.Sprintf("%s; want one of %v", describe(e, start), expected[e.Kind]))
		}
	}
	c.Figures = fmt.Sprintf("%d answers judged (not from faults, not retries)", judged)
	return c
}

// CheckIdempotency: the OK answers to one member's requests with one
// idempotency key (or payment reference), on whichever instance, name one
// order.
func CheckIdempotency(entries []Entry, start time.Time) Check {
	c := Check{Name: "idempotency: one key (or payment reference), one order, on every instance"}
	type key struct {
		member int
		key    string
	}
	first := map[key]Entry{}
	repeats := 0
	entries = slices.Clone(entries)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Start.Before(entries[j].Start) })
	for _, e := range entries {
		if e.Key == "" || e.Outcome != OK {
			continue
		}
		k := key{e.Member, e.Key}
		f, seen := first[k]
		if !seen {
			first[k] = e
			continue
		}
		repeats++
		if f.OrderID != e.OrderID {
			c.Violations = append(c.Violations, fmt.Sprintf("key %s: %s answered order %s, then %s answered order %s",
				e.Key, describe(f, start), f.OrderID, describe(e, start), e.OrderID))
		}
	}
	c.Figures = fmt.Sprintf("%d keys answered OK, %d OK answers repeated a key", len(first), repeats)
	return c
}

// countsText renders counts as "A 3, B 1", largest first.
func countsText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
