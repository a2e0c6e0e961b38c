package apperr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"unionmall/internal/apperr"
)

func TestParseLang(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   apperr.Lang
	}{
		{"", apperr.Chinese},
		{"en", apperr.English},
		{"en-US", apperr.English},
		{"en-GB;q=0.8", apperr.English},
		{"en-US,en;q=0.9,zh-CN;q=0.8", apperr.English},
		{"zh-CN,zh;q=0.9,en;q=0.8", apperr.Chinese},
		{"zh-TW", apperr.Chinese},
		{"fr-FR", apperr.Chinese},
		{"fr, en;q=0.5", apperr.English},
		{"*", apperr.Chinese},
		{";;;garbage", apperr.Chinese},
	} {
		if got := apperr.ParseLang(tc.header); got != tc.want {
			t.Errorf("ParseLang(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestIn(t *testing.T) {
	for _, tc := range []struct {
		err    *apperr.Error
		zh, en string
	}{
		{apperr.New(apperr.SoldOut, "sold out (已抢光)"), "已售罄（已抢光）", "sold out (已抢光)"},
		{apperr.New(apperr.LimitExceeded, "that would pass the per-member limit of this flash sale"), "超出每人限购数量", "that would pass the per-member limit of this flash sale"},
		{apperr.BadInput("name", "%s must have 1 to %d characters", "name", 32), "长度须为 1 到 32 个字符", "name must have 1 to 32 characters"},
		{apperr.New(apperr.InvalidState, "cannot %s an order that is %s", "ship", "CANCELLED"), "订单当前状态为 CANCELLED，无法进行此操作", "cannot ship an order that is CANCELLED"},
		{apperr.BadInput("x", "%s is not valid UTF-8 text", "x"), "文本不是有效的 UTF-8 编码", "x is not valid UTF-8 text"},
		{&apperr.Error{Code: apperr.Internal, Message: "made by hand"}, "made by hand", "made by hand"},
	} {
		if got := tc.err.In(apperr.Chinese); got != tc.zh {
			t.Errorf("zh: %q, want %q", got, tc.zh)
		}
		if got := tc.err.In(apperr.English); got != tc.en {
			t.Errorf("en: %q, want %q", got, tc.en)
		}
		if tc.err.Error() != tc.en {
			t.Errorf("Error() = %q, want the English %q", tc.err.Error(), tc.en)
		}
	}
	ctx := apperr.WithLang(context.Background(), apperr.English)
	if got := apperr.Message(ctx, apperr.New(apperr.Unauthenticated, "sign in first")); got != "sign in first" {
		t.Errorf("Message in English = %q", got)
	}
	if got := apperr.Message(context.Background(), apperr.New(apperr.Unauthenticated, "sign in first")); got != "请先登录" {
		t.Errorf("Message by default = %q", got)
	}
}

func TestProblems(t *testing.T) {
	var p apperr.Problems
	if p.Err() != nil {
		t.Fatal("no problems, an error")
	}
	one := apperr.BadInput("phone", "the phone must be an 11-digit mainland mobile number starting with 1")
	p.Add(nil)
	p.Add(one)
	if err := p.Err(); err != one {
		t.Fatalf("one problem: %v", err)
	}
	p.Add(fmt.Errorf("wrapped: %w", apperr.BadInput("password", "the password needs at least %d characters", 8)))
	if !p.Check(nil) || p.Check(apperr.BadInput("displayName", "%s must have 1 to %d characters", "displayName", 32)) {
		t.Fatal("Check reports whether the error was nil")
	}
	var e *apperr.Error
	if !errors.As(p.Err(), &e) || e.Code != apperr.BadUserInput || e.Field != "phone" || len(e.Fields) != 3 {
		t.Fatalf("three problems: %+v", p.Err())
	}
	if got := e.In(apperr.Chinese); got != "手机号须为以 1 开头的 11 位中国大陆手机号；密码至少 8 个字符；长度须为 1 到 32 个字符" {
		t.Errorf("zh %q", got)
	}
	var mixed apperr.Problems
	mixed.Add(one)
	internal := errors.New("database down")
	mixed.Add(internal)
	if mixed.Err() != internal {
		t.Errorf("a problem that is no bad input comes first: %v", mixed.Err())
	}
}

func TestRetrySeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {time.Minute, 60}} {
		if got := apperr.Limited(tc.d, "too many purchase attempts; slow down").RetrySeconds(); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.d, got, tc.want)
		}
	}
	if apperr.New(apperr.SoldOut, "sold out (已抢光)").RetrySeconds() != 0 {
		t.Error("only a limit has a retry")
	}
}
