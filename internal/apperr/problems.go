package apperr

import "errors"

// Problems collects the refusals of one input, so that a form learns of
// every bad field at once (extensions.fields) instead of one per attempt.
// Checks that need the database come after Err is nil.
type Problems struct {
	bad   []*Error
	other error
}

// Add records err: a BAD_USER_INPUT error joins the list (all of its
// fields, if it carries several); any other error is kept, and the first
// of those is what Err returns, since it is not about the input's fields.
// A nil err is nothing.
func (p *Problems) Add(err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) && e.Code == BadUserInput {
		if len(e.Fields) > 0 {
			p.bad = append(p.bad, e.Fields...)
		} else {
			p.bad = append(p.bad, e)
		}
		return
	}
	if p.other == nil {
		p.other = err
	}
}

// Check adds err unless it is nil, and reports whether it was nil (to skip
// checks that depend on a bad value).
func (p *Problems) Check(err error) bool {
	p.Add(err)
	return err == nil
}

// Err returns nil when nothing was added, the one refusal when there was
// one, or a BAD_USER_INPUT error naming the first field and carrying all.
func (p *Problems) Err() error {
	switch {
	case p.other != nil:
		return p.other
	case len(p.bad) == 0:
		return nil
	case len(p.bad) == 1:
		return p.bad[0]
	}
	first := p.bad[0]
	msg := first.Message
	for _, e := range p.bad[1:] {
		msg += "; " + e.Message
	}
	return &Error{Code: BadUserInput, Field: first.Field, Fields: p.bad, Message: msg}
}
