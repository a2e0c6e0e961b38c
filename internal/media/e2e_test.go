package media_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"unionmall/internal/media"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

type image struct {
	ID, URL, ContentType string
	Width, Height, Bytes int
	Position             int
}

// upload sends uploadProductImage as a multipart request, the file
// declared as filename and contentType.
func upload(t *testing.T, m *servertest.Mall, token, productID string, file []byte, filename, contentType string, cover bool) *servertest.Response {
	t.Helper()
	return m.DoMultipart(token, servertest.UploadProductImageQ, map[string]any{"p": productID, "cover": cover},
		servertest.Upload{Var: "f", Filename: filename, ContentType: contentType, Data: file})
}

func mustUpload(t *testing.T, m *servertest.Mall, productID string, file []byte, cover bool) image {
	t.Helper()
	r := upload(t, m, m.Admin, productID, file, "photo.png", "image/png", cover)
	if len(r.Errors) > 0 {
		t.Fatalf("upload: %+v", r.Errors)
	}
	var out struct{ UploadProductImage image }
	r.Decode(t, &out)
	return out.UploadProductImage
}

func get(t *testing.T, m *servertest.Mall, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.HTTP.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := m.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// An upload through the real handler comes back from its url without its
// metadata and with headers that let clients cache it forever.
func TestUploadAndServe(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		dir := t.TempDir()
		store, err := media.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := servertest.Start(t, d, servertest.Options{Media: store})
		p := m.NewProduct("12.00", 3)

		// A JPEG declared as a PNG: the content decides.
		img := mustUpload(t, m, p, jpegWithEXIF(t), false)
		if img.ContentType != "image/jpeg" || img.Width != 40 || img.Height != 30 || img.Position != 0 ||
			!strings.HasPrefix(img.URL, "/media/") || !strings.HasSuffix(img.URL, ".jpg") {
			t.Fatalf("%+v", img)
		}
		res, body := get(t, m, img.URL)
		if res.StatusCode != 200 || len(body) != img.Bytes || bytes.Contains(body, []byte("Exif")) || bytes.Contains(body, []byte("GPS")) {
			t.Fatalf("GET %s: %d, %d bytes (want %d), EXIF %v", img.URL, res.StatusCode, len(body), img.Bytes, bytes.Contains(body, []byte("Exif")))
		}
		for k, v := range map[string]string{
			"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "image/jpeg",
			"X-Content-Type-Options": "nosniff", "ETag": `"` + img.URL[len("/media/"):len("/media/")+64] + `"`,
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		if res, _ := get(t, m, img.URL, "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", res.StatusCode)
		}
		if got := files(t, dir); len(got) != 1 || "/media/"+got[0] != img.URL {
			t.Fatalf("stored files %v", got)
		}

		var out struct {
			Product struct {
				Images []image
				Cover  *image
			}
		}
		m.MustDo("", `query($id: ID!) { product(id: $id) { images { id url position } cover { id } } }`, map[string]any{"id": p}, &out)
		if len(out.Product.Images) != 1 || out.Product.Images[0].URL != img.URL || out.Product.Cover == nil || out.Product.Cover.ID != img.ID {
			t.Fatalf("%+v", out.Product)
		}

		// Nothing else is served from /media/.
		absent := "/media/" + strings.Repeat("0", 64) + ".png"
		for _, path := range []string{absent, "/media/", "/media/..%2fmall.db", "/media/" + strings.ToUpper(img.URL[7:]),
			img.URL + "/", strings.TrimSuffix(img.URL, ".jpg") + ".png", "/media/.upload-1"} {
			if res, _ := get(t, m, path); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
			}
		}
	})
}

