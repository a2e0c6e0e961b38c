package scalar

import (
	"bytes"
	"testing"
	"time"
)

func TestMarshalTime(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"whole seconds get three zeros", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), `"2026-12-01T10:00:00.000Z"`},
		{"nanoseconds are truncated", time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC), `"2026-12-01T10:00:00.123Z"`},
		{"never rounded up", time.Date(2026, 12, 1, 23, 59, 59, 999999999, time.UTC), `"2026-12-01T23:59:59.999Z"`},
		{"microseconds (PostgreSQL)", time.Date(2026, 12, 1, 10, 0, 0, 120000, time.UTC), `"2026-12-01T10:00:00.000Z"`},
		{"another zone is served in UTC", time.Date(2026, 12, 1, 18, 0, 0, 5e8, shanghai), `"2026-12-01T10:00:00.500Z"`},
		{"the zero time", time.Time{}, `"0001-01-01T00:00:00.000Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			MarshalTime(tt.in).MarshalGQL(&b)
			if b.String() != tt.want {
				t.Fatalf("got %s, want %s", b.String(), tt.want)
			}
		})
	}
}

func TestUnmarshalTime(t *testing.T) {
	tests := []struct {
		in      any
		want    time.Time
		wantErr bool
	}{
		{"2026-12-01T10:00:00Z", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), false},
		{"2026-12-01T10:00:00.000Z", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), false},
		{"2026-12-01T10:00:00.123456789Z", time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC), false},
		{"2026-12-01T18:00:00+08:00", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), false},
		{"2026-12-01T10:00:00.5-01:30", time.Date(2026, 12, 1, 11, 30, 0, 5e8, time.UTC), false},
		{"2026-12-01 10:00:00", time.Time{}, true},
		{"2026-12-01T10:00:00", time.Time{}, true}, // no offset
		{"2026-12-01", time.Time{}, true},
		{1764583200, time.Time{}, true},
		{nil, time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := UnmarshalTime(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v: err %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (!got.Equal(tt.want) || got.Location() != time.UTC) {
			t.Errorf("%v: got %v, want %v in UTC", tt.in, got, tt.want)
		}
	}
}

// What is served reads back as the same instant at millisecond precision.
func TestTimeRoundTrip(t *testing.T) {
	in := time.Date(2026, 12, 1, 10, 0, 0, 987654321, time.UTC)
	got, err := UnmarshalTime(Format(in))
	if err != nil || !got.Equal(in.Truncate(time.Millisecond)) {
		t.Fatalf("got %v %v", got, err)
	}
}
