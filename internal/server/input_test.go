package server_test

import (
	"fmt"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// Bad input is BAD_USER_INPUT and writes nothing.
func TestBadInputWritesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		m := servertest.Start(t, d, servertest.Options{})
		county := servertest.CreateCounty(t, m, "洛南县", "商洛市", "LIFTED")
		supplier := servertest.CreateSupplier(t, m, "Luonan Walnut Co-op", county, 3)
		product := servertest.CreateProduct(t, m, servertest.ProductIn{Name: "Walnut Kernels", Category: "SNACKS",
			Price: "40", SalePrice: "30", Stock: 8, OnSale: true, SupplierID: supplier})
		member := m.Register("待认证")

		count := func(table string) func() string {
			return func() string { return fmt.Sprint(servertest.Rows(t, d, table)) }
		}
		memberState := func() string {
			var status string
			var realName, masked *string
			err := d.Pool.QueryRow(d.Q(`SELECT verification_status, real_name, id_number_masked FROM members WHERE id = ?`), member.ID).
				Scan(&status, &realName, &masked)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(status, realName, masked, servertest.Rows(t, d, "members"))
		}
		productState := func() string { return fmt.Sprintf("%+v", servertest.ReadProduct(t, d, product)) }

		register := func(phone, password string) map[string]any {
			return map[string]any{"i": map[string]any{"phone": phone, "password": password, "displayName": "新会员"}}
		}
		realName := func(id string) map[string]any {
			return map[string]any{"i": map[string]any{"realName": "张三", "idNumber": id}}
		}
		good := servertest.NextIDNumber()
		wrongCheck := good[:17] + string("10X98765432"[(1+indexOf("10X98765432", good[17]))%11])
		impossible := "61010219900230123"
		impossible += string(servertest.CheckDigit(impossible))
		future := "610102" + time.Now().AddDate(1, 0, 0).Format("20060102") + "123"
		future += string(servertest.CheckDigit(future))
		newProduct := func(change func(in map[string]any)) map[string]any {
			v := servertest.ProductIn{Name: "Dried Persimmons", Category: "SNACKS", Price: "12", Stock: 5,
				OnSale: true, SupplierID: supplier}.Vars()
			change(v["i"].(map[string]any))
			return v
		}
		price := func(p any) map[string]any {
			return newProduct(func(in map[string]any) { in["price"] = p })
		}
		now := time.Now().UTC().Truncate(time.Second)
		liveEvent := func(starts, ends string) map[string]any {
			return map[string]any{"i": map[string]any{"title": "直播", "startsAt": starts, "endsAt": ends}}
		}
		update := func(in map[string]any) map[string]any { return map[string]any{"id": product, "i": in} }

		cases := []struct {
			name, token, query string
			vars               map[string]any
			probe              func() string
		}{
			{"phone 10 digits", "", servertest.RegisterQ, register("1380000000", "long-enough-pw"), count("members")},
			{"phone starts with 2", "", servertest.RegisterQ, register("23800000000", "long-enough-pw"), count("members")},
			{"phone with a letter", "", servertest.RegisterQ, register("1380000000a", "long-enough-pw"), count("members")},
			{"phone with +86", "", servertest.RegisterQ, register("+8613800000000", "long-enough-pw"), count("members")},
			{"phone empty", "", servertest.RegisterQ, register("", "long-enough-pw"), count("members")},
			{"password 7 characters", "", servertest.RegisterQ, register("13800000001", "1234567"), count("members")},
			{"display name blank", "", servertest.RegisterQ, map[string]any{"i": map[string]any{
				"phone": "13800000002", "password": "long-enough-pw", "displayName": "  "}}, count("members")},

			{"id number wrong check digit", member.Token, servertest.SubmitRealNameQ, realName(wrongCheck), memberState},
			{"id number 17 characters", member.Token, servertest.SubmitRealNameQ, realName(good[:17]), memberState},
			{"id number 19 characters", member.Token, servertest.SubmitRealNameQ, realName(good + "1"), memberState},
			{"id number impossible date", member.Token, servertest.SubmitRealNameQ, realName(impossible), memberState},
			{"id number born in the future", member.Token, servertest.SubmitRealNameQ, realName(future), memberState},
			{"real name blank", member.Token, servertest.SubmitRealNameQ, map[string]any{"i": map[string]any{
				"realName": " ", "idNumber": good}}, memberState},

			{"salePrice above price", m.Admin, servertest.CreateProductQ,
				newProduct(func(in map[string]any) { in["salePrice"] = "12.01" }), count("products")},
			{"salePrice 0", m.Admin, servertest.CreateProductQ,
				newProduct(func(in map[string]any) { in["salePrice"] = "0" }), count("products")},
			{"price 1.234", m.Admin, servertest.CreateProductQ, price("1.234"), count("products")},
			{"price -1", m.Admin, servertest.CreateProductQ, price("-1"), count("products")},
			{"price abc", m.Admin, servertest.CreateProductQ, price("abc"), count("products")},
			{"price 01.00", m.Admin, servertest.CreateProductQ, price("01.00"), count("products")},
			{"price +1", m.Admin, servertest.CreateProductQ, price("+1"), count("products")},
			{"price 1e2", m.Admin, servertest.CreateProductQ, price("1e2"), count("products")},
			{"price JSON number", m.Admin, servertest.CreateProductQ, price(12.5), count("products")},
			{"price JSON integer", m.Admin, servertest.CreateProductQ, price(12), count("products")},
			{"price 0", m.Admin, servertest.CreateProductQ, price("0"), count("products")},
			{"price 0.00", m.Admin, servertest.CreateProductQ, price("0.00"), count("products")},
			{"price empty", m.Admin, servertest.CreateProductQ, price(""), count("products")},
			{"price past 10^12 yuan", m.Admin, servertest.CreateProductQ, price("1000000000000.01"), count("products")},
			{"price literal number", m.Admin, `mutation($s: ID!) { createProduct(input: {name: "x", category: TEA,
				price: 12.5, stock: 1, supplierID: $s}) { id } }`, map[string]any{"s": supplier}, count("products")},
			{"price literal 1.234", m.Admin, `mutation($s: ID!) { createProduct(input: {name: "x", category: TEA,
				price: "1.234", stock: 1, supplierID: $s}) { id } }`, map[string]any{"s": supplier}, count("products")},
			{"stock -1", m.Admin, servertest.CreateProductQ,
				newProduct(func(in map[string]any) { in["stock"] = -1 }), count("products")},
			{"product name blank", m.Admin, servertest.CreateProductQ,
				newProduct(func(in map[string]any) { in["name"] = "" }), count("products")},

			{"beneficiaries -1", m.Admin, servertest.CreateSupplierQ, map[string]any{"i": map[string]any{
				"name": "Negative Co-op", "countyID": county, "beneficiaries": -1}}, count("suppliers")},
			{"county name blank", m.Admin, servertest.CreateCountyQ, map[string]any{"i": map[string]any{
				"name": "", "city": "商洛市", "povertyStatus": "LIFTED"}}, count("counties")},

			{"live event ends before it starts", m.Admin, servertest.CreateLiveEventQ,
				liveEvent(now.Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)), count("live_events")},
			{"live event ends as it starts", m.Admin, servertest.CreateLiveEventQ,
				liveEvent(now.Format(time.RFC3339), now.Format(time.RFC3339)), count("live_events")},
			{"live event time not RFC 3339", m.Admin, servertest.CreateLiveEventQ,
				liveEvent("tomorrow", now.Format(time.RFC3339)), count("live_events")},
			{"live event stream URL", m.Admin, servertest.CreateLiveEventQ, map[string]any{"i": map[string]any{"title": "直播",
				"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
				"streamURL": "javascript:alert(1)"}}, count("live_events")},

			{"update salePrice above price", m.Admin, servertest.UpdateProductQ, update(map[string]any{"salePrice": "40.01"}), productState},
			{"update price below salePrice", m.Admin, servertest.UpdateProductQ, update(map[string]any{"price": "29.99"}), productState},
			{"update price 0 with a name", m.Admin, servertest.UpdateProductQ, update(map[string]any{"price": "0", "name": "Renamed"}), productState},
			{"update price 1.234", m.Admin, servertest.UpdateProductQ, update(map[string]any{"price": "1.234"}), productState},
			{"update name blank", m.Admin, servertest.UpdateProductQ, update(map[string]any{"name": " ", "stockDelta": 1}), productState},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := c.probe()
				r := m.Do(c.token, c.query, c.vars)
				servertest.WantCode(t, r, "BAD_USER_INPUT")
				if string(r.Data) != "null" {
					t.Errorf("data %s", r.Data)
				}
				if after := c.probe(); after != before {
					t.Fatalf("state changed: %s → %s", before, after)
				}
			})
		}

		// The member is still UNVERIFIED, as me shows.
		var me struct {
			Me struct{ VerificationStatus string }
		}
		servertest.MustDo(t, m, member.Token, servertest.MeQ, nil, &me)
		if me.Me.VerificationStatus != "UNVERIFIED" {
			t.Fatalf("member after refused submissions: %+v", me.Me)
		}
		// The product is as created.
		if p := servertest.ReadProduct(t, d, product); p != (servertest.StoredProduct{Name: "Walnut Kernels", Price: 4000, SalePrice: 3000, Stock: 8, OnSale: true}) {
			t.Fatalf("product after refused updates: %+v", p)
		}
	})
}

func indexOf(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}