// Every refused upload answers BAD_USER_INPUT and stores nothing: no file,
// no row.
func TestUploadRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		dir := t.TempDir()
		store, _ := media.NewDir(dir)
		m := servertest.Start(t, d, servertest.Options{Media: store, MediaMaxBytes: 200 << 10})
		p := m.NewProduct("12.00", 3)
		for _, c := range []struct {
			name        string
			file        []byte
			contentType string
			code        string
			status      int
		}{
			{"HTML declared as PNG", []byte("<!doctype html><script>alert(document.cookie)</script>"), "image/png", "BAD_USER_INPUT", 200},
			{"text declared as JPEG", []byte("just some text"), "image/jpeg", "BAD_USER_INPUT", 200},
			{"larger than MEDIA_MAX_BYTES", noise(201 << 10), "image/png", "BAD_USER_INPUT", 200},
			{"larger than the request bound", noise(1300 << 10), "image/png", "BAD_USER_INPUT", 413},
			{"too many pixels", pngOf(t, 9000, 8), "image/png", "BAD_USER_INPUT", 200},
			{"decompression bomb", pngBomb(t, 50000, 50000), "image/png", "BAD_USER_INPUT", 200},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := upload(t, m, m.Admin, p, c.file, "x.png", c.contentType, false)
				servertest.WantCode(t, r, c.code)
				if r.Status != c.status {
					t.Errorf("status %d, want %d", r.Status, c.status)
				}
				if got := files(t, dir); len(got) != 0 {
					t.Fatalf("stored %v", got)
				}
				if n := d.Int(t, `SELECT COUNT(*) FROM product_images`); n != 0 {
					t.Fatalf("%d rows", n)
				}
			})
		}
		t.Run("unknown product", func(t *testing.T) {
			servertest.WantCode(t, upload(t, m, m.Admin, "prd_01JD5Z0000000000000000000", pngOf(t, 4, 4), "x.png", "image/png", false), "NOT_FOUND")
			if got := files(t, dir); len(got) != 0 {
				t.Fatalf("stored %v", got)
			}
		})
		t.Run("not an ADMIN", func(t *testing.T) {
			servertest.WantCode(t, upload(t, m, "", p, pngOf(t, 4, 4), "x.png", "image/png", false), "UNAUTHENTICATED")
			member := m.Verified("买家").Token
			servertest.WantCode(t, upload(t, m, member, p, pngOf(t, 4, 4), "x.png", "image/png", false), "FORBIDDEN")
			// Only an ADMIN's multipart body may pass the ordinary bound:
			// a body a member could not upload anyway is not even read.
			for who, token := range map[string]string{"anonymous": "", "a member": member} {
				if r := upload(t, m, token, p, noise(1100<<10), "x.png", "image/png", false); r.Status != http.StatusRequestEntityTooLarge {
					t.Errorf("%s's 1.1 MiB multipart body (an ADMIN may send up to 1.2): status %d, want 413", who, r.Status)
				}
			}
			if got := files(t, dir); len(got) != 0 {
				t.Fatalf("stored %v", got)
			}
		})
	})
}

const productImagesQ = `query($id: ID!) { product(id: $id) { images { id position width } cover { id } } }`

type productImages struct {
	Product struct {
		Images []image
		Cover  *image
	}
}

func imagesOf(t *testing.T, m *servertest.Mall, p string) []image {
	t.Helper()
	var out productImages
	m.MustDo(m.Admin, productImagesQ, map[string]any{"id": p}, &out)
	for i, img := range out.Product.Images {
		if img.Position != i {
			t.Fatalf("image %d has position %d", i, img.Position)
		}
	}
	if (out.Product.Cover == nil) != (len(out.Product.Images) == 0) || (out.Product.Cover != nil && out.Product.Cover.ID != out.Product.Images[0].ID) {
		t.Fatalf("cover %+v of %+v", out.Product.Cover, out.Product.Images)
	}
	return out.Product.Images
}

func widths(imgs []image) []int {
	var w []int
	for _, i := range imgs {
		w = append(w, i.Width)
	}
	return w
}

