package cart_test

import (
	"testing"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// The cart's GraphQL operations and what the tests read of their answers.
const (
	cartFields = `lines { id product { id } quantity unitPrice lineTotal problem } subtotal itemCount updatedAt`
	addQ       = `mutation($i: CartLineInput!) { addToCart(input: $i) { ` + cartFields + ` } }`
	setQ       = `mutation($i: CartLineInput!) { setCartLineQuantity(input: $i) { ` + cartFields + ` } }`
	removeQ    = `mutation($p: ID!) { removeFromCart(productID: $p) { ` + cartFields + ` } }`
	clearQ     = `mutation { clearCart { ` + cartFields + ` } }`
	cartQ      = `{ cart { ` + cartFields + ` } }`
	quoteQ     = `query($i: QuoteInput) { quote(input: $i) {
		lines { product { id } quantity unitPrice lineTotal problem }
		subtotal discount total orderable
		coupons { coupon { id threshold discount } applicable discount reason }
		bestCoupon { id } appliedCoupon { id } } }`
	updateProductQ = `mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id } }`
)

type cartLine struct {
	ID                   string
	Product              struct{ ID string }
	Quantity             int
	UnitPrice, LineTotal string
	Problem              *string
}

type cartOut struct {
	Lines     []cartLine
	Subtotal  string
	ItemCount int
	UpdatedAt *string
}

// quantities is the cart's lines as product → quantity.
func (c cartOut) quantities() map[string]int {
	q := map[string]int{}
	for _, l := range c.Lines {
		q[l.Product.ID] = l.Quantity
	}
	return q
}

func (c cartOut) line(productID string) *cartLine {
	for i := range c.Lines {
		if c.Lines[i].Product.ID == productID {
			return &c.Lines[i]
		}
	}
	return nil
}

type quoteOut struct {
	Lines []struct {
		Product              struct{ ID string }
		Quantity             int
		UnitPrice, LineTotal string
		Problem              *string
	}
	Subtotal, Discount, Total string
	Orderable                 bool
	Coupons                   []struct {
		Coupon     struct{ ID, Threshold, Discount string }
		Applicable bool
		Discount   string
		Reason     *string
	}
	BestCoupon, AppliedCoupon *struct{ ID string }
}

func getCart(t testing.TB, m *servertest.Mall, token string) cartOut {
	t.Helper()
	var out struct{ Cart cartOut }
	servertest.MustDo(t, m, token, cartQ, nil, &out)
	return out.Cart
}

func add(t testing.TB, m *servertest.Mall, token, productID string, q int) cartOut {
	t.Helper()
	var out struct{ AddToCart cartOut }
	servertest.MustDo(t, m, token, addQ, lineVars(productID, q), &out)
	return out.AddToCart
}

func lineVars(productID string, q int) map[string]any {
	return map[string]any{"i": map[string]any{"productID": productID, "quantity": q}}
}

func quote(t testing.TB, m *servertest.Mall, token string, in map[string]any) quoteOut {
	t.Helper()
	var out struct{ Quote quoteOut }
	var vars map[string]any
	if in != nil {
		vars = map[string]any{"i": in}
	}
	servertest.MustDo(t, m, token, quoteQ, vars, &out)
	return out.Quote
}

func updateProduct(t testing.TB, m *servertest.Mall, id string, in map[string]any) {
	t.Helper()
	servertest.MustDo(t, m, m.Admin, updateProductQ, map[string]any{"id": id, "i": in}, nil)
}

// cartRows is every cart line as stored, timestamps included.
func cartRows(t testing.TB, d *testdb.DB) []string {
	t.Helper()
	return servertest.RowLines(t, d, "cart_lines", `SELECT * FROM cart_lines ORDER BY id`)
}

// items is placeOrder's or quote's items.
func items(lines ...servertest.Line) []map[string]any {
	out := []map[string]any{}
	for _, l := range lines {
		out = append(out, map[string]any{"productID": l.ID, "quantity": l.Qty})
	}
	return out
}
