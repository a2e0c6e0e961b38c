package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of trusted-documents refusals. PERSISTED_QUERY_NOT_FOUND is
// gqlgen's (and the contract's) for an unknown hash.
const (
	codeDocumentNotFound = "PERSISTED_QUERY_NOT_FOUND"
	codeDocumentRequired = "PERSISTED_QUERY_REQUIRED"
)

// TrustedDocuments runs only the documents of a manifest: GraphQL Code
// Generator's persisted-documents.json, {"<hash>": "<document>"}. A request
// names its document by documentId (the client preset's default; over
// POST and GET) or by extensions.persistedQuery.sha256Hash (Apollo's and
// urql's persisted-query links; also over websockets, whose subscribe
// payload has no documentId). A raw query runs only when its text is one
// of the manifest's documents, byte for byte. Automatic persisted queries
// and introspection are off in this mode (NewHandler): either would let a
// client run a document the manifest does not hold.
type TrustedDocuments struct {
	byHash map[string]string
	byText map[string]bool
}

// LoadTrustedDocuments reads a manifest file.
func LoadTrustedDocuments(path string) (*TrustedDocuments, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	var docs map[string]string
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, fmt.Errorf("trusted documents %s: want a JSON object of hash to document: %w", path, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("trusted documents %s: the manifest is empty", path)
	}
	t := &TrustedDocuments{byHash: docs, byText: make(map[string]bool, len(docs))}
	for _, d := range docs {
		t.byText[d] = true
	}
	return t, nil
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = (*TrustedDocuments)(nil)

func (*TrustedDocuments) ExtensionName() string                     { return "TrustedDocuments" }
func (*TrustedDocuments) Validate(_ graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters puts the named document in place of the query,
// or refuses the request.
func (t *TrustedDocuments) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if hash, ok := persistedHash(raw.Extensions); ok {
		doc, found := t.lookup(hash)
		if !found {
			return documentRefusal(codeDocumentNotFound, "no trusted document has this id; the client's documents and the server's manifest differ")
		}
		if raw.Query != "" && raw.Query != doc {
			return documentRefusal(codeDocumentRequired, "the query is not the trusted document its id names")
		}
		raw.Query = doc
		delete(raw.Extensions, "persistedQuery")
		return nil
	}
	if raw.Query == "" || t.byText[raw.Query] {
		return nil // an empty one gqlgen refuses itself
	}
	return documentRefusal(codeDocumentRequired, "this server runs trusted documents only: send the document's documentId")
}

// lookup finds a document by its hash, written bare or as "sha256:<hex>".
func (t *TrustedDocuments) lookup(hash string) (string, bool) {
	if d, ok := t.byHash[hash]; ok {
		return d, true
	}
	d, ok := t.byHash[strings.TrimPrefix(hash, "sha256:")]
	return d, ok
}

// Document is the trusted document of that hash (for the response cache).
func (t *TrustedDocuments) Document(hash string) (string, bool) { return t.lookup(hash) }

func documentRefusal(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// persistedHash reads extensions.persistedQuery.sha256Hash.
func persistedHash(ext map[string]any) (string, bool) {
	pq, ok := ext["persistedQuery"].(map[string]any)
	if !ok {
		return "", false
	}
	h, ok := pq["sha256Hash"].(string)
	return h, ok
}

// DocumentIDs lets next (gqlgen, which knows no documentId) see a request's
// documentId as extensions.persistedQuery: the query parameter of a GET,
// the member of a JSON POST body.
func (t *TrustedDocuments) DocumentIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("documentId") != "":
			q := r.URL.Query()
			ext := map[string]any{}
			if s := q.Get("extensions"); s != "" && json.Unmarshal([]byte(s), &ext) != nil {
				break // gqlgen reports the bad extensions
			}
			ext["persistedQuery"] = map[string]any{"version": 1, "sha256Hash": q.Get("documentId")}
			b, _ := json.Marshal(ext)
			q.Set("extensions", string(b))
			q.Del("documentId")
			r2 := *r
			u := *r.URL
			u.RawQuery = q.Encode()
			r2.URL = &u
			r = &r2
		case r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type")) && r.Body != nil:
			body, err := io.ReadAll(r.Body) // bounded by limitBody
			if err != nil {
				http.Error(w, "cannot read the request body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(withDocumentID(body)))
		}
		next.ServeHTTP(w, r)
	})
}

func isJSON(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json" || mt == "application/graphql-response+json"
}

// withDocumentID moves a JSON body's documentId into extensions; any other
// body is returned as it is.
func withDocumentID(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"documentId"`)) {
		return body
	}
	var m map[string]json.RawMessage
	var id string
	if json.Unmarshal(body, &m) != nil || json.Unmarshal(m["documentId"], &id) != nil || id == "" {
		return body
	}
	ext := map[string]any{}
	if raw, ok := m["extensions"]; ok && json.Unmarshal(raw, &ext) != nil {
		return body
	}
	ext["persistedQuery"] = map[string]any{"version": 1, "sha256Hash": id}
	m["extensions"], _ = json.Marshal(ext)
	delete(m, "documentId")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}
