package wechatpaytest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"
)

// NotifyFault is what goes wrong with the posting of a notification.
type NotifyFault struct {
	Drop     bool          // never post it
	Repeat   int           // post it this many times, each until answered 2xx (0 or 1: once)
	Parallel bool          // post the Repeat copies at once, not one after another
	Delay    time.Duration // post it first after this long
	Hold     bool          // keep it until Release or ReleaseAll
}

// AllNotifications is the key of the fault of every notification that
// has none of its own.
const AllNotifications = ""

// State is where a notification's posting is.
type State int

// The states of a Delivery.
const (
	Pending   State = iota // posting, or waiting for its next post
	Held                   // held until released
	Delivered              // answered 2xx (each copy, when repeated)
	Dropped                // never posted (NotifyFault.Drop)
	GaveUp                 // answered otherwise until the retries ran out
	Refused                // not posted: notify_url is not on a loopback address
	Stopped                // Close ended it
)

func (s State) String() string {
	return [...]string{"pending", "held", "delivered", "dropped", "gave up", "refused", "stopped"}[s]
}

// Attempt is one post of a notification.
type Attempt struct {
	At     time.Time
	Status int    // the merchant's HTTP status; 0 when it did not answer
	Err    string // why not
}

// Delivery is a notification and its posts so far.
type Delivery struct {
	ID       string // the notification's id
	Event    string // TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
	Key      string // its out_trade_no (a payment) or out_refund_no (a refund)
	URL      string
	State    State
	Err      string // why it was Refused
	Attempts []Attempt
}

type delivery struct {
	Delivery
	body            []byte
	fault           NotifyFault
	gaveUp, stopped bool
	first           chan struct{} // closed after its first post (or when it ends unposted)
	firstOnce       sync.Once
}

// deliveries is the fake's notification sender; its fields are under the
// Server's mu.
type deliveries struct {
	s        *Server
	faults   map[string]NotifyFault
	all      []*delivery
	active   int        // deliveries Pending
	idle     *sync.Cond // signalled when active drops to 0
	flushing int        // Flush calls under way: no waiting between posts
	kick     chan struct{}
	ctx      context.Context // done at Close
	cancel   context.CancelFunc
	client   *http.Client
	once     sync.Once
}

func (dl *deliveries) init(s *Server) {
	dl.s, dl.faults, dl.idle, dl.kick = s, map[string]NotifyFault{}, sync.NewCond(&s.mu), make(chan struct{})
	dl.ctx, dl.cancel = context.WithCancel(context.Background())
	dialer := &net.Dialer{Timeout: s.notifyTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("wechatpaytest: %s is not a loopback address", address)
		}
		return nil
	}}
	dl.client = &http.Client{Timeout: s.notifyTimeout,
		Transport:     &http.Transport{Proxy: nil, DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// loopback refuses a notify_url that is not on this machine, before any
// name is looked up.
func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); u.Scheme != "http" || (h != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return fmt.Errorf("wechatpaytest posts only to http:// on a loopback address, not %s", u.Redacted())
	}
	return nil
}

// SetNotifyFault sets the fault of the notifications of key (an
// out_trade_no or out_refund_no), or of all without one of their own
// (AllNotifications). It applies to notifications made afterwards.
func (s *Server) SetNotifyFault(key string, f NotifyFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dl.faults[key] = f
}

// ClearNotifyFaults removes every NotifyFault.
func (s *Server) ClearNotifyFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.dl.faults)
}

// notify posts a notification to url (none when url is empty, as WeChat
// Pay without a notify_url).
func (s *Server) notify(event, key, url, data string, plain []byte) {
	if url == "" {
		return
	}
	id, body, err := s.envelope(s.apiV3Key, event, data, plain, s.now())
	d := &delivery{Delivery: Delivery{ID: id, Event: event, Key: key, URL: url}, body: body, first: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dl.all = append(s.dl.all, d)
	f, ok := s.dl.faults[key]
	if !ok {
		f = s.dl.faults[AllNotifications]
	}
	d.fault = f
	if err == nil {
		err = loopback(url)
	}
	switch {
	case err != nil:
		d.State, d.Err = Refused, err.Error()
	case s.dl.ctx.Err() != nil:
		d.State = Stopped
	case f.Drop:
		d.State = Dropped
	case f.Hold:
		d.State = Held
	default:
		s.dl.start(d, f.Delay)
	}
}

// start posts d in the background, the first time after wait (mu held).
func (dl *deliveries) start(d *delivery, wait time.Duration) {
	d.State = Pending
	dl.active++
	go dl.run(d, wait)
}

func (dl *deliveries) run(d *delivery, wait time.Duration) {
	copies := max(1, d.fault.Repeat)
	if d.fault.Parallel && dl.sleep(d, wait) {
		var wg sync.WaitGroup
		for range copies {
			wg.Add(1)
			go func() { defer wg.Done(); dl.post(d, 0) }()
		}
		wg.Wait()
	} else if !d.fault.Parallel {
		for i := 0; i < copies && dl.post(d, wait); i++ {
			wait = 0
		}
	}
	dl.s.mu.Lock()
	defer dl.s.mu.Unlock()
	switch {
	case d.stopped:
		d.State = Stopped
	case d.gaveUp:
		d.State = GaveUp
	default:
		d.State = Delivered
	}
	d.firstOnce.Do(func() { close(d.first) })
	if dl.active--; dl.active == 0 {
		dl.idle.Broadcast()
	}
}

// post posts one copy of d until it is answered 2xx, waiting first wait
// and then the retries' waits; false: it gave up, or Close stopped it.
func (dl *deliveries) post(d *delivery, wait time.Duration) bool {
	for i := 0; ; i++ {
		if !dl.sleep(d, wait) {
			return false
		}
		if dl.attempt(d) {
			return true
		}
		if i >= len(dl.s.retries) {
			dl.s.mu.Lock()
			d.gaveUp = true
			dl.s.mu.Unlock()
			return false
		}
		wait = dl.s.retries[i]
	}
}

// sleep waits d's next post; false (and d stopped) once Close began.
func (dl *deliveries) sleep(d *delivery, wait time.Duration) bool {
	dl.s.mu.Lock()
	kick, flushing := dl.kick, dl.flushing > 0
	dl.s.mu.Unlock()
	if wait > 0 && !flushing {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-kick:
		case <-dl.ctx.Done():
		}
	}
	if dl.ctx.Err() != nil {
		dl.s.mu.Lock()
		d.stopped = true
		dl.s.mu.Unlock()
		return false
	}
	return true
}

