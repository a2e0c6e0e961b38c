package harness

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// InstanceConfig is how to run one server process.
type InstanceConfig struct {
	Name        string
	Bin         string // the server binary (Build)
	DatabaseURL string
	// Env is added after the defaults (ADDR, DATABASE_URL, SECRET_KEY,
	// DEMO_DATA=false, LOG_LEVEL=info, PAYMENT_WINDOW=15m, no admin, no
	// debug listener), so it may override them.
	Env    []string
	LogDir string // where its logs go, one file per start
}

// Instance is one server process, which may be killed and started again
// on the same address.
type Instance struct {
	Name string
	URL  string // http://127.0.0.1:port
	cfg  InstanceConfig
	port int

	mu   sync.Mutex
	proc *process
	logs []string // one per start, oldest first
}

// process is one start of an instance.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done
}

// ErrNotReady is the error of a start whose /readyz did not answer 200 in
// time.
var ErrNotReady = errors.New("not ready")

// StartInstance runs the server and waits until /readyz answers 200 (at
// most timeout). On a port taken meanwhile it tries another one. When it
// fails, the instance it returns (if any) holds the log.
func StartInstance(cfg InstanceConfig, timeout time.Duration) (*Instance, error) {
	var last *Instance
	for try := 1; try <= 3; try++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		in := &Instance{Name: cfg.Name, URL: fmt.Sprintf("http://127.0.0.1:%d", port), cfg: cfg, port: port}
		err = in.start(timeout)
		if err == nil {
			return in, nil
		}
		last = in
		if !strings.Contains(in.LogTail(4000), "address already in use") {
			return in, fmt.Errorf("instance %s: %w", cfg.Name, err)
		}
	}
	return last, fmt.Errorf("instance %s: its port was taken three times", cfg.Name)
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (in *Instance) start(timeout time.Duration) error {
	in.mu.Lock()
	logPath := filepath.Join(in.cfg.LogDir, fmt.Sprintf("%s-%d-%d.log", in.Name, in.port, len(in.logs)+1))
	logFile, err := os.Create(logPath)
	if err != nil {
		in.mu.Unlock()
		return err
	}
	cmd := exec.Command(in.cfg.Bin)
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("ADDR=127.0.0.1:%d", in.port),
		"DATABASE_URL="+in.cfg.DatabaseURL,
		// Several instances and the tests of other packages share one
		// PostgreSQL (max_connections 100 by default).
		"DATABASE_MAX_CONNS=16",
		"SECRET_KEY="+SecretKey,
		"DEMO_DATA=false",
		"LOG_LEVEL=info",
		"PAYMENT_WINDOW=15m",
		"ADMIN_PHONE=",
		"ADMIN_PASSWORD=",
		"DEBUG_ADDR=",
	)
	cmd.Env = append(cmd.Env, in.cfg.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		in.mu.Unlock()
		return fmt.Errorf("start %s: %w", in.Name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	in.proc = p
	in.logs = append(in.logs, logPath)
	in.mu.Unlock()
	if err := in.WaitReady(timeout); err != nil {
		in.Stop(time.Second)
		return err
	}
	return nil
}

// current is the current process; one that has exited when the instance
// never started.
func (in *Instance) current() *process {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc == nil {
		p := &process{done: make(chan struct{}), err: errors.New("never started")}
		close(p.done)
		return p
	}
	return in.proc
}

// Done is closed when the current process has exited.
func (in *Instance) Done() <-chan struct{} { return in.current().done }

// Err is how the current process ended (nil while it runs).
func (in *Instance) Err() error {
	p := in.current()
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Running reports whether the current process has not exited.
func (in *Instance) Running() bool {
	select {
	case <-in.Done():
		return false
	default:
		return true
	}
}

// WaitReady polls /readyz until it answers 200.
func (in *Instance) WaitReady(timeout time.Duration) error {
	p := in.current()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("exited before becoming ready: %v", p.err)
		default:
		}
		if code, _ := Readyz(in.URL); code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s", ErrNotReady, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill ends the process with SIGKILL (kill -9) and waits for it.
func (in *Instance) Kill() error {
	p := in.current()
	if p.cmd == nil {
		return fmt.Errorf("kill -9 %s: %w", in.Name, p.err)
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill -9 %s: %w", in.Name, err)
	}
	<-p.done
	return nil
}

// Restart starts the (exited) instance again on the same address and waits
// until it is ready.
func (in *Instance) Restart(timeout time.Duration) error {
	if in.Running() {
		return fmt.Errorf("restart %s: it is still running", in.Name)
	}
	if err := in.start(timeout); err != nil {
		return fmt.Errorf("restart %s: %w", in.Name, err)
	}
	return nil
}

// Stop sends SIGTERM and waits, then SIGKILL.
func (in *Instance) Stop(grace time.Duration) {
	p := in.current()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// LogTail is the end (at most max bytes) of the instance's logs, every
// start's in turn.
func (in *Instance) LogTail(max int) string {
	in.mu.Lock()
	paths := append([]string(nil), in.logs...)
	in.mu.Unlock()
	var b strings.Builder
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(&b, "(no log %s: %v)\n", p, err)
			continue
		}
		if len(paths) > 1 {
			fmt.Fprintf(&b, "---- start %d of %s ----\n", i+1, in.Name)
		}
		b.Write(data)
	}
	s := b.String()
	if len(s) > max {
		s = "...\n" + s[len(s)-max:]
	}
	return s
}
