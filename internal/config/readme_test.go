package config

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table is this package's table: they cannot
// drift apart.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), Table()) {
		t.Fatalf("README.md's configuration table differs from config.Table(); paste this in:\n%s", Table())
	}
}
