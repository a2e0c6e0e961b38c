package main

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"unionmall/internal/chaos/harness"
)

// PostGraphile v4 is the reference of the products page. Its package.json
// and package-lock.json are part of mallbench, so that the version measured
// is the one locked here: npm ci installs exactly it, once, into a cache
// directory, and nothing is downloaded at run time after that.
var (
	//go:embed postgraphile/package.json
	pgPackageJSON []byte
	//go:embed postgraphile/package-lock.json
	pgPackageLock []byte
)

// postgraphileArgs are the options a production user sets (PostGraphile's
// "production" recommendations for v4): no per-query log line, no GraphiQL,
// JSON returned as JSON, setof functions without nulls, the database's
// grants respected, only the modern relation names, and retries while
// PostgreSQL is not up yet. No --watch: it costs nothing per request but
// needs a superuser's event triggers.
var postgraphileArgs = []string{
	"--disable-query-log", "--disable-graphiql", "--dynamic-json",
	"--no-setof-functions-contain-nulls", "--no-ignore-rbac",
	"--legacy-relations", "omit", "--retry-on-init-fail",
}

// postgraphileDir returns a directory holding the locked PostGraphile in
// node_modules, running npm ci into the cache directory when it is not
// there yet. dir, when given, is used as it is.
func postgraphileDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	cache, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(pgPackageLock)
	dir = filepath.Join(cache, "unionmall-mallbench", "postgraphile-4-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(postgraphileBin(dir)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "installing-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{"package.json": pgPackageJSON, "package-lock.json": pgPackageLock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(os.Stderr, "catalog: installing PostGraphile into %s (npm ci)\n", dir)
	cmd := exec.Command("npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci (PostGraphile): %v\n%s", err, out)
	}
	// Another mallbench may have installed it meanwhile: theirs is as good.
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(postgraphileBin(dir)); serr != nil {
			return "", err
		}
	}
	return dir, nil
}

func postgraphileBin(dir string) string {
	return filepath.Join(dir, "node_modules", ".bin", "postgraphile")
}

// postgraphile is a running PostGraphile.
type postgraphile struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// startPostGraphile runs PostGraphile on the database (schema public) at
// 127.0.0.1:port with workers cluster workers (1: none) of pool
// connections each, logging into
// logDir, and waits until it answers { __typename }.
func startPostGraphile(dir, dbURL string, port, workers, pool int, logDir string) (*postgraphile, error) {
	if port == 0 {
		p, err := harness.FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	args := append([]string{"-c", dbURL, "-s", "public", "-n", "127.0.0.1", "-p", strconv.Itoa(port),
		"--max-pool-size", strconv.Itoa(pool)}, postgraphileArgs...)
	if workers > 1 {
		args = append(args, "--cluster-workers", strconv.Itoa(workers))
	}
	logPath := filepath.Join(logDir, fmt.Sprintf("postgraphile-%d.log", port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(postgraphileBin(dir), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "NODE_ENV=production")
	// Its own process group: the cluster's workers are stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start PostGraphile: %w", err)
	}
	pg := &postgraphile{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(pg.done)
	}()
	if err := pg.waitReady(60 * time.Second); err != nil {
		pg.Stop()
		b, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("PostGraphile: %w\n%s", err, b)
	}
	return pg, nil
}

func (pg *postgraphile) waitReady(timeout time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-pg.done:
			return errors.New("exited before answering")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := harness.PostBody(ctx, c, pg.URL+"/graphql", "", "", body(`{ __typename }`, nil))
		cancel()
		if err == nil && r.Status == http.StatusOK && r.Code() == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after %s (last: %v)", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop ends PostGraphile and its workers (SIGTERM to the group, SIGKILL
// after 5 s).
func (pg *postgraphile) Stop() {
	pgid := -pg.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-pg.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-pg.done
	}
}
