// Package mask hides personal data from those who may not see it in full.
package mask

import "strings"

// ValidPhone reports whether s is a mainland mobile number: 11 digits, the
// first a 1.
func ValidPhone(s string) bool {
	if len(s) != 11 || s[0] != '1' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Phone masks the middle four digits of a mobile number: 138****0000.
func Phone(s string) string {
	if len(s) != 11 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + "****" + s[7:]
}

// Name keeps a name's first character and stars the rest: 张*, 欧***.
func Name(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	if len(r) == 1 {
		return "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}
