package mask

import (
	"strings"
	"testing"
)

func TestPhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13800000000", "138****0000"},
		{"13912345678", "139****5678"},
		{"", ""},
		{"1", "*"},
		{"1380000000", strings.Repeat("*", 10)},   // 10 digits
		{"138000000000", strings.Repeat("*", 12)}, // 12 digits
		{"+8613800000000", strings.Repeat("*", 14)},
	} {
		if got := Phone(c.in); got != c.want {
			t.Errorf("Phone(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"张三", "张*"},
		{"李小龙", "李**"},
		{"欧阳娜娜", "欧***"},
		{"王", "*"},
		{"", ""},
		{"Li", "L*"},
		{"阿卜杜·热合曼", "阿******"},
	} {
		if got := Name(c.in); got != c.want {
			t.Errorf("Name(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestValidPhone(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"13800000000", true},
		{"19999999999", true},
		{"10000000000", true},
		{"23800000000", false}, // first digit not 1
		{"03800000000", false},
		{"1380000000", false},   // 10 digits
		{"138000000000", false}, // 12 digits
		{"", false},
		{"1", false},
		{"1380000000a", false},
		{"138-0000-00", false},
		{" 1380000000", false},
		{"1380000000 ", false},
		{"+8613800000000", false},
		{"１３８００００００００", false}, // full-width digits
		{"1３8000000", false},   // 11 bytes with a full-width digit
	} {
		if got := ValidPhone(c.in); got != c.want {
			t.Errorf("ValidPhone(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
