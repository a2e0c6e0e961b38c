package chaos

import (
	"strings"
	"testing"
	"time"

	"unionmall/internal/wechatpay/wechatpaytest"
)

// at is a moment of a made-up run: start plus s seconds.
var start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }

// req is an entry from s to e seconds into the run.
func req(kind string, s, e float64, outcome string, fields func(*Entry)) Entry {
	x := Entry{Kind: kind, Member: 0, Token: -1, Issued: -1, Start: at(s), End: at(e), Outcome: outcome}
	if fields != nil {
		fields(&x)
	}
	return x
}

func token(t int) func(*Entry) { return func(e *Entry) { e.Token = t } }

func served(t int) func(*Entry) { return func(e *Entry) { e.Token, e.Served = t, true } }

func TestJournalChecks(t *testing.T) {
	// Member 0: token 0 from the setup; token 1 from a login answered at
	// 2 s, logged out at 4 s; token 2 from a login answered at 8 s and
	// token 3 from one still under way when the password changed (10–11 s,
	// with token 0): the change revokes tokens 1 and 2, not 3.
	tokens := []TokenInfo{{0}, {0}, {0}, {0}}
	journal := []Entry{
		req(kindLogin, 1, 2, OK, func(e *Entry) { e.Issued = 1 }),
		req(kindLogout, 3, 4, OK, token(1)),
		req(kindMeRevoked, 3.5, 4.5, OK, served(1)), // started before the logout's answer: fine
		req(kindLogin, 7, 8, OK, func(e *Entry) { e.Issued = 2 }),
		req(kindPassword, 10, 11, OK, token(0)),
		req(kindLogin, 10.5, 12, OK, func(e *Entry) { e.Issued = 3 }),
		req(kindMe, 13, 13.1, OK, served(3)),
		req(kindMe, 13, 13.1, OK, served(0)),
		req(kindMeRevoked, 14, 14.1, OK, token(2)), // refused (me null): fine
	}
	cases := []struct {
		name  string
		check func([]Entry) Check
		add   Entry  // to the journal
		want  string // in the one violation; "" for none
	}{
		{"revocations: clean", func(e []Entry) Check { return CheckRevocations(e, tokens, start) }, Entry{}, ""},
		{"revocations: a logged-out token served", func(e []Entry) Check { return CheckRevocations(e, tokens, start) },
			req(kindBuyRevoked, 5, 5.2, "SOLD_OUT", served(1)), "token #1 of member 0, revoked at +4s"},
		{"revocations: a token revoked by a password change served", func(e []Entry) Check { return CheckRevocations(e, tokens, start) },
			req(kindMeRevoked, 11.001, 11.01, OK, served(2)), "revoked at +11s, accepted 1ms later"},
		{"answers: a fault inside its window", func(e []Entry) Check {
			return CheckAnswers(e, []Window{{Instance: 1, From: at(20), To: at(25)}}, start)
		}, req(kindMe, 24, 26, Transport, func(e *Entry) { e.Instance = 1 }), ""},
		{"answers: a fault outside every window", func(e []Entry) Check {
			return CheckAnswers(e, []Window{{Instance: 1, From: at(20), To: at(25)}}, start)
		}, req(kindMe, 24, 26, Internal, func(e *Entry) { e.Instance = 2 }), "outside every fault window: me on instance 2 at +24s"},
		{"answers: a code not in the contract", func(e []Entry) Check { return CheckAnswers(e, nil, start) },
			req(kindMe, 30, 31, "OOPS", nil), "not a contract code: me on instance 0 at +30s: OOPS"},
		{"expected: an outcome the operation may not have", func(e []Entry) Check { return CheckExpected(e, start) },
			req(kindLoginWrong, 30, 31, OK, nil), "login (wrong password) on instance 0 at +30s: OK"},
		{"expected: a retry may have any", func(e []Entry) Check { return CheckExpected(e, start) },
			req(kindLogout, 30, 31, "UNAUTHENTICATED", func(e *Entry) { e.Retry = true }), ""},
		{"idempotency: one key, two orders", func(e []Entry) Check {
			return CheckIdempotency(append(e, req(kindBuy, 40, 41, OK, func(e *Entry) { e.Key, e.OrderID = "k", "ord_1" })), start)
		}, req(kindBuyReplay, 42, 43, OK, func(e *Entry) { e.Key, e.OrderID, e.Instance = "k", "ord_2", 2 }), "key k: buyFlashSale on instance 0 at +40s: OK answered order ord_1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entries := append([]Entry(nil), journal...)
			if c.add.Kind != "" {
				entries = append(entries, c.add)
			}
			got := c.check(entries)
			switch {
			case c.want == "" && !got.OK():
				t.Errorf("%s: unexpected violations %q", got.Name, got.Violations)
			case c.want != "" && (len(got.Violations) != 1 || !strings.Contains(got.Violations[0], c.want)):
				t.Errorf("%s: violations %q, want one with %q (figures: %s)", got.Name, got.Violations, c.want, got.Figures)
			}
		})
	}
}

func TestCheckNotifications(t *testing.T) {
	post := func(s float64, status int) wechatpaytest.Attempt {
		return wechatpaytest.Attempt{At: at(s), Status: status}
	}
	ok := []wechatpaytest.Delivery{
		{ID: "EV-1", Event: "TRANSACTION.SUCCESS", Key: "N1", State: wechatpaytest.Delivered,
			Attempts: []wechatpaytest.Attempt{post(1, 502), post(1.1, 500), post(1.4, 204)}},
		{ID: "EV-2", Event: "TRANSACTION.SUCCESS", Key: "N2", State: wechatpaytest.Dropped},
	}
	cases := []struct {
		name string
		add  wechatpaytest.Delivery
		want string
	}{
		{"clean", wechatpaytest.Delivery{}, ""},
		{"gave up", wechatpaytest.Delivery{ID: "EV-3", Event: "REFUND.SUCCESS", Key: "N3R", State: wechatpaytest.GaveUp,
			Attempts: []wechatpaytest.Attempt{post(2, 500), post(3, 0)}}, "REFUND.SUCCESS EV-3 of N3R: gave up after +2s 500, +3s 0"},
		{"still held", wechatpaytest.Delivery{ID: "EV-4", Event: "TRANSACTION.SUCCESS", Key: "N4", State: wechatpaytest.Held}, "N4: held after no post"},
		{"refused though genuine", wechatpaytest.Delivery{ID: "EV-5", Event: "TRANSACTION.SUCCESS", Key: "N5", State: wechatpaytest.Delivered,
			Attempts: []wechatpaytest.Attempt{post(4, 400), post(4.1, 204)}}, "N5: refused 1 times"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := append([]wechatpaytest.Delivery(nil), ok...)
			if c.add.ID != "" {
				ds = append(ds, c.add)
			}
			got := CheckNotifications(ds, start)
			switch {
			case c.want == "" && !got.OK():
				t.Errorf("unexpected violations %q", got.Violations)
			case c.want != "" && (len(got.Violations) != 1 || !strings.Contains(got.Violations[0], c.want)):
				t.Errorf("violations %q, want one with %q (figures: %s)", got.Violations, c.want, got.Figures)
			}
		})
	}
}
