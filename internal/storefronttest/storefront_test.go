package storefronttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// fixtures is what the journey is given: the server, who signs in and what
// the catalogue holds (testdata/app/src/fixtures.ts reads the same names).
type fixtures struct {
	URL         string   `json:"url"`
	AdminToken  string   `json:"adminToken"`
	MemberToken string   `json:"memberToken"`
	BuyerToken  string   `json:"buyerToken"`
	ProductIDs  []string `json:"productIDs"`
	CampaignID  string   `json:"campaignID"`
	FlashSaleID string   `json:"flashSaleID"`
	ImagePath   string   `json:"imagePath"`
	Trusted     bool     `json:"trusted"`
}

// app is the Node project; node_modules is installed by `npm ci`.
var app = filepath.Join("testdata", "app")

func TestStorefrontJourneyWithApolloClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the storefront journey (.ci/run installs nothing here; install Node.js 20+)")
	}
	if _, err := os.Stat(filepath.Join(app, "node_modules", ".bin", "graphql-codegen")); err != nil {
		t.Skip("the storefront app's dependencies are not installed: run `npm ci` in internal/storefronttest/testdata/app (.ci/run does)")
	}
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		// With the response cache on, as in production (servertest's
		// default leaves it off).
		m := servertest.Start(t, d, servertest.Options{PaymentSandbox: true, ResponseCache: 1000})
		shop := servertest.NewShop(t, m)
		f := seed(t, m, shop)
		// Types from the served schema, then a type check of the app
		// against them (a renamed field fails here), then the journey.
		run(t, node, f, "node_modules/@graphql-codegen/cli/esm/bin.js", "--config", "codegen.ts")
		run(t, node, f, "node_modules/typescript/bin/tsc", "-p", "tsconfig.json")
		run(t, node, f, "dist/journey.js")

		// Again through an instance that runs only the manifest codegen
		// wrote (TRUSTED_DOCUMENTS), every operation sent by its hash; a
		// second seeding (through the first instance, on the same
		// database) gives the journey fresh members and a fresh sale.
		trusted := servertest.Start(t, d, servertest.Options{PaymentSandbox: true, NoWorkers: true,
			TrustedDocuments: manifest(t), ResponseCache: 1000})
		f = seed(t, m, shop)
		f.URL, f.Trusted = trusted.HTTP.URL, true
		run(t, node, f, "dist/journey.js")
	})
}

// manifest is the persisted-documents.json GraphQL Code Generator wrote,
// plus the sign-in document servertest.Start sends as text.
func manifest(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(app, "src", "gql", "persisted-documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	if err := json.Unmarshal(b, &docs); err != nil || len(docs) == 0 {
		t.Fatalf("codegen's manifest: %v (%d documents)", err, len(docs))
	}
	const login = `mutation($i: LoginInput!) { login(input: $i) { token } }`
	sum := sha256.Sum256([]byte(login))
	docs[hex.EncodeToString(sum[:])] = login
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	b, _ = json.Marshal(docs)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// seed makes the catalogue the journey browses: three products on sale,
// the four-tier coupon campaign, an active flash sale, and two verified
// members (one shops, one buys in the flash sale while the first watches).
func seed(t *testing.T, m *servertest.Mall, shop *servertest.Shop) fixtures {
	t.Helper()
	ids := []string{
		shop.Product(t, "汉中香小榨菜籽油 5L", "69.90", "", 100),
		shop.Product(t, "陕南富硒绿茶 250g", "58.00", "", 100),
		shop.Product(t, "洛川红富士苹果 5kg", "39.80", "", 100),
	}
	now := time.Now()
	sale := servertest.CreateSale(t, m, shop.Product(t, "汉中香小榨菜籽油 5L（秒杀）", "79.90", "", 100), "1", 50, 1, now.Add(-time.Second), now.Add(time.Hour))
	img := filepath.Join(t.TempDir(), "cover.png")
	if err := os.WriteFile(img, pngBytes(t, 64, 48), 0o600); err != nil {
		t.Fatal(err)
	}
	return fixtures{
		URL:         m.HTTP.URL,
		AdminToken:  m.Admin,
		MemberToken: m.Verified("张三丰").Token,
		BuyerToken:  m.Verified("李四").Token,
		ProductIDs:  ids,
		CampaignID:  servertest.NewCampaign(t, m, now.Add(30*24*time.Hour)),
		FlashSaleID: sale.ID,
		ImagePath:   img,
	}
}

// run runs one step of the app with node, its output in the test log.
func run(t *testing.T, node string, f fixtures, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "STOREFRONT_FIXTURES="+string(js), "NODE_NO_WARNINGS=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	t.Logf("node %v:\n%s", args, buf.String())
	if err != nil {
		t.Fatalf("node %v: %v", args, err)
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	im := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			im.Set(x, y, color.RGBA{uint8(200 + x%50), uint8(120 + y%80), 40, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, im); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
