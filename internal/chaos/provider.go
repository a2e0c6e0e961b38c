package chaos

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"unionmall/internal/chaos/harness"
	"unionmall/internal/wechatpay/wechatpaytest"
)

// The run's merchant of WeChat Pay.
const (
	mchID      = "1900000109"
	appID      = "wx8888888888888888"
	certSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	apiV3Key   = "chaos0123456789abcdefABCDEF01234" // 32 characters
)

// notifyRetries are the fake's waits between the posts of a notification
// that was not answered 2xx: about 40 s in all, longer than any fault of
// a run lasts.
var notifyRetries = []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second,
	5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}

// instanceRefundPoll is how long after WeChat Pay accepted a refund an
// instance asks about it (PAYMENT_REFUND_POLL). A refund notification is
// dropped only while that query still comes within the workload.
const instanceRefundPoll = 2 * time.Second

// provider is the run's WeChat Pay: the fake (wechatpaytest) in this
// process, the settings that point every instance at it, and the load
// balancer that is their PUBLIC_URL.
type provider struct {
	fake *wechatpaytest.Server
	lb   *balancer
	env  []string
}

// startProvider makes the merchant's key, starts the fake and the
// balancer, and writes the keys the instances read (PEM files in dir).
func startProvider(dir string) (*provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(dir, "apiclient_key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), 0o600); err != nil {
		return nil, err
	}
	fake := wechatpaytest.Start(mchID, &key.PublicKey, wechatpaytest.WithAPIv3Key([]byte(apiV3Key)),
		wechatpaytest.WithRetries(notifyRetries...))
	pub, err := x509.MarshalPKIXPublicKey(&fake.Key.PublicKey)
	if err != nil {
		fake.Close()
		return nil, err
	}
	pubFile := filepath.Join(dir, "wechatpay_pub_key.pem")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		fake.Close()
		return nil, err
	}
	lb, err := startBalancer()
	if err != nil {
		fake.Close()
		return nil, err
	}
	return &provider{fake: fake, lb: lb, env: []string{
		"WECHATPAY_MCH_ID=" + mchID, "WECHATPAY_APP_ID=" + appID, "WECHATPAY_MCH_CERT_SERIAL=" + certSerial,
		"WECHATPAY_MCH_PRIVATE_KEY=" + keyFile, "WECHATPAY_API_V3_KEY=" + apiV3Key,
		"WECHATPAY_PUBLIC_KEY=" + pubFile, "WECHATPAY_PUBLIC_KEY_ID=" + wechatpaytest.KeyID,
		"WECHATPAY_BASE_URL=" + fake.URL, "PUBLIC_URL=" + lb.url, "PAYMENT_REFUND_POLL=" + instanceRefundPoll.String(),
	}}, nil
}

// close stops the fake (its retries end) and then the balancer.
func (p *provider) close() {
	p.fake.Close()
	p.lb.close()
}

// balancer is a round-robin reverse proxy over the instances that are
// running, as a load balancer in front of them: a notification reaches
// the mall while any instance is up.
type balancer struct {
	url   string
	srv   *http.Server
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	instances []*harness.Instance
	next      int
	forwarded map[string]int // requests by instance
	noneUp    int            // requests with no instance running
}

func startBalancer() (*balancer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &balancer{url: "http://" + l.Addr().String(), forwarded: map[string]int{}}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			if u, ok := r.In.Context().Value(targetKey{}).(*url.URL); ok {
				r.SetURL(u)
			}
		},
		Transport: &http.Transport{DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext, MaxIdleConnsPerHost: 16},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
		},
	}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(l) }()
	return b, nil
}

type targetKey struct{}

// set gives the balancer the instances to send to.
func (b *balancer) set(instances []*harness.Instance) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.instances = instances
}

// pick is the next running instance, round robin; nil when none runs.
func (b *balancer) pick() *harness.Instance {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.instances {
		in := b.instances[b.next%len(b.instances)]
		b.next++
		if in.Running() {
			b.forwarded[in.Name]++
			return in
		}
	}
	b.noneUp++
	return nil
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := b.pick()
	if in == nil {
		http.Error(w, "balancer: no instance is running", http.StatusBadGateway)
		return
	}
	u, err := url.Parse(in.URL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, u)))
}

// figures says where the balancer sent what.
func (b *balancer) figures() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.forwarded))
	for n := range b.forwarded {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, b.forwarded[n])
	}
	return fmt.Sprintf("the balancer sent %s (none running: %d)", strings.Join(parts, ", "), b.noneUp)
}

func (b *balancer) close() { _ = b.srv.Close() }
