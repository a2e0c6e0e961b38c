//go:build !race

package wsgorilla_test

const raceEnabled = false
