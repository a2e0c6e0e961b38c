// Package scalar holds GraphQL scalars that bind to types we do not own.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"unionmall/internal/apperr"
)

// Layout is how every Time is served: RFC 3339 in UTC with exactly three
// fraction digits (2026-12-01T10:00:00.000Z). One fixed width, so served
// times sort as strings and clients parse one shape; milliseconds because
// PostgreSQL keeps microseconds and SQLite nanoseconds, and JavaScript's
// Date holds milliseconds.
const Layout = "2006-01-02T15:04:05.000Z"

// MarshalTime writes t in Layout, truncated (never rounded up, so a
// served time is never later than the stored one).
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(Format(t)))
	})
}

// Format is t as MarshalTime writes it, without the quotes.
func Format(t time.Time) string { return t.UTC().Format(Layout) }

// UnmarshalTime reads any RFC 3339 string with an offset (any fraction
// digits, or none), kept at full precision in UTC.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.BadInput("", "a time must be an RFC 3339 string, not %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.BadInput("", "%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}
