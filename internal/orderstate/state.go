// Package orderstate is the order's state machine: which action leads from
// which state to which, which states hold what an order took (live) and
// count as bought (paid), and when an order must be paid. It sits below
// orders, flashsales and stats, which all ask it.
package orderstate

import (
	"slices"
	"time"

	"unionmall/ent/order"
	"unionmall/ent/predicate"
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
func From(a Action) []order.Status { return slices.Clone(transitions[a].from) }

// liveStatuses hold stock, flash-sale units and the order's coupon.
var liveStatuses = []order.Status{
	order.StatusPENDING_PAYMENT, order.StatusPAID, order.StatusSHIPPED, order.StatusCOMPLETED,
}

// Live reports whether an order in s holds stock, flash-sale units and its
// coupon: awaiting payment, paid, shipped or completed.
func Live(s order.Status) bool { return slices.Contains(liveStatuses, s) }

// Paid reports whether an order in s counts as bought (online procurement,
// sold counts, a redeemed coupon): live and no longer awaiting payment. A
// refund takes it out again.
func Paid(s order.Status) bool { return Live(s) && s != order.StatusPENDING_PAYMENT }

// Shipped reports whether an order in s has left the warehouse, so that
// its units do not go back to stock when it stops being live.
func Shipped(s order.Status) bool { return s == order.StatusSHIPPED || s == order.StatusCOMPLETED }

// LiveStatuses lists the states for which Live holds, for queries.
func LiveStatuses() []order.Status { return slices.Clone(liveStatuses) }

// PaidStatuses lists the states for which Paid holds, for queries.
func PaidStatuses() []order.Status {
	return slices.DeleteFunc(LiveStatuses(), func(s order.Status) bool { return !Paid(s) })
}

// PayBy is when an order placed at now must be paid: window
// (PAYMENT_WINDOW) later.
func PayBy(now time.Time, window time.Duration) time.Time { return now.Add(window) }

// Overdue reports whether the payment deadline payBy has passed at now:
// from the deadline on, the order can no longer be paid and expires. An
// order without a deadline is never overdue.
func Overdue(payBy *time.Time, now time.Time) bool { return payBy != nil && !now.Before(*payBy) }

// Due is Overdue's query: orders awaiting payment whose deadline has passed
// at now.
func Due(now time.Time) predicate.Order {
	return order.And(order.StatusEQ(order.StatusPENDING_PAYMENT), order.PayByLTE(now))
}
