package harness

import (
	"context"
	"fmt"
	"time"

	"unionmall/ent"
	"unionmall/ent/county"
	"unionmall/ent/member"
	"unionmall/ent/product"
	"unionmall/internal/auth"
	"unionmall/internal/db"
	"unionmall/internal/flashsales"
	"unionmall/internal/gid"
	"unionmall/internal/money"
	"unionmall/internal/role"
)

// Buyer is a verified member made by MakeBuyers and a token of theirs.
type Buyer struct {
	ID    gid.ID
	Phone string
	Token string
}

// Buyers says which members MakeBuyers makes.
type Buyers struct {
	N int
	// PhonePrefix starts every phone; a sequence number fills the rest of
	// its 11 digits.
	PhonePrefix string
	Name        string // display names are Name + sequence number
	// PasswordHash is every member's password hash; members made without
	// one cannot sign in with a password.
	PasswordHash string
}

// MakeBuyers creates VERIFIED members straight in the database and signs
// each in (no password hashing, no review), a thousand per statement.
func MakeBuyers(ctx context.Context, d *db.DB, b Buyers) ([]Buyer, error) {
	hash := b.PasswordHash
	if hash == "" {
		hash = "made by the harness: no password"
	}
	sessions := auth.NewSessions(d, 720*time.Hour, nil)
	digits := 11 - len(b.PhonePrefix)
	out := make([]Buyer, 0, b.N)
	for start := 0; start < b.N; start += 1000 {
		size := min(1000, b.N-start)
		creates := make([]*ent.MemberCreate, size)
		phones := make([]string, size)
		for i := range creates {
			phones[i] = fmt.Sprintf("%s%0*d", b.PhonePrefix, digits, start+i)
			creates[i] = d.Client.Member.Create().
				SetPhone(phones[i]).
				SetPasswordHash(hash).
				SetDisplayName(fmt.Sprintf("%s%d", b.Name, start+i)).
				SetRoles(role.Set{role.Member}).
				SetVerificationStatus(member.VerificationStatusVERIFIED)
		}
		members, err := d.Client.Member.CreateBulk(creates...).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create members (phones %s…: a previous run may have used them): %w", phones[0], err)
		}
		tokens, err := sessions.IssueMany(ctx, d.Client, members)
		if err != nil {
			return nil, err
		}
		for i, m := range members {
			out = append(out, Buyer{ID: m.ID, Phone: phones[i], Token: tokens[i]})
		}
	}
	return out, nil
}

// MakeSale creates a county (城固县, once), a supplier and a product with
// the sale's units, and a sale running now for an hour, straight in the
// database. label tells whose they are in their names (故障测试, 压测).
func MakeSale(ctx context.Context, d *db.DB, quantity, limit int, label string) (*ent.FlashSale, error) {
	c, err := d.Client.County.Query().Where(county.Name("城固县")).First(ctx)
	if ent.IsNotFound(err) {
		c, err = d.Client.County.Create().SetName("城固县").SetCity("汉中市").
			SetPovertyStatus(county.PovertyStatusNON_POOR_WITH_TASKS).Save(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("county: %w", err)
	}
	sup, err := d.Client.Supplier.Create().SetName(label + "粮油供应商 " + string(gid.New("sup"))).
		SetCountyID(c.ID).SetBeneficiaries(100).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("supplier: %w", err)
	}
	p, err := d.Client.Product.Create().SetName("汉中香小榨菜籽油 5L（" + label + "）").
		SetCategory(product.CategoryGRAIN_OIL).SetPrice(7990).SetSalePrice(7990).
		SetStock(quantity).SetStockReceived(quantity).SetSupplierID(sup.ID).SetCountyID(c.ID).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("product: %w", err)
	}
	now := time.Now()
	sale, err := flashsales.New(d, 15*time.Minute, nil).Create(ctx, flashsales.NewSale{
		ProductID: p.ID, Price: money.Yuan, Quantity: quantity, PerMemberLimit: limit,
		StartsAt: now.Add(-time.Second), EndsAt: now.Add(time.Hour),
	})
	if err != nil {
		return nil, fmt.Errorf("flash sale: %w", err)
	}
	return sale, nil
}
