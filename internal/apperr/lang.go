package apperr

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a language the mall answers in.
type Lang int

// The languages: Chinese unless the caller prefers English.
const (
	Chinese Lang = iota
	English
)

// matcher picks from Accept-Language; its first tag is the default.
var matcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})

// ParseLang picks the language for an Accept-Language header ("en",
// "en-US,en;q=0.9", "zh-CN"): English when the caller prefers it to
// Chinese, else Chinese (also for an empty or malformed header).
func ParseLang(acceptLanguage string) Lang {
	if acceptLanguage == "" {
		return Chinese
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Chinese
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No || i != 1 {
		return Chinese
	}
	return English
}

type langKey struct{}

// WithLang returns ctx answering in lang.
func WithLang(ctx context.Context, lang Lang) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// LangOf is the language ctx answers in (Chinese by default).
func LangOf(ctx context.Context) Lang {
	l, _ := ctx.Value(langKey{}).(Lang)
	return l
}

// Message returns err's message in ctx's language.
func Message(ctx context.Context, err *Error) string { return err.In(LangOf(ctx)) }

// translate formats the message of format in lang; a format without a
// Chinese form (catalog_test.go fails for it) stays English.
func translate(lang Lang, format string, args []any) string {
	if lang == Chinese {
		if zh, ok := zh[format]; ok {
			if !strings.Contains(zh, "%") {
				return zh // its arguments left out
			}
			format = zh
		}
	}
	return fmt.Sprintf(format, args...)
}
