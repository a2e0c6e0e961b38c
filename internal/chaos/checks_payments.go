package chaos

import (
	"fmt"
	"strconv"
	"time"

	"unionmall/internal/wechatpay/wechatpaytest"
)

// CheckNotifications: every notification WeChat Pay posted (not the ones
// dropped on purpose) was answered 2xx in the end: none gave up after its
// retries, none is still pending or held; and none was refused 4xx (each
// is genuine: signed, on time, of a payment or refund the mall asked for).
// Non-2xx answers from faults (no instance up, PostgreSQL down) are
// counted.
func CheckNotifications(ds []wechatpaytest.Delivery, start time.Time) Check {
	c := Check{Name: "notifications: every one WeChat Pay posted was answered 2xx in the end, none refused 4xx"}
	states := map[string]int{}
	statuses := map[string]int{}
	posts := 0
	for _, d := range ds {
		states[d.Event+" "+d.State.String()]++
		refused := 0
		for _, a := range d.Attempts {
			posts++
			s := strconv.Itoa(a.Status)
			if a.Status == 0 {
				s = "no answer"
			}
			statuses[s]++
			if a.Status >= 400 && a.Status < 500 {
				refused++
			}
		}
		switch {
		case d.State != wechatpaytest.Delivered && d.State != wechatpaytest.Dropped:
			c.Violations = append(c.Violations, fmt.Sprintf("%s %s of %s: %s after %s", d.Event, d.ID, d.Key, d.State, attempts(d, start)))
		case refused > 0:
			c.Violations = append(c.Violations, fmt.Sprintf("%s %s of %s: refused %d times: %s", d.Event, d.ID, d.Key, refused, attempts(d, start)))
		}
	}
	c.Figures = fmt.Sprintf("%d notifications (%s); %d posts answered %s", len(ds), countsText(states), posts, countsText(statuses))
	return c
}

// attempts renders a delivery's posts: when, and what answered.
func attempts(d wechatpaytest.Delivery, start time.Time) string {
	if len(d.Attempts) == 0 {
		return "no post"
	}
	out := ""
	for i, a := range d.Attempts {
		if i == 8 {
			out += fmt.Sprintf(" … %d posts in all", len(d.Attempts))
			break
		}
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("+%s %d", a.At.Sub(start).Round(time.Millisecond), a.Status)
		if a.Err != "" {
			out += " (" + a.Err + ")"
		}
	}
	return out
}

// checkPayAnswers: payOrder's OK answers carry what the channel's SDK
// needs, a payment started twice is one provider order, and an order the
// buyer sees PAID shows its payment PAID (payBook.wrong).
func checkPayAnswers(b *payBook) Check {
	figures := b.figures()
	b.mu.Lock()
	defer b.mu.Unlock()
	return Check{Name: "payOrder: each OK answer opens the channel's cashier; started twice, one provider order; a PAID order's payment PAID",
		Figures: figures, Violations: append([]string(nil), b.broken...)}
}
