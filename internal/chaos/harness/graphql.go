package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response and its HTTP status.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
	Status int             `json:"-"`
}

// NoCode is Code's answer for an error without extensions.code.
const NoCode = "NO_CODE"

// Code is the first error's code: "" when there is no error, NoCode when
// the error carries none.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	if c, ok := r.Errors[0].Extensions["code"].(string); ok && c != "" {
		return c
	}
	return NoCode
}

// UndecodableError is an answer that is not a GraphQL response (a proxy's
// error page, a truncated body).
type UndecodableError struct {
	Status int
	Body   string
	Err    error
}

func (e *UndecodableError) Error() string {
	return fmt.Sprintf("status %d, undecodable body %q: %v", e.Status, e.Body, e.Err)
}

// Request is one GraphQL request over HTTP.
type Request struct {
	Query string
	Vars  map[string]any
	Token string // sent as a bearer token when not ""
	// ForwardedFor is sent as X-Forwarded-For when not "" (a client's
	// address behind a proxy, for servers run with TRUST_PROXY).
	ForwardedFor string
}

// Body is the request's JSON body.
func Body(query string, vars map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// Post sends r to base's /graphql. err is a transport error (no answer) or
// an *UndecodableError; otherwise the response, whatever its status.
func Post(ctx context.Context, c *http.Client, base string, r Request) (*Response, error) {
	return PostBody(ctx, c, base+"/graphql", r.Token, r.ForwardedFor, Body(r.Query, r.Vars))
}

// PostBody posts a prepared body to a GraphQL endpoint (see Post).
func PostBody(ctx context.Context, c *http.Client, endpoint, token, forwardedFor string, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, &UndecodableError{Status: res.StatusCode, Body: truncate(raw, 200), Err: err}
	}
	out.Status = res.StatusCode
	return &out, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
