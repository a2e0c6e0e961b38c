package chaos

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
)

// An Entry is one request of the workload and its answer, as the client
// saw it: everything the answer checks (checks_*.go) look at.
type Entry struct {
	Kind     string // the operation (ops.go), e.g. "buyFlashSale" or "login (wrong password)"
	Instance int    // which server it was sent to
	Retry    bool   // a retry after an answer from a fault
	Member   int    // the member it acts for (index in the fixture); -1: the ADMIN or nobody
	Token    int    // the token it carried (index in the journal's tokens); -1: none
	Start    time.Time
	End      time.Time
	Status   int             // HTTP status (0 without an answer)
	Outcome  string          // "OK", the error code, "TRANSPORT" (no answer) or "HTTP <status>" (not GraphQL)
	Message  string          // the first error's message, or the transport error
	Vars     json.RawMessage `json:",omitempty"` // its variables
	Key      string          // the idempotency key (or payment reference) it sent
	OrderID  string          // with a Key: the order its OK answer names
	// Served: the request was served as its token's member (`me` named
	// them; an operation needing a member answered other than
	// UNAUTHENTICATED and not from a fault).
	Served bool
	Issued int // login: the token it issued (index), else -1
}

// Outcomes that are not the server's refusals.
const (
	OK        = "OK"
	Transport = "TRANSPORT"
	Internal  = "INTERNAL_SERVER_ERROR"
)

// outcomeOf names an answer (or its absence).
func outcomeOf(r *harness.Response, err error) (outcome, message string, status int) {
	var bad *harness.UndecodableError
	switch {
	case errors.As(err, &bad):
		return fmt.Sprintf("HTTP %d", bad.Status), bad.Error(), bad.Status
	case err != nil:
		return Transport, err.Error(), 0
	case r.Code() == "":
		return OK, "", r.Status
	default:
		return r.Code(), r.Errors[0].Message, r.Status
	}
}

// FromFault reports whether the outcome is what a fault gives: no
// answer, an answer that is not GraphQL, INTERNAL_SERVER_ERROR or a 5xx.
func (e Entry) FromFault() bool {
	return e.Outcome == Transport || e.Outcome == Internal || strings.HasPrefix(e.Outcome, "HTTP ") ||
		e.Status >= http.StatusInternalServerError
}

// TokenInfo is a token the workload holds: whose it is. Its value is kept
// by the workload, not in the journal.
type TokenInfo struct {
	Member int
}

// Journal records every request of a run, from every goroutine.
type Journal struct {
	mu      sync.Mutex
	entries []Entry
	tokens  []TokenInfo
}

// Add records an entry.
func (j *Journal) Add(e Entry) {
	j.mu.Lock()
	j.entries = append(j.entries, e)
	j.mu.Unlock()
}

// NewToken records a token of the member and returns its index.
func (j *Journal) NewToken(member int) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.tokens = append(j.tokens, TokenInfo{Member: member})
	return len(j.tokens) - 1
}

// Entries returns the entries so far, in the order they started.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	out := append([]Entry(nil), j.entries...)
	j.mu.Unlock()
	sort.SliceStable(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	return out
}

// Tokens returns the tokens recorded so far.
func (j *Journal) Tokens() []TokenInfo {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]TokenInfo(nil), j.tokens...)
}

// Tally counts entries by kind and outcome.
func Tally(entries []Entry) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, e := range entries {
		if out[e.Kind] == nil {
			out[e.Kind] = map[string]int{}
		}
		out[e.Kind][e.Outcome]++
	}
	return out
}

// WriteJournal writes entries to a file, one JSON object a line, for
// looking into a run after it.
func WriteJournal(path string, entries []Entry) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
