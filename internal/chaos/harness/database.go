package harness

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"

	_ "github.com/lib/pq" // PostgreSQL, registered as "postgres"
)

// WithDatabase returns the PostgreSQL URL base with its database name
// replaced (and no search_path).
func WithDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", base, err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// CreateDatabase creates a database named prefix_<random> on base's server
// and returns its URL and a function that drops it (WITH (FORCE): servers
// may still hold connections).
func CreateDatabase(base, prefix string) (dbURL string, drop func() error, err error) {
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop = func() error {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	if dbURL, err = WithDatabase(base, name); err != nil {
		_ = drop()
		return "", nil, err
	}
	return dbURL, drop, nil
}

// Migrate applies the schema with the server's own `migrate up`.
func Migrate(bin, dbURL string) error {
	cmd := exec.Command(bin, "migrate", "up")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SECRET_KEY="+SecretKey)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("unionmall migrate up: %v\n%s", err, out)
	}
	return nil
}
