package chaos

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Print writes what ran (operations by kind and outcome, the faults and
// when) and each invariant checked with its figures and violations.
func (r *Result) Print(out io.Writer) {
	c := r.Config
	fmt.Fprintf(out, "chaos run: seed %d, %d instances, %s, %d members, payment window %s (replay: -seed %d)\n",
		c.Seed, c.Instances, c.Duration, c.Members, c.PaymentWindow, c.Seed)
	fmt.Fprintf(out, "  set up in %s, ran %s, settled in %s; every request in %s, logs in %s\n",
		r.Setup.Round(time.Millisecond), r.Ran.Round(time.Millisecond), r.Settled.Round(time.Millisecond), r.Journal, c.WorkDir)
	fmt.Fprintln(out, "faults:")
	if len(r.Windows) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, w := range r.Windows {
		fmt.Fprintf(out, "  +%s … +%s (with grace)  %s\n", rel(w.From, r.Start), rel(w.To, r.Start), w.What)
	}
	tally := Tally(r.Entries)
	kinds := make([]string, 0, len(tally))
	for k := range tally {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(out, "operations (%d requests):\n", len(r.Entries))
	for _, k := range kinds {
		n := 0
		for _, v := range tally[k] {
			n += v
		}
		fmt.Fprintf(out, "  %-45s %6d  %s\n", k, n, countsText(tally[k]))
	}
	failed := len(r.Failed())
	fmt.Fprintf(out, "invariants (%d checked, %d broken):\n", len(r.Checks), failed)
	for _, ch := range r.Checks {
		if ch.OK() {
			fmt.Fprintf(out, "  ok   %s\n       %s\n", ch.Name, ch.Figures)
		} else {
			fmt.Fprintf(out, "  FAIL %s: %d violations\n       %s\n", ch.Name, len(ch.Violations), ch.Figures)
		}
		for i, v := range ch.Violations {
			if i == maxListed {
				fmt.Fprintf(out, "       ... and %d more rows\n", len(ch.Violations)-i)
				break
			}
			fmt.Fprintf(out, "       ✗ %s\n", v)
		}
	}
	if failed > 0 {
		fmt.Fprintf(out, "BROKEN: %s (replay with -seed %d)\n", strings.Join(names(r.Failed()), "; "), c.Seed)
	} else {
		fmt.Fprintln(out, "every invariant holds")
	}
}

func names(checks []Check) []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.Name
	}
	return out
}

// maxListed bounds the violations printed for one check.
const maxListed = 50

func rel(t, start time.Time) string { return t.Sub(start).Round(100 * time.Millisecond).String() }
