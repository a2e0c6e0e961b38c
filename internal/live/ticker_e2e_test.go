package live_test

import (
	"strings"
	"testing"
	"time"

	"unionmall/internal/mask"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The live overlay's purchase ticker in headless Chromium: purchases made
// through another instance on the same PostgreSQL database appear, newest
// first, with masked names; text is text (a product named like markup is
// shown as such, and runs nothing). Assertions are on the DOM's text, not
// on pixels: without a CJK font (fonts-wqy-microhei) Chromium paints boxes
// but the text is the same.
func TestOverlayTickerAcrossInstances(t *testing.T) {
	d := testdb.Open(t, "postgres")
	browser := startBrowser(t)
	a := servertest.Start(t, d, servertest.Options{}) // serves the overlay
	b := servertest.Start(t, d, servertest.Options{}) // takes the purchases
	event, oilSale := liveSale(t, a, 50)

	county := servertest.CreateCounty(t, a, "紫阳县", "安康市", "NON_POOR_WITH_TASKS")
	sup := servertest.CreateSupplier(t, a, "紫阳茶业", county, 10)
	const markup = `<img src=x onerror="window.pwned=1">富硒茶`
	tea := servertest.CreateProduct(t, a, servertest.ProductIn{Name: markup, Category: "TEA", Price: "30.00", Stock: 100, OnSale: true, SupplierID: sup})
	now := time.Now().UTC()
	var created struct{ CreateFlashSale struct{ ID string } }
	servertest.MustDo(t, a, a.Admin, `mutation($i: CreateFlashSaleInput!) { createFlashSale(input: $i) { id } }`,
		map[string]any{"i": map[string]any{"productID": tea, "price": "9.9", "quantity": 10, "perMemberLimit": 1,
			"startsAt": now.Add(-time.Second).Format(time.RFC3339Nano), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
			"liveEventID": event}}, &created)
	teaSale := created.CreateFlashSale.ID

	buyers := b.BulkVerified(3)
	names := nameBuyers(t, b, buyers)

	page := newTab(t, browser)
	page.open(a.HTTP.URL + "/overlay/live/" + event)
	page.waitFor("first state", 5*time.Second, map[string]string{"orders": "0", "title": "一元秒杀"})
	page.waitJS("connected", 2*time.Second, `document.getElementById('overlay').getAttribute('data-conn') === 'open'`)
	if n := page.js(`document.querySelectorAll('[data-testid=tick]').length`); n != "0" {
		t.Fatalf("%s lines before any purchase", n)
	}
	time.Sleep(300 * time.Millisecond) // both listeners are up (as in TestSubscriptionsAcrossInstances)

	buy(t, b, buyers[0].Token, oilSale)
	first := mask.Name(names[buyers[0].Token]) + " 抢到了 汉中香小榨菜籽油 5L ×1"
	took := page.waitJS("the first purchase", 5*time.Second,
		`(function(){ var l = document.querySelectorAll('[data-testid=tick]'); return l.length === 1 && l[0].textContent === `+jsString(first)+`; })()`)
	t.Logf("a purchase on the other instance shown %v after its answer", took.Round(time.Millisecond))

	buy(t, b, buyers[1].Token, teaSale)
	buy(t, b, buyers[2].Token, oilSale)
	want := []string{
		mask.Name(names[buyers[2].Token]) + " 抢到了 汉中香小榨菜籽油 5L ×1",
		mask.Name(names[buyers[1].Token]) + " 抢到了 " + markup + " ×1",
		first,
	}
	page.waitJS("three purchases, newest first", 5*time.Second,
		`Array.prototype.map.call(document.querySelectorAll('[data-testid=tick]'), function(e){ return e.textContent; }).join('\n') === `+jsString(strings.Join(want, "\n")))
	for _, n := range names {
		if strings.Contains(page.text("ticker"), n) {
			t.Fatalf("the ticker shows the full name %s", n)
		}
	}
	if got := page.js(`document.querySelectorAll('#ticker img').length + ':' + (typeof window.pwned)`); got != "0:undefined" {
		t.Fatalf("the product's name became markup (%s)", got)
	}
	page.waitFor("the counters too", 3*time.Second, map[string]string{"orders": "3"})
	page.checkClean()
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return "'" + r.Replace(s) + "'"
}
