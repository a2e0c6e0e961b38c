package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"unionmall/ent"
	"unionmall/ent/member"
	"unionmall/internal/gid"
	"unionmall/internal/role"
	"unionmall/internal/testdb"
)

// Many first requests at once, as when a flash sale opens: every caller
// gets its own member, an unknown token stays unknown, a caller that gave
// up does not fail the others, and requests share queries.
func TestColdLookupsShareQueries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		ctx := context.Background()
		const members, tries = 60, 3
		creates := make([]*ent.MemberCreate, members)
		for i := range creates {
			creates[i] = d.Client.Member.Create().SetPhone(fmt.Sprintf("1370000%04d", i)).SetPasswordHash("-").
				SetDisplayName(fmt.Sprintf("买家%d", i)).SetRoles(role.Set{role.Member}).
				SetVerificationStatus(member.VerificationStatusVERIFIED)
		}
		ms := d.Client.Member.CreateBulk(creates...).SaveX(ctx)
		tokens, err := NewSessions(d.DB, time.Hour, nil).IssueMany(ctx, d.Client, ms)
		if err != nil {
			t.Fatal(err)
		}

		s := NewSessions(d.DB, time.Hour, nil) // nothing in memory yet
		gave, cancel := context.WithCancel(ctx)
		cancel()
		type answer struct {
			want gid.ID
			got  *Viewer
			err  error
		}
		answers := make([]answer, 0, members*tries+1)
		var (
			mu    sync.Mutex
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		ask := func(c context.Context, token string, want gid.ID) {
			defer wg.Done()
			<-start
			v, err := s.Authenticate(c, token)
			mu.Lock()
			answers = append(answers, answer{want: want, got: v, err: err})
			mu.Unlock()
		}
		for i, tok := range tokens {
			for try := range tries {
				c := ctx
				if i == 0 && try == 0 {
					c = gave
				}
				wg.Add(1)
				go ask(c, tok, ms[i].ID)
			}
		}
		wg.Add(1)
		go ask(ctx, tokenPrefix+"not-a-token-anyone-has", "")
		close(start)
		wg.Wait()

		for _, a := range answers {
			switch {
			case a.want == "":
				if !errors.Is(a.err, ErrInvalidToken) {
					t.Errorf("an unknown token: %v, %v; want ErrInvalidToken", a.got, a.err)
				}
			case a.err != nil || a.got == nil || a.got.MemberID != a.want:
				t.Errorf("a token of %s: %+v, %v", a.want, a.got, a.err)
			}
		}
		n := s.lookups.queries.Load()
		t.Logf("%d requests of %d tokens (and one unknown) cost %d queries", members*tries+1, members, n)
		if n >= members*tries {
			t.Errorf("%d queries for %d requests: look-ups did not share queries", n, members*tries+1)
		}
	})
}
