// Package harness runs the mall as it runs in production, for fault and
// chaos tests and the load tool: the real server binary as separate
// processes (started, killed with SIGKILL, restarted), a PostgreSQL cluster
// of its own (initdb, pg_ctl), databases created and migrated for one run,
// GraphQL over plain HTTP, and members and sales made straight in the
// database so that thousands of them cost seconds. Nothing here imports
// testing: the tests wrap these functions, and mallbench uses them as they
// are.
package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// SecretKey is every instance's SECRET_KEY (instances on one database must
// share it).
const SecretKey = "faulttest-secret-key-0123456789"

// ModuleRoot is the directory of the module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(mod), nil
}

// Build compiles the server (package unionmall) into dir with the build
// tags given and returns the binary's path.
func Build(dir string, tags ...string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	name := "unionmall"
	if len(tags) > 0 {
		name += "-" + strings.Join(tags, "-")
	}
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, "unionmall")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build unionmall (tags %q): %v\n%s", tags, err, out)
	}
	return bin, nil
}
