package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// ErrUnavailable wraps the reasons a PostgreSQL cluster cannot be run here
// (no initdb or pg_ctl, root without a postgres user to run them as): a
// test skips on it.
var ErrUnavailable = errors.New("cannot run a PostgreSQL cluster here")

// Cluster is a PostgreSQL cluster run with pg_ctl: one of our own (made by
// NewCluster with initdb, removed by Close) or an existing one
// (ExistingCluster), which can be stopped and started again to restart
// PostgreSQL under running servers. initdb and pg_ctl refuse to run as
// root, so as root they run as the postgres user.
type Cluster struct {
	bin    string // directory of initdb and pg_ctl
	dir    string // ours: the temporary directory holding data, socket and log
	data   string
	opts   string // postgres options for pg_ctl start ("" for an existing cluster: postmaster.opts)
	log    string
	port   int
	asUser string // "" to run as ourselves
	own    bool
}

// postgresBin finds the directory holding initdb and pg_ctl, or "".
func postgresBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest first
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// programs finds initdb and pg_ctl (their directory) and the user to run
// them as: "" when we may run them ourselves, postgres when we are root.
func programs() (bin, as string, err error) {
	if bin = postgresBin(); bin == "" {
		return "", "", fmt.Errorf("%w: initdb and pg_ctl not found (in PATH or /usr/lib/postgresql/*/bin)", ErrUnavailable)
	}
	if os.Geteuid() != 0 {
		return bin, "", nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return "", "", fmt.Errorf("%w: running as root and there is no postgres user to run initdb and pg_ctl as", ErrUnavailable)
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return "", "", fmt.Errorf("%w: running as root without runuser to run initdb and pg_ctl as postgres", ErrUnavailable)
	}
	return bin, "postgres", nil
}

// NewCluster runs initdb in a temporary directory and starts the cluster on
// a free port (fsync off, at most maxConnections clients). Close stops and
// removes it.
func NewCluster(maxConnections int) (*Cluster, error) {
	bin, as, err := programs()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mall-pg-")
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(dir, "sock")
	c := &Cluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log"),
		port: port, asUser: as, own: true,
		opts: fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=%d", port, socket, maxConnections)}
	if err := os.Mkdir(socket, 0o700); err != nil {
		c.Close()
		return nil, err
	}
	if as != "" {
		u, _ := user.Lookup(as)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{dir, socket} {
			if err := os.Chown(p, uid, gid); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", c.data, "-U", "postgres", "--auth=trust",
		"--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		c.Close()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := c.Start(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ExistingCluster is a cluster that runs already (started with pg_ctl),
// given by its data directory and port, for Restart.
func ExistingCluster(dataDir string, port int) (*Cluster, error) {
	bin, as, err := programs()
	if err != nil {
		return nil, err
	}
	return &Cluster{bin: bin, data: dataDir, port: port, asUser: as}, nil
}

// run runs a PostgreSQL program, as the postgres user when we are root.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", prog}, args...)...)
	} else {
		cmd = exec.Command(prog, args...)
	}
	cmd.Dir = os.TempDir()
	if c.dir != "" {
		cmd.Dir = c.dir
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func (c *Cluster) pgctl(args ...string) ([]byte, error) {
	return c.run(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.data}, args...)...)
}

// Start starts the cluster and waits until it accepts connections.
func (c *Cluster) Start() error {
	args := []string{"-w", "-t", "30"}
	if c.opts != "" {
		args = append(args, "-o", c.opts, "-l", c.log)
	}
	if out, err := c.pgctl(append(args, "start")...); err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	return nil
}

// Stop stops the cluster in fast mode (clients are disconnected at once).
func (c *Cluster) Stop() error {
	if out, err := c.pgctl("-m", "fast", "-w", "-t", "30", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Restart stops the cluster, keeps it down for down, and starts it again.
// It returns when it stopped and when it accepts connections again. An
// existing cluster is restarted by pg_ctl restart, which starts it with
// the options it ran with (down is then as short as pg_ctl makes it).
func (c *Cluster) Restart(down time.Duration) (stopped, back time.Time, err error) {
	if !c.own {
		// Its output goes to a file: a postmaster holding pg_ctl's stdout
		// would keep the pipe (and so this call) open for ever.
		c.log = filepath.Join(c.data, "chaos-restart.log")
		stopped = time.Now()
		if out, err := c.pgctl("-m", "fast", "-w", "-t", "30", "-l", c.log, "restart"); err != nil {
			return stopped, time.Time{}, fmt.Errorf("pg_ctl restart: %v\n%s", err, out)
		}
		return stopped, time.Now(), nil
	}
	if err := c.Stop(); err != nil {
		return time.Time{}, time.Time{}, err
	}
	stopped = time.Now()
	time.Sleep(down)
	if err := c.Start(); err != nil {
		return stopped, time.Time{}, err
	}
	return stopped, time.Now(), nil
}

// URL reaches database on the cluster.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, database)
}

// Port is the cluster's TCP port.
func (c *Cluster) Port() int { return c.port }

// Log is the server log of a cluster of our own, or of an existing one
// since Restart ("" before).
func (c *Cluster) Log() string {
	if c.log == "" {
		return ""
	}
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// Close stops a cluster of our own (immediate mode) and removes it; an
// existing cluster is left running.
func (c *Cluster) Close() {
	if !c.own {
		return
	}
	if _, err := os.Stat(filepath.Join(c.data, "postmaster.pid")); err == nil {
		_, _ = c.pgctl("-m", "immediate", "stop")
	}
	_ = os.RemoveAll(c.dir)
}
