// Package apperr carries the client contract's error codes through the
// domain packages. A domain package returns an *Error (possibly wrapped); the
// GraphQL error presenter finds it with errors.As and puts its code into
// extensions.code. Anything else reaching the presenter is an internal error.
//
// Messages are written in English, as format strings that are literals (or
// constants): the format is also the key of its Chinese form in zh.go, and
// the presenter answers in the caller's language (In). catalog_test.go
// fails for a format that has no Chinese form.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is one of the contract's extensions.code values.
type Code string

// The contract's codes (../shared/contract/README.md, Errors).
const (
	Unauthenticated      Code = "UNAUTHENTICATED"
	Forbidden            Code = "FORBIDDEN"
	NotVerified          Code = "NOT_VERIFIED"
	BadUserInput         Code = "BAD_USER_INPUT"
	NotFound             Code = "NOT_FOUND"
	InvalidCredentials   Code = "INVALID_CREDENTIALS"
	PhoneTaken           Code = "PHONE_TAKEN"
	InvalidState         Code = "INVALID_STATE"
	RateLimited          Code = "RATE_LIMITED"
	OutOfStock           Code = "OUT_OF_STOCK"
	SoldOut              Code = "SOLD_OUT"
	LimitExceeded        Code = "LIMIT_EXCEEDED"
	NotStarted           Code = "NOT_STARTED"
	Ended                Code = "ENDED"
	AlreadyClaimed       Code = "ALREADY_CLAIMED"
	QuotaExhausted       Code = "QUOTA_EXHAUSTED"
	CouponNotApplicable  Code = "COUPON_NOT_APPLICABLE"
	CouponUnavailable    Code = "COUPON_UNAVAILABLE"
	ProductUnavailable   Code = "PRODUCT_UNAVAILABLE"
	TooManySubscriptions Code = "TOO_MANY_SUBSCRIPTIONS"
	// Internal is never sent with details; the presenter logs the cause.
	Internal Code = "INTERNAL_SERVER_ERROR"
)

// Error is a refusal that a client can act on.
type Error struct {
	Code Code
	// Message is the English text (logs, Error()); In gives it in a language.
	Message string
	// Field names the input field at fault, when there is one (the first
	// of Fields when an input had several).
	Field string
	// Fields are every bad field of one input (see Problems); empty for an
	// error about one field or none.
	Fields []*Error
	// RetryAfter, for RATE_LIMITED, is how long the caller should wait.
	RetryAfter time.Duration

	format string
	args   []any
}

func (e *Error) Error() string { return e.Message }

// New returns an error with a code and a message for people. The format
// must be a literal or a constant (the catalog's key).
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), format: format, args: args}
}

// BadInput returns a BAD_USER_INPUT error about one input field.
func BadInput(field, format string, args ...any) *Error {
	e := New(BadUserInput, format, args...)
	e.Field = field
	return e
}

// Limited returns a RATE_LIMITED error: the caller may try again after
// retry (a second when retry is not above zero: the caller must wait some).
func Limited(retry time.Duration, format string, args ...any) *Error {
	return New(RateLimited, format, args...).After(retry)
}

// After returns a copy of e that may be retried after d, at least a
// second (for refusals declared once as variables).
func (e *Error) After(d time.Duration) *Error {
	c := *e
	c.RetryAfter = max(d, time.Second)
	return &c
}

// RetrySeconds is RetryAfter in whole seconds, rounded up, at least 1
// (Retry-After has no fractions); 0 when the error has no RetryAfter.
func (e *Error) RetrySeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return max(int((e.RetryAfter+time.Second-1)/time.Second), 1)
}

// In returns the message in lang.
func (e *Error) In(lang Lang) string {
	if len(e.Fields) > 0 {
		sep := "；"
		if lang == English {
			sep = "; "
		}
		out := ""
		for i, f := range e.Fields {
			if i > 0 {
				out += sep
			}
			out += f.In(lang)
		}
		return out
	}
	if e.format == "" {
		return e.Message
	}
	return translate(lang, e.format, e.args)
}

// CodeOf returns the contract code carried by err, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }
