package wechatpaytest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"unionmall/internal/wechatpay"
	"unionmall/internal/wechatpay/wechatpaytest"
)

var merchantKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

var apiV3Key = []byte("0123456789abcdef0123456789abcdef")

// merchant is the mall's side of a test: a client of the fake, and a
// notify_url that opens what is posted to it and answers the statuses of
// its script (then 204).
type merchant struct {
	t      *testing.T
	fake   *wechatpaytest.Server
	client *wechatpay.Client
	srv    *httptest.Server

	mu       sync.Mutex
	script   []int
	received []*wechatpay.Notified
	arrived  map[string]int // posts so far, by out_trade_no
	together map[string]int // how many posts of an out_trade_no to answer only once they all came
}

func start(t *testing.T, opts ...wechatpaytest.Option) *merchant {
	t.Helper()
	opts = append([]wechatpaytest.Option{wechatpaytest.WithAPIv3Key(apiV3Key),
		wechatpaytest.WithRetries(5*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond)}, opts...)
	m := &merchant{t: t, arrived: map[string]int{}, together: map[string]int{}, fake: wechatpaytest.Start("1900000001", &merchantKey.PublicKey, opts...)}
	m.client = &wechatpay.Client{BaseURL: m.fake.URL, AppID: "wxd678efh567hg6787", Verifier: m.fake.Verifier(),
		Merchant: wechatpay.Merchant{MchID: "1900000001", SerialNo: "S", Key: merchantKey}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.notified))
	t.Cleanup(m.srv.Close)
	t.Cleanup(m.fake.Close) // before the merchant's server closes
	return m
}

func (m *merchant) notified(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n, err := wechatpay.Open(m.fake.Verifier(), apiV3Key, r.Header, body)
	key := ""
	if err == nil {
		if tx, err := n.Transaction(); err == nil {
			key = tx.OutTradeNo
		}
	}
	m.mu.Lock()
	m.arrived[key]++
	status := http.StatusNoContent
	if len(m.script) > 0 {
		status, m.script = m.script[0], m.script[1:]
	}
	if err != nil {
		status = http.StatusUnauthorized
		m.t.Errorf("a notification that does not open: %v", err)
	} else {
		m.received = append(m.received, n)
	}
	want := m.together[key]
	m.mu.Unlock()
	// Posts meant to overlap are answered once they all came in.
	for deadline := time.Now().Add(5 * time.Second); want > 0; time.Sleep(time.Millisecond) {
		m.mu.Lock()
		all := m.arrived[key] >= want
		m.mu.Unlock()
		if all {
			break
		}
		if time.Now().After(deadline) {
			m.t.Errorf("%s: the posts meant to overlap did not", key)
			break
		}
	}
	w.WriteHeader(status)
}

func (m *merchant) answer(statuses ...int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.script = statuses
}

func (m *merchant) got() []*wechatpay.Notified {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.received)
}

// open prepays an order whose notify_url is the merchant's.
func (m *merchant) open(outTradeNo string, total int64) {
	m.t.Helper()
	_, err := m.client.PrepayJSAPI(context.Background(), wechatpay.Prepay{Description: "紫阳富硒茶", OutTradeNo: outTradeNo,
		TimeExpire: time.Now().Add(time.Hour), NotifyURL: m.srv.URL + "/pay", Total: total, OpenID: "oPayer"})
	if err != nil {
		m.t.Fatal(err)
	}
}

func (m *merchant) pay(outTradeNo string) *wechatpay.Transaction {
	m.t.Helper()
	m.open(outTradeNo, 100)
	tx, err := m.fake.Pay(outTradeNo)
	if err != nil {
		m.t.Fatal(err)
	}
	return tx
}

func TestPaymentNotificationRetriedUntil2xx(t *testing.T) {
	m := start(t)
	m.answer(500, 404)
	tx := m.pay("T1")
	m.fake.Wait()
	if got := m.fake.Statuses("T1"); !slices.Equal(got, []int{500, 404, 204}) {
		t.Fatalf("statuses %v", got)
	}
	ds := m.fake.DeliveriesOf("T1")
	if len(ds) != 1 || ds[0].State != wechatpaytest.Delivered || ds[0].Event != "TRANSACTION.SUCCESS" {
		t.Fatalf("deliveries %+v", ds)
	}
	got := m.got()
	for _, n := range got {
		if n.ID != ds[0].ID {
			t.Errorf("a retry with another id: %s, want %s", n.ID, ds[0].ID)
		}
	}
	paid, err := got[2].Transaction()
	if err != nil || paid.TransactionID != tx.TransactionID || paid.TradeState != "SUCCESS" || paid.Amount.Total != 100 ||
		!strings.Contains(string(got[2].Plain), `"openid":"oPayer"`) {
		t.Fatalf("resource %s (%v)", got[2].Plain, err)
	}
}

func TestNotificationGivesUp(t *testing.T) {
	m := start(t)
	m.answer(400, 400, 400, 400, 400)
	m.pay("T1")
	m.fake.Wait()
	if got, d := m.fake.Statuses("T1"), m.fake.DeliveriesOf("T1")[0]; len(got) != 4 || d.State != wechatpaytest.GaveUp {
		t.Fatalf("statuses %v, state %s: want four 400s (the first post and three retries), then given up", got, d.State)
	}
}

func TestNotifyFaults(t *testing.T) {
	m := start(t)
	m.fake.SetNotifyFault("DROP", wechatpaytest.NotifyFault{Drop: true})
	m.fake.SetNotifyFault("TWICE", wechatpaytest.NotifyFault{Repeat: 3})
	m.fake.SetNotifyFault("AT-ONCE", wechatpaytest.NotifyFault{Repeat: 3, Parallel: true})
	m.together["AT-ONCE"] = 3 // answered only once all three are in
	m.fake.SetNotifyFault("LATER", wechatpaytest.NotifyFault{Delay: 30 * time.Millisecond})
	began := time.Now()
	for _, k := range []string{"DROP", "TWICE", "AT-ONCE", "LATER"} {
		m.pay(k)
	}
	m.fake.Wait()
	if d := m.fake.DeliveriesOf("DROP")[0]; d.State != wechatpaytest.Dropped || len(d.Attempts) != 0 {
		t.Errorf("dropped: %+v", d)
	}
	if got := m.fake.Statuses("TWICE"); !slices.Equal(got, []int{204, 204, 204}) {
		t.Errorf("repeated: %v", got)
	}
	if got := m.fake.Statuses("AT-ONCE"); !slices.Equal(got, []int{204, 204, 204}) {
		t.Errorf("repeated at once: %v", got)
	}
	if d := m.fake.DeliveriesOf("LATER")[0]; d.State != wechatpaytest.Delivered || d.Attempts[0].At.Sub(began) < 30*time.Millisecond {
		t.Errorf("delayed: %+v", d)
	}

	// Flush does not wait out a delay, nor WeChat's own retry schedule.
	slow := start(t, wechatpaytest.WithRetries(wechatpaytest.WeChatRetries...))
	slow.fake.SetNotifyFault(wechatpaytest.AllNotifications, wechatpaytest.NotifyFault{Delay: time.Hour})
	slow.answer(503)
	slow.pay("T9")
	done := make(chan struct{})
	go func() { slow.fake.Flush(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Flush waited")
	}
	if got := slow.fake.Statuses("T9"); !slices.Equal(got, []int{503, 204}) {
		t.Errorf("flushed: %v", got)
	}
}

// Held notifications are released in the order the test chooses.
func TestHoldAndRelease(t *testing.T) {
	m := start(t)
	m.fake.SetNotifyFault(wechatpaytest.AllNotifications, wechatpaytest.NotifyFault{Hold: true})
	m.pay("A")
	m.pay("B")
	m.pay("C")
	m.fake.Wait() // held ones are not waited for
	if held := m.fake.Held(); !slices.Equal(held, []string{"A", "B", "C"}) || len(m.got()) != 0 {
		t.Fatalf("held %v, received %d", held, len(m.got()))
	}
	if err := m.fake.Release("C", "A"); err != nil {
		t.Fatal(err)
	}
	if err := m.fake.Release("A"); err == nil {
		t.Error("released A twice")
	}
	m.fake.ReleaseAll()
	m.fake.Wait()
	var order []string
	for _, n := range m.got() {
		tx, _ := n.Transaction()
		order = append(order, tx.OutTradeNo)
	}
	if !slices.Equal(order, []string{"C", "A", "B"}) {
		t.Fatalf("received %v, want C, A, B", order)
	}
}

func TestRefundNotifications(t *testing.T) {
	ctx := context.Background()
	m := start(t)
	tx := m.pay("T1")
	for _, no := range []string{"R1", "R2", "R3"} {
		if _, err := m.client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "T1", OutRefundNo: no, NotifyURL: m.srv.URL + "/refund",
			Refund: 30, Total: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.client.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "T1", OutRefundNo: "R4", Refund: 30, Total: 100}); err == nil {
		t.Error("refunded more than was paid")
	}
	if m.fake.CompleteRefund("R1") != nil || m.fake.AbnormalRefund("R2") != nil || m.fake.CloseRefund("R3") != nil {
		t.Fatal("a refund did not settle")
	}
	if m.fake.CompleteRefund("R3") == nil {
		t.Error("a closed refund succeeded")
	}
	m.fake.Wait()
	want := map[string]string{"R1": "REFUND.SUCCESS/SUCCESS", "R2": "REFUND.ABNORMAL/ABNORMAL", "R3": "REFUND.CLOSED/CLOSED"}
	for _, n := range m.got()[1:] {
		r, err := n.Refund()
		if err != nil {
			t.Fatal(err)
		}
		if want[r.OutRefundNo] != n.EventType+"/"+r.RefundStatus || r.TradeNo != tx.TransactionID || r.OutTradeNo != "T1" ||
			r.RefundID == "" || r.Amount.Refund != 30 || r.Amount.Total != 100 || r.MchID != "1900000001" {
			t.Errorf("%s: %s %s", r.OutRefundNo, n.EventType, n.Plain)
		}
		if ok := strings.Contains(string(n.Plain), `"success_time"`); ok != (r.RefundStatus == "SUCCESS") {
			t.Errorf("%s: success_time in %s", r.OutRefundNo, n.Plain)
		}
		delete(want, r.OutRefundNo)
	}
	if len(want) != 0 {
		t.Errorf("not notified: %v", want)
	}
}