func TestCoverReorderRemove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		dir := t.TempDir()
		store, _ := media.NewDir(dir)
		m := servertest.Start(t, d, servertest.Options{Media: store})
		p := m.NewProduct("12.00", 3)
		if imgs := imagesOf(t, m, p); len(imgs) != 0 {
			t.Fatal(imgs)
		}
		mustUpload(t, m, p, pngOf(t, 1, 5), false)
		mustUpload(t, m, p, pngOf(t, 2, 5), false)
		mustUpload(t, m, p, pngOf(t, 3, 5), true) // the new cover
		imgs := imagesOf(t, m, p)
		if fmt.Sprint(widths(imgs)) != "[3 1 2]" {
			t.Fatalf("widths %v", widths(imgs))
		}

		reorder := func(ids ...string) *servertest.Response {
			return m.Do(m.Admin, `mutation($p: ID!, $ids: [ID!]!) { reorderProductImages(productID: $p, imageIDs: $ids) { id } }`,
				map[string]any{"p": p, "ids": ids})
		}
		a, b, c := imgs[0].ID, imgs[1].ID, imgs[2].ID
		for _, bad := range [][]string{{a, b}, {a, b, c, c}, {a, b, b}, {a, b, "img_01JD5Z0000000000000000000"}, {}} {
			servertest.WantCode(t, reorder(bad...), "BAD_USER_INPUT")
		}
		if fmt.Sprint(widths(imagesOf(t, m, p))) != "[3 1 2]" {
			t.Fatal("a refused reorder changed the order")
		}
		if r := reorder(c, a, b); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if got := fmt.Sprint(widths(imagesOf(t, m, p))); got != "[2 3 1]" {
			t.Fatalf("after reorder: %s", got)
		}

		// Another product with the same bytes shares the file.
		q := m.NewProduct("8.00", 1)
		shared := mustUpload(t, m, q, pngOf(t, 3, 5), false)
		if n := len(files(t, dir)); n != 3 {
			t.Fatalf("%d files for 3 distinct images", n)
		}

		remove := func(id string) *servertest.Response {
			return m.Do(m.Admin, `mutation($id: ID!) { removeProductImage(id: $id) { id images { id } } }`, map[string]any{"id": id})
		}
		if r := remove(a); len(r.Errors) > 0 { // the middle one, width 3
			t.Fatal(r.Errors)
		}
		if got := fmt.Sprint(widths(imagesOf(t, m, p))); got != "[2 1]" {
			t.Fatalf("after remove: %s", got)
		}
		servertest.WantCode(t, remove(a), "NOT_FOUND")
		// Its file stays: the other product's image is the same bytes.
		if res, _ := get(t, m, shared.URL); res.StatusCode != 200 {
			t.Fatalf("shared image: %d", res.StatusCode)
		}
		if r := remove(c); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if r := remove(b); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if imgs := imagesOf(t, m, p); len(imgs) != 0 {
			t.Fatal(imgs)
		}

		member := m.Verified("顾客").Token
		servertest.WantCode(t, m.Do(member, `mutation($id: ID!) { removeProductImage(id: $id) { id } }`, map[string]any{"id": shared.ID}), "FORBIDDEN")
		if n := d.Int(t, `SELECT COUNT(*) FROM product_images`); n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
}

// A page of products with their images and covers costs one statement
// for the images, not one per product.
func TestImagesLoadedInBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		counted, counter := d.Counted()
		m := servertest.Start(t, d, servertest.Options{DB: counted})
		var ids []string
		for i := 0; i < 6; i++ {
			p := m.NewProduct("5.00", 1)
			ids = append(ids, p)
			for j := 0; j <= i%3; j++ {
				mustUpload(t, m, p, pngOf(t, i+1, j+1), false)
			}
		}
		const q = `{ products(first: 20) { edges { node { id images { url } cover { url } } } } }`
		counter.Reset()
		r := m.Do("", q, nil)
		n := counter.Count()
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if n == 0 || n > 3 {
			t.Fatalf("%d statements for a page of products with images, want 1 to 3", n)
		}
		var out struct {
			Products struct {
				Edges []struct {
					Node struct {
						ID     string
						Images []struct{ URL string }
						Cover  *struct{ URL string }
					}
				}
			}
		}
		r.Decode(t, &out)
		want := map[string]int{}
		for i, id := range ids {
			want[id] = i%3 + 1
		}
		for _, e := range out.Products.Edges {
			if len(e.Node.Images) != want[e.Node.ID] || e.Node.Cover == nil || e.Node.Cover.URL != e.Node.Images[0].URL {
				t.Fatalf("%s: %+v", e.Node.ID, e.Node)
			}
		}
	})
}

func pngOf(t *testing.T, w, h int) []byte   { return media.PNGOf(t, w, h) }
func pngBomb(t *testing.T, w, h int) []byte { return media.PNGBomb(t, w, h) }
func jpegWithEXIF(t *testing.T) []byte      { return media.JPEGWithMetadata(t, 40, 30) }

// noise is bytes that start like a PNG and are not one.
func noise(n int) []byte {
	b := bytes.Repeat([]byte{0x5A}, n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}
