package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// The README's Layout section has one line per package of the module
// (path with a trailing slash, then what it holds) and lines for some
// top-level files. TestReadmeLayout keeps it true: every package that
// `go list ./...` reports has its line, every line names a package that
// exists (or a file that exists), and no path is listed twice.
//
// Packages that ent generates from ent/schema (ent/<entity>, ent/hook,
// ent/migrate, ...) share the one line of ent/; the module's root package
// is the line of server.go.

const modulePath = "unionmall"

// layoutColumn is the width of a layout line's path field, after its four
// spaces of indent: the description starts there.
const layoutColumn = 25

// layoutLine is one line of the Layout section.
type layoutLine struct {
	path string // as written: "internal/db/", "server.go"
	text string // the whole line, as written
	n    int    // line number in README.md
}

// readmeLayout reads the indented block of README.md's "## Layout" section.
func readmeLayout(t *testing.T) []layoutLine {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var (
		out     []layoutLine
		in      bool
		found   bool
		scanner = bufio.NewScanner(bytes.NewReader(b))
	)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Layout"
			found = found || in
			continue
		}
		if !in || !strings.HasPrefix(line, "    ") || strings.TrimSpace(line) == "" {
			continue
		}
		path, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		out = append(out, layoutLine{path: path, text: line, n: n})
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatal(`README.md has no "## Layout" section`)
	}
	if len(out) == 0 {
		t.Fatal(`README.md's "## Layout" section has no indented lines`)
	}
	return out
}

// goPackage is one package that `go list` reports, by its directory
// relative to the module root ("" for the root) and its doc synopsis.
type goPackage struct {
	dir, doc string
}

// listPackages runs `go list ./...` in the module root (the test's
// directory). -e keeps a package that does not build (someone is in the
// middle of changing it) in the list instead of failing here.
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-e", "-f", "{{.ImportPath}}\t{{.Doc}}", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	for line := range strings.Lines(string(out)) {
		importPath, doc, _ := strings.Cut(strings.TrimRight(line, "\n"), "\t")
		dir, ok := strings.CutPrefix(importPath, modulePath+"/")
		if importPath == modulePath {
			dir, ok = "", true
		}
		if !ok {
			t.Fatalf("go list reported %q, outside module %s", importPath, modulePath)
		}
		pkgs = append(pkgs, goPackage{dir: dir, doc: doc})
	}
	if len(pkgs) == 0 {
		t.Fatal("go list ./... reported no packages")
	}
	return pkgs
}

// generatedByEnt reports whether dir is one of the packages ent generates
// under ent/ (all but ent/schema, which we write, and ent itself, which
// has its own line).
func generatedByEnt(dir string) bool {
	rest, ok := strings.CutPrefix(dir, "ent/")
	return ok && rest != "schema" && !strings.HasPrefix(rest, "schema/")
}

// suggestLine is the layout line to add for a package: its path, and what
// it holds taken from its package comment ("Package x holds y." → "holds
// y"), to be edited down to a few words.
func suggestLine(p goPackage) string {
	what := "<what it holds, in a few words>"
	if doc := strings.TrimSpace(p.doc); doc != "" {
		name := p.dir[strings.LastIndex(p.dir, "/")+1:]
		for _, prefix := range []string{"Package " + name + " ", "Command " + name + " "} {
			doc = strings.TrimPrefix(doc, prefix)
		}
		what = strings.TrimSuffix(strings.TrimSuffix(doc, "."), ":")
	}
	return layoutEntry(p.dir+"/", what)
}

// layoutEntry is a layout line: four spaces, the path, the description
// from layoutColumn on (or after one space, for a longer path).
func layoutEntry(path, what string) string {
	return "    " + path + strings.Repeat(" ", max(layoutColumn-len(path), 1)) + what
}

func TestReadmeLayout(t *testing.T) {
	lines := readmeLayout(t)
	pkgs := listPackages(t)

	byDir := map[string]goPackage{}
	for _, p := range pkgs {
		byDir[p.dir] = p
	}
	listed := map[string]layoutLine{}
	for _, l := range lines {
		if prev, dup := listed[l.path]; dup {
			t.Errorf("README.md:%d lists %s again (first at line %d); delete this line:\n%s", l.n, l.path, prev.n, l.text)
			continue
		}
		listed[l.path] = l
		dir, isDir := strings.CutSuffix(l.path, "/")
		switch {
		case !isDir:
			if _, err := os.Stat(l.path); err != nil {
				t.Errorf("README.md:%d lists the file %s, which does not exist; delete this line:\n%s", l.n, l.path, l.text)
			}
		case generatedByEnt(dir):
			t.Errorf("README.md:%d lists %s, which ent generates (the ent/ line covers it); delete this line:\n%s", l.n, l.path, l.text)
		default:
			if _, ok := byDir[dir]; !ok {
				t.Errorf("README.md:%d lists package %s, which `go list ./...` does not report (gone or renamed?); delete this line:\n%s", l.n, l.path, l.text)
			}
		}
	}

	var missing []goPackage
	for _, p := range pkgs {
		switch {
		case p.dir == "":
			if _, ok := listed["server.go"]; !ok {
				t.Errorf("README.md's Layout section has no line for the root package; add this line:\n%s",
					layoutEntry("server.go", "package main: config, open the database, migrate, serve, shut down gracefully"))
			}
		case generatedByEnt(p.dir):
			if _, ok := listed["ent/"]; !ok {
				missing = append(missing, goPackage{dir: "ent", doc: "generated by ent from ent/schema"})
			}
		default:
			if _, ok := listed[p.dir+"/"]; !ok {
				missing = append(missing, p)
			}
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].dir < missing[j].dir })
	seen := map[string]bool{}
	for _, p := range missing {
		if seen[p.dir] {
			continue
		}
		seen[p.dir] = true
		t.Errorf("README.md's Layout section has no line for package %s/; add this line (then shorten the description to what the package holds):\n%s", p.dir, suggestLine(p))
	}
}

func TestSuggestLine(t *testing.T) {
	for _, c := range []struct {
		p    goPackage
		want string
	}{
		{goPackage{"internal/orderstate", "Package orderstate holds the states of an order."},
			"    internal/orderstate/     holds the states of an order"},
		{goPackage{"internal/nodoc", ""},
			"    internal/nodoc/          <what it holds, in a few words>"},
		{goPackage{"cmd/tool", "Command tool loads a server, one command per scenario:"},
			"    cmd/tool/                loads a server, one command per scenario"},
	} {
		if got := suggestLine(c.p); got != c.want {
			t.Errorf("suggestLine(%v):\n got %q\nwant %q", c.p, got, c.want)
		}
	}
}
