package payhttp_test

// The newcomer's path: the real binary, built and started as `go run .`
// does (a fresh mall.db with the demo catalogue, the sandbox on by
// default), and a member who registers, is verified, orders and pays in
// the sandbox cashier over HTTP.

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/internal/browsertest"
	"unionmall/internal/servertest"
)

// syncBuffer is the server's output, written by the process's pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// buildMall builds the module's main package into a temporary directory.
func buildMall(t *testing.T) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "unionmall")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const (
	newcomerAdminPhone    = "13800000000"
	newcomerAdminPassword = "change-me-please"
)

// runMall starts the binary in an empty directory with nothing set but
// ADDR, the README's ADMIN_PHONE and ADMIN_PASSWORD, and cheap hashing,
// and waits until it answers /healthz. It is stopped at the end, and must
// exit cleanly.
func runMall(t *testing.T, bin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "ADDR=" + addr,
		"ADMIN_PHONE=" + newcomerAdminPhone, "ADMIN_PASSWORD=" + newcomerAdminPassword, "PASSWORD_HASH_MEMORY=64"}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the server did not stop cleanly: %v\n%s", err, out)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("the server did not stop within 30 s of SIGINT\n%s", out)
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out)
		}
	})
	base := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		select {
		case err := <-exited:
			t.Fatalf("the server exited: %v\n%s", err, out)
		default:
		}
		if res, err := client.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer on %s/healthz\n%s", base, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gql runs one operation against base, failing on any error.
func gql(t *testing.T, base, token, query string, vars map[string]any, v any) {
	t.Helper()
	r, err := servertest.Post(http.DefaultClient, base, token, query, vars)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 {
		t.Fatalf("%s\nerrors: %+v", strings.TrimSpace(query), r.Errors)
	}
	if v != nil {
		r.Decode(t, v)
	}
}

func TestNewcomerPaysInTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds and runs the binary")
	}
	bin := buildMall(t)
	base := runMall(t, bin)

	var reg struct {
		RegisterMember struct {
			Token  string
			Member struct{ ID string }
		}
	}
	gql(t, base, "", servertest.RegisterQ, map[string]any{"i": map[string]any{
		"phone": "13712345678", "password": "newcomer-password", "displayName": "新人"}}, &reg)
	token, memberID := reg.RegisterMember.Token, reg.RegisterMember.Member.ID
	gql(t, base, token, servertest.SubmitRealNameQ, servertest.RealNameVars("张新人", servertest.NextIDNumber()), nil)
	var admin struct{ Login struct{ Token string } }
	gql(t, base, "", servertest.LoginQ, map[string]any{"i": map[string]any{"phone": newcomerAdminPhone, "password": newcomerAdminPassword}}, &admin)
	gql(t, base, admin.Login.Token, servertest.ReviewQ, map[string]any{"i": map[string]any{"memberIDs": []string{memberID}, "approve": true}}, nil)
	var me struct {
		Me struct{ VerificationStatus string }
	}
	gql(t, base, token, servertest.MeQ, nil, &me)
	if me.Me.VerificationStatus != "VERIFIED" {
		t.Fatalf("after the review the member is %s", me.Me.VerificationStatus)
	}

	var catalogue struct {
		Products struct {
			Edges []struct{ Node struct{ ID, Name string } }
		}
	}
	gql(t, base, "", `{ products(first: 5, where: {onSale: true}) { edges { node { id name } } } }`, nil, &catalogue)
	if len(catalogue.Products.Edges) == 0 {
		t.Fatal("no demo product on sale: the demo catalogue was not loaded")
	}
	product := catalogue.Products.Edges[0].Node
	var placed struct {
		PlaceOrder struct{ ID, Number, Total string }
	}
	gql(t, base, token, `mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id number total } }`,
		map[string]any{"i": map[string]any{"items": []map[string]any{{"productID": product.ID, "quantity": 1}}}}, &placed)
	o := placed.PlaceOrder

	var started struct{ PayOrder struct{ SandboxURL *string } }
	gql(t, base, token, servertest.PayOrderQ, map[string]any{"i": map[string]any{"orderID": o.ID, "channel": "SANDBOX"}}, &started)
	if started.PayOrder.SandboxURL == nil {
		t.Fatal("payOrder(SANDBOX) returned no sandboxURL: is the sandbox on by default?")
	}
	u := *started.PayOrder.SandboxURL
	if p, err := url.Parse(u); err != nil || !p.IsAbs() || base+p.Path != u {
		t.Fatalf("sandboxURL %q is not an absolute URL of this server (%s)", u, base)
	}
	if v := fetch(t, http.MethodGet, u).view(t); !v.Button || v.Number != o.Number || v.Total != o.Total ||
		len(v.Lines) != 1 || !strings.HasPrefix(v.Lines[0], product.Name+" × 1 = ") {
		t.Fatalf("the cashier shows %+v for order %s of 1 %s, ¥%s", v, o.Number, product.Name, o.Total)
	}

	if path := browsertest.Find(t); path != "" {
		clickPay(t, browsertest.Start(t, path), u, o.Number, o.Total)
	} else {
		t.Log("no Chromium: paying by a POST instead of a click")
		pay(t, u)
	}

	var paid struct {
		Node struct {
			Status  string
			Payment *struct{ Status, ProviderTransactionID string }
		}
	}
	gql(t, base, token, paidQ, map[string]any{"id": o.ID}, &paid)
	if p := paid.Node; p.Status != "PAID" || p.Payment == nil || p.Payment.Status != "PAID" || p.Payment.ProviderTransactionID != "SANDBOX"+o.Number {
		t.Fatalf("after paying: %+v, payment %+v", p, p.Payment)
	}
}
