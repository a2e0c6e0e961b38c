package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"unionmall/internal/gid"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// An ADMIN mutation with a long list leaves an audit line of a few KB (a
// 5000-ID list made one of 155 KB; lists that long are now refused before
// anything runs, see graph.MaxInputValues): the list shows its first IDs
// and its length.
func TestAuditLineOfALongListIsBounded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		var buf bytes.Buffer
		var mu sync.Mutex
		prev := slog.Default()
		slog.SetDefault(slog.New(slog.NewJSONHandler(syncWriter{&buf, &mu}, nil)))
		defer slog.SetDefault(prev)
		m := servertest.Start(t, d, servertest.Options{NoWorkers: true})

		ids := make([]string, 1500)
		for i := range ids {
			ids[i] = string(gid.New(gid.Member))
		}
		servertest.WantCode(t, m.Do(m.Admin, servertest.ReviewQ, map[string]any{"i": map[string]any{"memberIDs": ids, "approve": true}}), "BAD_USER_INPUT")

		mu.Lock()
		defer mu.Unlock()
		var line string
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, `"msg":"audit"`) && strings.Contains(l, "reviewRealNameVerifications") {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("no audit line for reviewRealNameVerifications:\n%.2000s", buf.String())
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line is no JSON: %v", err)
		}
		if len(line) > 4096 {
			t.Fatalf("the audit line has %d bytes: %.300s…", len(line), line)
		}
		if !strings.Contains(line, `"count":1500`) || !strings.Contains(line, ids[0]) || strings.Contains(line, ids[1499]) {
			t.Fatalf("the audit line should show the first IDs and the count: %s", line)
		}
		t.Logf("%d bytes", len(line))
	})
}