// attempt posts d once, signed now; true when answered 2xx.
func (dl *deliveries) attempt(d *delivery) bool {
	a := Attempt{At: time.Now()}
	req, err := http.NewRequestWithContext(dl.ctx, http.MethodPost, d.URL, bytes.NewReader(d.body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
		dl.s.Sign(req.Header, d.body, time.Now())
		var resp *http.Response
		if resp, err = dl.client.Do(req); err == nil {
			a.Status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
	}
	if err != nil {
		a.Err = err.Error()
	}
	dl.s.mu.Lock()
	d.Attempts = append(d.Attempts, a)
	dl.s.mu.Unlock()
	d.firstOnce.Do(func() { close(d.first) })
	return a.Status >= 200 && a.Status < 300
}

// Deliveries are the notifications made so far, in order, with their
// posts.
func (s *Server) Deliveries() []Delivery { return s.DeliveriesOf(AllNotifications) }

// DeliveriesOf are the notifications of key (AllNotifications: all).
func (s *Server) DeliveriesOf(key string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, d := range s.dl.all {
		if key == AllNotifications || d.Key == key {
			c := d.Delivery
			c.Attempts = append([]Attempt(nil), d.Attempts...)
			out = append(out, c)
		}
	}
	return out
}

// Statuses are the HTTP statuses of every post of key's notifications,
// in order (0: no answer).
func (s *Server) Statuses(key string) []int {
	var out []int
	for _, d := range s.DeliveriesOf(key) {
		for _, a := range d.Attempts {
			out = append(out, a.Status)
		}
	}
	return out
}

// Held are the keys of the held notifications, in the order made.
func (s *Server) Held() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, d := range s.dl.all {
		if d.State == Held {
			out = append(out, d.Key)
		}
	}
	return out
}

// Release posts the held notifications of keys in that order: each one's
// first post is answered (or fails) before the next one's begins. Their
// retries and repeats go on in the background; their Delay is skipped.
func (s *Server) Release(keys ...string) error {
	for _, k := range keys {
		n := 0
		for {
			s.mu.Lock()
			var d *delivery
			for _, c := range s.dl.all {
				if c.Key == k && c.State == Held {
					d = c
					break
				}
			}
			if d != nil {
				s.dl.start(d, 0)
			}
			s.mu.Unlock()
			if d == nil {
				break
			}
			n++
			<-d.first
		}
		if n == 0 {
			return fmt.Errorf("wechatpaytest: no notification of %q is held", k)
		}
	}
	return nil
}

// ReleaseAll releases every held notification, in the order made.
func (s *Server) ReleaseAll() {
	for _, k := range s.Held() {
		_ = s.Release(k)
	}
}

// Wait blocks until no notification is Pending (Held ones are not): each
// was answered 2xx, or gave up after its retries, or was stopped.
func (s *Server) Wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.dl.active > 0 {
		s.dl.idle.Wait()
	}
}

// Flush is Wait with no waiting between posts: delays and retries come at
// once.
func (s *Server) Flush() {
	s.mu.Lock()
	s.dl.flushing++
	close(s.dl.kick)
	s.dl.kick = make(chan struct{})
	s.mu.Unlock()
	s.Wait()
	s.mu.Lock()
	s.dl.flushing--
	s.mu.Unlock()
}

// close stops every posting and waits for them to end.
func (dl *deliveries) close() {
	dl.once.Do(func() {
		dl.cancel()
		dl.s.Wait()
		dl.client.CloseIdleConnections()
	})
}
