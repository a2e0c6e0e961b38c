// Package browsertest starts headless Chromium for tests that drive the
// mall's pages in a real browser (chromedp, over the DevTools protocol).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Find returns the browser to drive: $CHROMIUM_PATH, else the first of the
// usual names on this machine; "" when there is none (CI installs Debian's
// chromium, .ci/run; a bare machine need not).
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		full, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("CHROMIUM_PATH=%s: %v", p, err)
		}
		return full
	}
	for _, name := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if full, err := exec.LookPath(name); err == nil {
			return full
		}
	}
	return ""
}

// Start starts one headless Chromium at path for the whole test; each
// subtest opens tabs in it (chromedp.NewContext of the context returned).
func Start(t testing.TB, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// The flags known to work on these machines, as root: no sandbox,
		// no GPU, and nothing that reaches for the (closed) internet.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
