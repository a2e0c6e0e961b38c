// Package orders holds the order's life: placing, paying, shipping,
// completing, cancelling, refunding and expiring, and what each gives back.
package orders

import (
	"slices"

	"unionmall/ent/order"
	"unionmall/internal/apperr"
)

// Action is something done to an order.
type Action string

// The actions of the contract's mutations, and the expiry worker's.
const (
	Pay        Action = "pay"
	Cancel     Action = "cancel"
	Expire     Action = "expire"
	SetAddress Action = "set the shipping address of"
	Ship       Action = "ship"
	Complete   Action = "complete"
	Refund     Action = "refund"
)

// transitions lists, for each action, the states it applies to and the
// state it leads to. Anything not listed is INVALID_STATE.
var transitions = map[Action]struct {
	from []order.Status
	to   order.Status // "" keeps the state
}{
	Pay:        {[]order.Status{order.StatusPENDING_PAYMENT}, order.StatusPAID},
	Cancel:     {[]order.Status{order.StatusPENDING_PAYMENT}, order.StatusCANCELLED},
	Expire:     {[]order.Status{order.StatusPENDING_PAYMENT}, order.StatusEXPIRED},
	SetAddress: {[]order.Status{order.StatusPENDING_PAYMENT, order.StatusPAID}, ""},
	Ship:       {[]order.Status{order.StatusPAID}, order.StatusSHIPPED},
	Complete:   {[]order.Status{order.StatusSHIPPED}, order.StatusCOMPLETED},
	Refund:     {[]order.Status{order.StatusPAID, order.StatusSHIPPED, order.StatusCOMPLETED}, order.StatusREFUNDED},
}

// Next is the state an order in from reaches by a, or INVALID_STATE.
func Next(from order.Status, a Action) (order.Status, error) {
	t, ok := transitions[a]
	if !ok || !slices.Contains(t.from, from) {
		return "", apperr.New(apperr.InvalidState, "cannot %s an order that is %s", a, from)
	}
	if t.to == "" {
		return from, nil
	}
	return t.to, nil
}

// From lists the states from which a is allowed, for conditional updates.
func From(a Action) []order.Status { return transitions[a].from }

// Live reports whether an order in s holds stock, flash-sale units and its
// coupon: awaiting payment, paid, shipped or completed.
func Live(s order.Status) bool {
	switch s {
	case order.StatusPENDING_PAYMENT, order.StatusPAID, order.StatusSHIPPED, order.StatusCOMPLETED:
		return true
	}
	return false
}

// Paid reports whether an order in s counts as online procurement.
func Paid(s order.Status) bool { return Live(s) && s != order.StatusPENDING_PAYMENT }
