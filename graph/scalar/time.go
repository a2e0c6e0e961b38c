// Package scalar holds GraphQL scalars that bind to types we do not own.
package scalar

import (
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"unionmall/internal/apperr"
)

// MarshalTime writes t as RFC 3339 in UTC, as the contract serves times.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339Nano)))
	})
}

// UnmarshalTime reads an RFC 3339 string with an offset.
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
