package graph

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"unionmall/internal/apperr"
)

// ServeHTTP wraps the GraphQL endpoint (and what guards it) with what the
// GraphQL-over-HTTP specification asks of the answer, and with the
// caller's language:
//
//   - every request's context answers in the language of its
//     Accept-Language (a websocket's: that of its upgrade request);
//   - a POST that is not JSON (nor a multipart upload) is 415, a method
//     other than GET, POST or OPTIONS 405;
//   - application/json (asked for, or no Accept, or */*): 200 for every
//     GraphQL answer, parse and validation errors too (gqlgen says 422);
//   - application/graphql-response+json (gqlgen sends that Content-Type
//     when it is preferred): 400 for a request refused before it ran (no
//     data: parse, validation, the mall's own refusals of a whole
//     operation); answers with data, errors or not, stay 200;
//   - a RATE_LIMITED refusal sends Retry-After, in whole seconds.
//
// Subscriptions (websocket, server-sent events) get the language only.
func ServeHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := apperr.WithLang(r.Context(), apperr.ParseLang(r.Header.Get("Accept-Language")))
		r = r.WithContext(ctx)
		if r.Header.Get("Upgrade") != "" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodOptions:
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeRefusal(w, r, http.StatusMethodNotAllowed, errMethod)
			return
		}
		if r.Method == http.MethodPost {
			mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/json" && mt != "multipart/form-data" {
				writeRefusal(w, r, http.StatusUnsupportedMediaType, errMediaType)
				return
			}
		}
		a := &answer{}
		sw := &statusWriter{ResponseWriter: w, a: a}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(ctx, answerKey{}, a)))
		if sw.code != 0 {
			sw.flushHeader() // a status without a body
		}
	})
}

var (
	errMethod    = apperr.New(apperr.BadUserInput, "send GraphQL requests to this endpoint with GET or POST")
	errMediaType = apperr.New(apperr.BadUserInput, "a POST to this endpoint must have the Content-Type application/json")
)

// writeRefusal answers a request that is no GraphQL request at all.
func writeRefusal(w http.ResponseWriter, r *http.Request, status int, why *apperr.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    apperr.Message(r.Context(), why),
		"extensions": map[string]string{"code": string(why.Code)},
	}}})
}

type answerKey struct{}

// answer is what the GraphQL handler learnt about one HTTP answer before
// writing it: whether it had data, and the longest wait of a RATE_LIMITED
// refusal in it.
type answer struct {
	mu         sync.Mutex
	answered   bool
	noData     bool
	retryAfter int
}

func answerOf(ctx context.Context) *answer {
	a, _ := ctx.Value(answerKey{}).(*answer)
	return a
}

// noteRetryAfter tells an HTTP answer to send Retry-After (the error
// presenter calls it; over websockets there is no answer to tell).
func noteRetryAfter(ctx context.Context, seconds int) {
	if a := answerOf(ctx); a != nil {
		a.mu.Lock()
		a.retryAfter = max(a.retryAfter, seconds)
		a.mu.Unlock()
	}
}

// noteResponse records whether an HTTP answer has data: every response
// passes here, those of requests refused before they ran too (gqlgen's
// DispatchError).
func noteResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if a := answerOf(ctx); a != nil && resp != nil {
		a.mu.Lock()
		a.answered = true
		a.noData = resp.Data == nil
		a.mu.Unlock()
	}
	return resp
}

// noteNoData records that an operation was refused as a whole, before it
// ran, by an operation middleware (whose answers the response middlewares,
// noteResponse among them, never see).
func noteNoData(ctx context.Context) {
	if a := answerOf(ctx); a != nil {
		a.mu.Lock()
		a.answered, a.noData = true, true
		a.mu.Unlock()
	}
}

// statusWriter holds the status back until the body starts (gqlgen sets
// it before the answer is presented), then writes the one the answer
// calls for.
type statusWriter struct {
	http.ResponseWriter
	a     *answer
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if code < 200 { // informational: not the answer's status
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.code == 0 {
		w.code = code
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.flushHeader()
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	w.flushHeader()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) flushHeader() {
	if w.wrote {
		return
	}
	w.wrote = true
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	w.a.mu.Lock()
	noData, answered, retry := w.a.noData, w.a.answered, w.a.retryAfter
	w.a.mu.Unlock()
	mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
	switch {
	case mt == "application/graphql-response+json":
		if code == http.StatusUnprocessableEntity || (code == http.StatusOK && answered && noData) {
			code = http.StatusBadRequest
		}
	case code == http.StatusUnprocessableEntity:
		code = http.StatusOK
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	w.ResponseWriter.WriteHeader(code)
}
