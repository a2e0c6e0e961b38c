package graph

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"unionmall/graph/model"
	"unionmall/internal/gid"
)

// An audit line's arguments stay small whatever the admin sent: long lists
// show their first items and their length, long strings are cut, and the
// whole is cut at auditArgsBytes; secrets are left out at any depth.
func TestRedactBoundsArguments(t *testing.T) {
	ids := make([]gid.ID, 5000)
	for i := range ids {
		ids[i] = gid.New(gid.Member)
	}
	many := map[string]any{}
	for i := range 40 {
		many[fmt.Sprintf("field%02d", i)] = strings.Repeat("x", 90)
	}
	tests := []struct {
		name    string
		args    map[string]any
		want    []string // in the JSON
		notWant []string
	}{
		{name: "5000 IDs",
			args:    map[string]any{"input": model.ReviewVerificationInput{MemberIDs: ids, Approve: true}},
			want:    []string{`"count":5000`, string(ids[0]), string(ids[4]), `"approve":true`},
			notWant: []string{string(ids[5]), string(ids[4999])}},
		{name: "a short list stays whole",
			args: map[string]any{"ids": []string{"a", "b", "c", "d", "e"}},
			want: []string{`"ids":["a","b","c","d","e"]`}},
		{name: "a long string is cut",
			args:    map[string]any{"reason": strings.Repeat("拒", 100) + strings.Repeat("绝", 100000)},
			want:    []string{`"reason":"` + strings.Repeat("拒", 100) + `…"`},
			notWant: []string{"绝"}},
		{name: "secrets inside lists are left out",
			args:    map[string]any{"input": map[string]any{"members": []any{map[string]any{"phone": "13800000000", "password": "hunter22", "idNumber": "610102199001011234"}}}},
			want:    []string{`"phone":"13800000000"`},
			notWant: []string{"hunter22", "610102199001011234"}},
		{name: "many fields are cut as a whole",
			args: map[string]any{"input": many},
			want: []string{`"truncated":`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(redact(tt.args))
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			if len(got) > auditArgsBytes+64 || !utf8.ValidString(got) {
				t.Fatalf("%d bytes (valid UTF-8: %v): %.300s", len(got), utf8.ValidString(got), got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %.80q in %.500s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("%.80q in %.500s", w, got)
				}
			}
		})
	}
}
