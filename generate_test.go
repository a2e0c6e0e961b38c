package main

// Checks on the source tree itself, run by plain `go test ./...`:
//
//   - TestGeneratedCodeInSync: `go generate ./...` changes nothing. It
//     regenerates into a temporary copy of the module, so the working tree
//     is never touched. Warm it takes ~10 s of CPU; with a cold build cache
//     (entc and gqlgen are compiled first) over a minute, so -short skips it.
//   - TestLongFilesSayWhy: no hand-written non-test .go file passes
//     maxLines lines unless its opening comment says why.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestGeneratedCodeInSync(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: regenerating compiles entc and gqlgen (over a minute with a cold build cache)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	files, err := moduleFiles(".")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, f := range files {
		if err := copyFile(filepath.Join(tmp, f), f); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(goBin, "generate", "./...")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go generate ./... in a copy of the module: %v\n%s", err, out)
	}

	var diffs []string
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f] = true
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(tmp, f))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			diffs = append(diffs, "  deleted  "+f)
		case err != nil:
			t.Fatal(err)
		case !bytes.Equal(want, got):
			diffs = append(diffs, "  changed  "+f+": "+firstDifference(want, got))
		}
	}
	err = filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(tmp, path)
		if err == nil && !seen[filepath.ToSlash(rel)] {
			diffs = append(diffs, "  new      "+filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Fatalf("generated code is out of date: `go generate ./...` changes %d file(s):\n%s\n"+
			"run `go generate ./...` and commit the result", len(diffs), strings.Join(diffs, "\n"))
	}
}

// moduleFiles lists the module's files, slash-separated and relative to
// dir: with git, the tracked and untracked files it does not ignore (no
// databases, binaries or keys); without it, every file outside .git.
func moduleFiles(dir string) ([]string, error) {
	if out, err := exec.Command("git", "-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output(); err == nil {
		var files []string
		for f := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			// Tracked but deleted in the working tree: not part of it.
			if fi, err := os.Lstat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
				files = append(files, f)
			}
		}
		return files, nil
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
			return err
		}
		return nil
	})
	return files, err
}

func copyFile(dst, src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// firstDifference describes the first line where want and got differ.
func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; ; i++ {
		switch {
		case i >= len(w):
			return fmt.Sprintf("line %d added: %q", i+1, g[i])
		case i >= len(g):
			return fmt.Sprintf("line %d removed: %q", i+1, w[i])
		case w[i] != g[i]:
			return fmt.Sprintf("line %d is %q, regenerated %q", i+1, w[i], g[i])
		}
	}
}

// maxLines is the size from which a hand-written file must say why it is
// not split.
const maxLines = 400

// whyLong is what the opening comment of a longer file must say (with its
// reason after it): "This file is long because ...".
var whyLong = regexp.MustCompile(`(?i)\blong because\b`)

// TestLongFilesSayWhy: a hand-written non-test .go file of more than
// maxLines lines is split by concern, or its opening comment (the package
// doc, or a comment of its own above it) says why not, with the words "long
// because". Generated files (a "// Code generated ... DO NOT EDIT." line
// before the package clause) are not counted.
func TestLongFilesSayWhy(t *testing.T) {
	files, err := moduleFiles(".")
	if err != nil {
		t.Fatal(err)
	}
	var flagged []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") {
			continue
		}
		n, err := countLines(f)
		if err != nil {
			t.Fatal(err)
		}
		if n <= maxLines {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if ast.IsGenerated(parsed) {
			continue
		}
		var opening string
		if len(parsed.Comments) > 0 {
			opening = parsed.Comments[0].Text()
		}
		if parsed.Doc != nil {
			opening += parsed.Doc.Text()
		}
		if !whyLong.MatchString(opening) {
			flagged = append(flagged, fmt.Sprintf("  %s: %d lines", f, n))
		}
	}
	if len(flagged) > 0 {
		t.Errorf("%d hand-written file(s) over %d lines whose opening comment does not say why (\"... long because ...\"); split them by concern or say why:\n%s",
			len(flagged), maxLines, strings.Join(flagged, "\n"))
	}
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for s.Scan() {
		n++
	}
	return n, s.Err()
}
