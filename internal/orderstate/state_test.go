package orderstate

import (
	"slices"
	"testing"
	"time"

	"unionmall/ent/order"
	"unionmall/internal/apperr"
)

// Every action from every state: the allowed ones lead where the contract
// says, every other is INVALID_STATE.
func TestTransitions(t *testing.T) {
	const (
		P  = order.StatusPENDING_PAYMENT
		Pd = order.StatusPAID
		S  = order.StatusSHIPPED
		C  = order.StatusCOMPLETED
		X  = order.StatusCANCELLED
		E  = order.StatusEXPIRED
		R  = order.StatusREFUNDED
	)
	allowed := map[Action]map[order.Status]order.Status{
		Pay:        {P: Pd},
		Cancel:     {P: X},
		Expire:     {P: E},
		SetAddress: {P: P, Pd: Pd},
		Ship:       {Pd: S},
		Complete:   {S: C},
		Refund:     {Pd: R, S: R, C: R},
	}
	for _, a := range []Action{Pay, Cancel, Expire, SetAddress, Ship, Complete, Refund} {
		for _, from := range []order.Status{P, Pd, S, C, X, E, R} {
			got, err := Next(from, a)
			want, ok := allowed[a][from]
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("%s from %s = %s, %v; want %s", a, from, got, err, want)
			case !ok && apperr.CodeOf(err) != apperr.InvalidState:
				t.Errorf("%s from %s = %s, %v; want INVALID_STATE", a, from, got, err)
			}
		}
	}
}

func TestLiveAndPaid(t *testing.T) {
	tests := []struct {
		s          order.Status
		live, paid bool
	}{
		{order.StatusPENDING_PAYMENT, true, false},
		{order.StatusPAID, true, true},
		{order.StatusSHIPPED, true, true},
		{order.StatusCOMPLETED, true, true},
		{order.StatusCANCELLED, false, false},
		{order.StatusEXPIRED, false, false},
		{order.StatusREFUNDED, false, false},
	}
	for _, tt := range tests {
		if Live(tt.s) != tt.live || Paid(tt.s) != tt.paid {
			t.Errorf("%s: live %v paid %v", tt.s, Live(tt.s), Paid(tt.s))
		}
	}
}

// The lists for queries hold exactly the states the predicates accept.
func TestStatusLists(t *testing.T) {
	all := []order.Status{order.StatusPENDING_PAYMENT, order.StatusPAID, order.StatusSHIPPED,
		order.StatusCOMPLETED, order.StatusCANCELLED, order.StatusEXPIRED, order.StatusREFUNDED}
	for _, s := range all {
		if slices.Contains(LiveStatuses(), s) != Live(s) {
			t.Errorf("%s: LiveStatuses and Live disagree", s)
		}
		if slices.Contains(PaidStatuses(), s) != Paid(s) {
			t.Errorf("%s: PaidStatuses and Paid disagree", s)
		}
	}
}

func TestPaymentDeadline(t *testing.T) {
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	payBy := PayBy(now, 15*time.Minute)
	if want := now.Add(15 * time.Minute); !payBy.Equal(want) {
		t.Fatalf("PayBy = %s, want %s", payBy, want)
	}
	for _, tt := range []struct {
		at      time.Time
		overdue bool
	}{
		{payBy.Add(-time.Nanosecond), false},
		{payBy, true},
		{payBy.Add(time.Second), true},
	} {
		if got := Overdue(&payBy, tt.at); got != tt.overdue {
			t.Errorf("Overdue at %s = %v, want %v", tt.at, got, tt.overdue)
		}
	}
	if Overdue(nil, now) {
		t.Error("an order without a deadline is overdue")
	}
}
