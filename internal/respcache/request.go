package respcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"unionmall/internal/apperr"
)

// Public is the allowlist of root fields whose answer to an anonymous
// caller depends on nothing but the catalogue, flash sales and live events
// (and the language), all of whose changes are announced. node and nodes
// reach other types too, but for anonymous callers only what anyone may
// see (graph/node.go's maySee); the entry TTL bounds what no announcement
// covers.
var Public = map[string]bool{
	"products": true, "product": true, "suppliers": true, "supplier": true,
	"counties": true, "county": true, "liveEvents": true, "liveEvent": true,
	"flashSales": true, "flashSale": true, "productCategories": true,
	"node": true, "nodes": true, "__typename": true,
}

// params is a GraphQL-over-HTTP request's parameters.
type params struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
	DocumentID    string          `json:"documentId"`
}

// anonymous reports whether r carries no credential at all. Cookies are
// not read by the mall, but a request with any is not cached: a proxy or
// a later feature might.
func anonymous(r *http.Request) bool {
	return r.Header.Get("Authorization") == "" && r.Header.Get("Cookie") == "" &&
		r.Header.Get("Upgrade") == "" && !strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// readParams reads r's parameters (restoring its body); ok is false for
// anything but a single GET or JSON POST request.
func readParams(r *http.Request, maxBody int64) (p params, ok bool) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		p.Query, p.OperationName, p.DocumentID = q.Get("query"), q.Get("operationName"), q.Get("documentId")
		if v := q.Get("variables"); v != "" {
			p.Variables = json.RawMessage(v)
		}
		if e := q.Get("extensions"); e != "" {
			p.Extensions = json.RawMessage(e)
		}
		return p, true
	case http.MethodPost:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" || r.Body == nil {
			return p, false
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		rest := r.Body
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), rest), rest}
		if err != nil || int64(len(body)) > maxBody {
			return p, false
		}
		if json.Unmarshal(body, &p) != nil {
			return p, false // a batch, or not JSON: gqlgen answers
		}
		return p, true
	}
	return p, false
}

// hash is the persisted query's or trusted document's hash, if any.
func (p params) hash() string {
	if p.DocumentID != "" {
		return p.DocumentID
	}
	var ext struct {
		PersistedQuery struct {
			Hash string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	}
	if len(p.Extensions) > 0 && json.Unmarshal(p.Extensions, &ext) == nil {
		return ext.PersistedQuery.Hash
	}
	return ""
}

// otherExtensions reports extensions beyond persistedQuery, which gqlgen
// might act on: such requests are not cached.
func (p params) otherExtensions() bool {
	if len(p.Extensions) == 0 {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p.Extensions, &m) != nil {
		return true
	}
	delete(m, "persistedQuery")
	return len(m) > 0
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// parsed is publicQuery's answer for one document and operation name.
type parsed struct {
	normalized string
	ok         bool
}

// A storefront sends the same few documents again and again: publicQuery's
// answers for them are kept, not parsed and formatted anew on every
// request (on a hit that was a third of the CPU time). Documents longer
// than parsedMaxDoc are parsed every time, so the memo holds at most
// parsedEntries × 2 × parsedMaxDoc bytes.
const (
	parsedEntries = 512
	parsedMaxDoc  = 8 << 10
)

// publicQuery is the package's publicQuery, remembered.
func (c *Cache) publicQuery(doc, opName string) (string, bool) {
	if len(doc) > parsedMaxDoc {
		return publicQuery(doc, opName)
	}
	k := strconv.Itoa(len(opName)) + ":" + opName + doc
	if p, ok := c.parsed.Get(k); ok {
		return p.normalized, p.ok
	}
	norm, ok := publicQuery(doc, opName)
	c.parsed.Add(k, parsed{norm, ok})
	return norm, ok
}

// publicQuery parses doc and reports whether its operation (by name) is a
// query of Public root fields only, and its normalized form. Fragments at
// the root are followed; a directive other than @include/@skip anywhere
// (e.g. @defer) makes it uncacheable.
func publicQuery(doc, opName string) (normalized string, ok bool) {
	d, err := parser.ParseQuery(&ast.Source{Input: doc})
	if err != nil {
		return "", false
	}
	var op *ast.OperationDefinition
	for _, o := range d.Operations {
		if opName == "" && len(d.Operations) == 1 || o.Name == opName && opName != "" {
			op = o
		}
	}
	if op == nil || op.Operation != ast.Query || !plainDirectives(op.Directives) {
		return "", false
	}
	if !publicRoot(d, op.SelectionSet, map[string]bool{}) || !onlyPlainDirectives(d) {
		return "", false
	}
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(d)
	return b.String(), true
}

func publicRoot(d *ast.QueryDocument, set ast.SelectionSet, seen map[string]bool) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if !Public[s.Name] {
				return false
			}
		case *ast.InlineFragment:
			if !publicRoot(d, s.SelectionSet, seen) {
				return false
			}
		case *ast.FragmentSpread:
			f := d.Fragments.ForName(s.Name)
			if f == nil || seen[s.Name] {
				return false
			}
			seen[s.Name] = true
			if !publicRoot(d, f.SelectionSet, seen) {
				return false
			}
		default:
			return false
		}
	}
	return len(set) > 0
}

func plainDirectives(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if d.Name != "include" && d.Name != "skip" {
			return false
		}
	}
	return true
}

func onlyPlainDirectives(d *ast.QueryDocument) bool {
	var walk func(ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				if !plainDirectives(s.Directives) || !walk(s.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if !plainDirectives(s.Directives) || !walk(s.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				if !plainDirectives(s.Directives) {
					return false
				}
			}
		}
		return true
	}
	for _, o := range d.Operations {
		if !walk(o.SelectionSet) {
			return false
		}
	}
	for _, f := range d.Fragments {
		if !plainDirectives(f.Directives) || !walk(f.SelectionSet) {
			return false
		}
	}
	return true
}

// canonicalVariables is the variables as JSON with sorted keys; ok is
// false when they are not a JSON object (gqlgen answers that).
func canonicalVariables(raw json.RawMessage) (string, bool) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return "{}", true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if dec.Decode(&v) != nil {
		return "", false
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}

// key is an answer's cache key: everything its bytes depend on for an
// anonymous caller.
func key(r *http.Request, normalized, opName, vars string, trustedText bool) string {
	lang := apperr.ParseLang(r.Header.Get("Accept-Language"))
	h := sha256.New()
	for _, part := range []string{normalized, opName, vars, strconv.Itoa(int(lang)), r.Header.Get("Accept"), strconv.FormatBool(trustedText)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
