// Package apperr carries the client contract's error codes through the
// domain packages. A domain package returns an *Error (possibly wrapped); the
// GraphQL error presenter finds it with errors.As and puts its code into
// extensions.code. Anything else reaching the presenter is an internal error.
package apperr

import (
	"errors"
	"fmt"
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
	Code    Code
	Message string
	// Field names the input field at fault, when there is one.
	Field string
}

func (e *Error) Error() string { return e.Message }

// New returns an error with a code and a message for people.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadInput returns a BAD_USER_INPUT error about one input field.
func BadInput(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
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
