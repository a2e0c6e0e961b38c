package graph

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"unionmall/graph/generated"
	"unionmall/internal/apperr"
	"unionmall/internal/gid"
)

// Every type that implements Node has an ID prefix that node(id:) resolves;
// hidden types (tokens, tiers, holdings, order lines) have none.
func TestEveryNodeTypeHasAPrefix(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	tables := map[string]bool{}
	for _, table := range nodeTables {
		tables[table] = true
	}
	var nodes []string
	for _, def := range schema.Types {
		for _, i := range def.Interfaces {
			if i == "Node" {
				nodes = append(nodes, def.Name)
			}
		}
	}
	if len(nodes) != len(nodeTables) {
		t.Fatalf("schema has %d Node types %v, nodeTables has %d prefixes", len(nodes), nodes, len(nodeTables))
	}
	for _, hidden := range []string{gid.AuthToken, gid.CouponTier, gid.FlashSaleHolding, gid.OrderItem} {
		if _, ok := nodeTables[hidden]; ok {
			t.Errorf("prefix %q must not resolve as a node", hidden)
		}
	}
}

func TestPresentError(t *testing.T) {
	zh := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, nil)
	en := apperr.WithLang(zh, apperr.English)
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		wantCode string
		wantMsg  string
	}{
		{"domain refusal", en, apperr.New(apperr.SoldOut, "sold out (已抢光)"), "SOLD_OUT", "sold out (已抢光)"},
		{"domain refusal in Chinese", zh, apperr.New(apperr.SoldOut, "sold out (已抢光)"), "SOLD_OUT", "已售罄（已抢光）"},
		{"wrapped domain refusal", en, errors.Join(errors.New("context"), apperr.BadInput("price", "bad price")), "BAD_USER_INPUT", "bad price"},
		{"internal", en, errors.New("pq: relation \"secret_table\" does not exist"), "INTERNAL_SERVER_ERROR", "internal server error"},
		{"internal in Chinese", zh, errors.New("pq: relation \"secret_table\" does not exist"), "INTERNAL_SERVER_ERROR", "服务器内部错误"},
		{"gqlgen's own", en, &gqlerror.Error{Message: "syntax", Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}}, "GRAPHQL_PARSE_FAILED", "syntax"},
		{"gqlgen's own in Chinese", zh, &gqlerror.Error{Message: "syntax", Extensions: map[string]any{"code": "GRAPHQL_PARSE_FAILED"}}, "GRAPHQL_PARSE_FAILED", "查询无法解析：syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := presentError(tt.ctx, tt.err)
			if got.Extensions["code"] != tt.wantCode || got.Message != tt.wantMsg {
				t.Fatalf("got %q %v, want %q %q", got.Message, got.Extensions, tt.wantMsg, tt.wantCode)
			}
			if strings.Contains(got.Error(), "secret_table") {
				t.Fatal("an internal detail reached the client")
			}
		})
	}
}

func TestRecoverHidesThePanic(t *testing.T) {
	err := recoverPanic(apperr.WithLang(context.Background(), apperr.English), "runtime error: index out of range [secret]")
	var ge *gqlerror.Error
	if !errors.As(err, &ge) || ge.Message != "internal server error" || ge.Extensions["code"] != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("%#v", err)
	}
}

func TestPageSize(t *testing.T) {
	n := func(v int) *int { return &v }
	tests := []struct {
		first, last *int
		wantFirst   *int
		wantErr     bool
	}{
		{nil, nil, n(20), false},
		{n(100), nil, n(100), false},
		{n(101), nil, nil, true},
		{nil, n(101), nil, true},
		{n(-1), nil, nil, true},
		{nil, n(5), nil, false},
	}
	for _, tt := range tests {
		f, _, err := pageSize(tt.first, tt.last)
		if (err != nil) != tt.wantErr {
			t.Fatalf("pageSize(%v, %v) err = %v", tt.first, tt.last, err)
		}
		if err != nil {
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("code %s", apperr.CodeOf(err))
			}
			continue
		}
		if (f == nil) != (tt.wantFirst == nil) || (f != nil && *f != *tt.wantFirst) {
			t.Fatalf("pageSize(%v, %v) first = %v", tt.first, tt.last, f)
		}
	}
}
