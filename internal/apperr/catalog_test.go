package apperr

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// constructors are the functions of this package that take a message
// format, with the format's argument index.
var constructors = map[string]int{"New": 1, "BadInput": 1, "Limited": 1}

// TestEveryMessageHasChineseForm scans the module's Go source (not tests,
// not generated code) for the formats passed to New, BadInput and Limited
// and fails for each that zh.go lacks, saying the line to add.
func TestEveryMessageHasChineseForm(t *testing.T) {
	used, problems := scanFormats(t, moduleRoot(t))
	for _, p := range problems {
		t.Error(p)
	}
	var missing []string
	for f, where := range used {
		if _, ok := zh[f]; !ok {
			missing = append(missing, "\t"+strconv.Quote(f)+`: "…",`+" // "+where)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("messages without a Chinese form: add to the zh map of internal/apperr/zh.go (one line each; keep the verbs, or number them as %%[1]s):\n%s",
			strings.Join(missing, "\n"))
	}
	var stale []string
	for f := range zh {
		if _, ok := used[f]; !ok {
			stale = append(stale, "\t"+strconv.Quote(f))
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("zh.go has forms of messages no code produces any more: remove them (or fix their English key):\n%s", strings.Join(stale, "\n"))
	}
}

// TestChineseFormsKeepTheVerbs checks that each Chinese form formats the
// same arguments as its English key.
func TestChineseFormsKeepTheVerbs(t *testing.T) {
	for en, zhf := range zh {
		want := verbs(en)
		got := verbs(zhf)
		if len(got) == 0 {
			continue // used as it is
		}
		indexed := strings.Contains(zhf, "[")
		if !indexed {
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%q: the Chinese form's verbs %v are not the English %v", en, got, want)
			}
			continue
		}
		for _, v := range indexedVerb.FindAllStringSubmatch(zhf, -1) {
			n, _ := strconv.Atoi(v[1])
			if n < 1 || n > len(want) || want[n-1] != v[2] {
				t.Errorf("%q: the Chinese form's %%[%s]%s names no such argument of %v", en, v[1], v[2], want)
			}
		}
		if len(indexedVerb.FindAllString(zhf, -1)) != len(got) {
			t.Errorf("%q: number every verb of the Chinese form, or none", en)
		}
	}
}

var (
	verb        = regexp.MustCompile(`%[-+# 0]*\d*(?:\.\d+)?(?:\[\d+\])?([a-zA-Z%])`)
	indexedVerb = regexp.MustCompile(`%[-+# 0]*\d*(?:\.\d+)?\[(\d+)\]([a-zA-Z])`)
)

func verbs(f string) []string {
	var out []string
	for _, m := range verb.FindAllStringSubmatch(f, -1) {
		if m[1] != "%" {
			out = append(out, m[1])
		}
	}
	return out
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// scanFormats returns every format passed to a constructor, with where it
// is, and the calls whose format it cannot read.
func scanFormats(t *testing.T, root string) (map[string]string, []string) {
	used := map[string]string{}
	var problems []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") ||
			rel == "ent" || rel == filepath.Join("graph", "generated") || rel == filepath.Join("internal", "apperr") {
			return skipDir(path, root)
		}
		pkgs, err := parseDir(fset, path)
		if err != nil {
			return err
		}
		for _, files := range pkgs {
			consts := stringConsts(files)
			for fname, f := range files {
				local := apperrImport(f)
				if local == "" {
					continue
				}
				ast.Inspect(f, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					x, ok := sel.X.(*ast.Ident)
					at, isCtor := constructors[sel.Sel.Name]
					if !ok || x.Name != local || !isCtor || len(call.Args) <= at {
						return true
					}
					pos := fset.Position(call.Pos())
					where, _ := filepath.Rel(root, fname)
					where += ":" + strconv.Itoa(pos.Line)
					s, ok := stringValue(call.Args[at], consts)
					if !ok {
						problems = append(problems, where+": the message format must be a string literal or constant, so that its Chinese form can be looked up")
						return true
					}
					used[s] = where
					return true
				})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used, problems
}

func skipDir(path, root string) error {
	if path == root {
		return nil
	}
	return filepath.SkipDir
}

// apperrImport is the name this package goes by in f, "" if not imported.
func apperrImport(f *ast.File) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "unionmall/internal/apperr" {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return "apperr"
		}
	}
	return ""
}

// parseDir parses a directory's Go files but tests, by package name.
func parseDir(fset *token.FileSet, dir string) (map[string]map[string]*ast.File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]*ast.File{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, err
		}
		if out[f.Name.Name] == nil {
			out[f.Name.Name] = map[string]*ast.File{}
		}
		out[f.Name.Name][path] = f
	}
	return out, nil
}

// stringConsts are a package's string constants (literals and sums of them).
func stringConsts(files map[string]*ast.File) map[string]ast.Expr {
	out := map[string]ast.Expr{}
	for _, f := range files {
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						out[n.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	return out
}

func stringValue(e ast.Expr, consts map[string]ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringValue(e.X, consts)
		b, ok2 := stringValue(e.Y, consts)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return stringValue(e.X, consts)
	case *ast.Ident:
		if v, ok := consts[e.Name]; ok {
			delete(consts, e.Name) // no cycles
			s, ok := stringValue(v, consts)
			consts[e.Name] = v
			return s, ok
		}
	}
	return "", false
}
