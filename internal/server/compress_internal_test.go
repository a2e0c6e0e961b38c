package server

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// An event stream reaches the client event by event, uncompressed, even
// when the client accepts gzip: the handler waits for the client to have
// read the first event before it writes the second.
func TestCompressionLeavesEventStreams(t *testing.T) {
	read := make(chan struct{})
	h, err := compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("event: next\ndata: {\"data\":{\"n\":1}}\n\n"))
		w.(http.Flusher).Flush()
		<-read
		_, _ = w.Write([]byte("event: complete\ndata:\n\n"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(`{}`))
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Fatalf("event stream encoded as %s", ce)
	}
	br := bufio.NewReader(res.Body)
	for _, want := range []string{"event: next\n", "data: {\"data\":{\"n\":1}}\n"} {
		if line, err := br.ReadString('\n'); err != nil || line != want {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
	close(read)
	if line, _ := br.ReadString('\n'); line != "\n" {
		t.Fatalf("got %q", line)
	}
	if line, _ := br.ReadString('\n'); line != "event: complete\n" {
		t.Fatalf("got %q", line)
	}
}

func TestCompressible(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/graphql-response+json; charset=utf-8": true,
		"text/javascript; charset=utf-8": true, "text/html": true, "image/svg+xml": true,
		"text/event-stream": false, "multipart/mixed; boundary=\"-\"": false,
		"image/png": false, "image/webp": false, "application/zip": false,
	} {
		if got := compressible(ct); got != want {
			t.Errorf("compressible(%q) = %v", ct, got)
		}
	}
}