// The fake posts nowhere but to loopback addresses.
func TestNotifyOnlyLoopback(t *testing.T) {
	m := start(t)
	_, err := m.client.PrepayJSAPI(context.Background(), wechatpay.Prepay{OutTradeNo: "T1", TimeExpire: time.Now().Add(time.Hour),
		NotifyURL: "https://mall.example/payments/wechat/notify", Total: 1, OpenID: "o"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.fake.Pay("T1"); err != nil {
		t.Fatal(err)
	}
	m.fake.Wait()
	if d := m.fake.DeliveriesOf("T1")[0]; d.State != wechatpaytest.Refused || len(d.Attempts) != 0 {
		t.Fatalf("%+v", d)
	}
}

func TestCloseStopsRetries(t *testing.T) {
	m := start(t, wechatpaytest.WithRetries(time.Hour))
	m.answer(500)
	m.pay("T1")
	for deadline := time.Now().Add(5 * time.Second); len(m.fake.Statuses("T1")) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never posted")
		}
	}
	began := time.Now()
	m.fake.Close()
	if d := m.fake.DeliveriesOf("T1")[0]; d.State != wechatpaytest.Stopped || time.Since(began) > 5*time.Second {
		t.Fatalf("after Close: %+v", d)
	}
}

func TestAPIFaults(t *testing.T) {
	ctx := context.Background()
	m := start(t)
	m.open("T1", 100)
	query := func() error { _, err := m.client.Query(ctx, "T1"); return err }

	m.fake.SetOutage(wechatpaytest.Unavailable)
	if err := query(); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("unavailable: %v", err)
	}
	m.fake.SetOutage(wechatpaytest.Hangup)
	if err := query(); err == nil {
		t.Error("hung up, yet answered")
	}
	m.fake.SetOutage(wechatpaytest.Up)
	m.fake.FailNext(2)
	var api *wechatpay.APIError
	for i := 0; i < 2; i++ {
		if err := query(); !errors.As(err, &api) || api.Status != 500 || api.Code != "SYSTEM_ERROR" {
			t.Errorf("failing call %d: %v", i, err)
		}
	}
	if err := query(); err != nil {
		t.Errorf("after the failures: %v", err)
	}
	m.fake.SetLatency(time.Second)
	m.client.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
	if err := query(); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("slow: %v", err)
	}
	m.fake.SetLatency(0)
	// The slow call is recorded once its handler sees the client gone.
	for deadline := time.Now().Add(5 * time.Second); m.fake.Calls()[len(m.fake.Calls())-1].Status != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow call was never recorded")
		}
	}
	if err := query(); err != nil {
		t.Errorf("fast again: %v", err)
	}
	// Go's transport may send a GET again on a fresh connection after a
	// hang-up: no answer is one 0 or more.
	var answered []int
	unanswered := 0
	for _, c := range m.fake.Calls() {
		if c.Status == 0 {
			unanswered++
		} else {
			answered = append(answered, c.Status)
		}
	}
	if !slices.Equal(answered, []int{200, 503, 500, 500, 200, 200}) || unanswered < 2 {
		t.Errorf("calls %+v", m.fake.Calls())
	}
}

func TestPayAfterExpiry(t *testing.T) {
	clock := time.Now()
	var mu sync.Mutex
	m := start(t, wechatpaytest.WithClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }))
	m.open("T1", 100)
	mu.Lock()
	clock = clock.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := m.fake.Pay("T1"); err == nil {
		t.Fatal("paid after time_expire")
	}
}
