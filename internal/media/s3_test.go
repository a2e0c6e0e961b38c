package media_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"unionmall/internal/media"
	"unionmall/internal/servertest"
	"unionmall/internal/testdb"
)

// fakeS3 is an in-process S3 (gofakes3) with the bucket "media".
func fakeS3(t *testing.T) (*s3mem.Backend, media.S3Config) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(ts.Close)
	return backend, media.S3Config{Endpoint: ts.URL, Bucket: "media", AccessKey: "key", SecretKey: "secret-key", Region: "us-east-1"}
}

func objects(t *testing.T, b *s3mem.Backend) []string {
	t.Helper()
	list, err := b.ListBucket("media", nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range list.Contents {
		names = append(names, o.Key)
	}
	return names
}

// With an S3 bucket: uploads land there (refusals do not), and the
// server proxies them on /media/ unless a public URL is configured.
func TestS3Store(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d *testdb.DB) {
		backend, cfg := fakeS3(t)
		store, err := media.NewS3(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		m := servertest.Start(t, d, servertest.Options{Media: store})
		p := m.NewProduct("12.00", 3)

		for _, bad := range [][]byte{[]byte("<html></html>"), pngBomb(t, 50000, 50000)} {
			servertest.WantCode(t, upload(t, m, m.Admin, p, bad, "x.png", "image/png", false), "BAD_USER_INPUT")
			if got := objects(t, backend); len(got) != 0 {
				t.Fatalf("refused upload stored %v", got)
			}
		}

		img := mustUpload(t, m, p, jpegWithEXIF(t), false)
		if got := objects(t, backend); len(got) != 1 || "/media/"+got[0] != img.URL {
			t.Fatalf("objects %v, url %s", got, img.URL)
		}
		obj, err := backend.GetObject("media", strings.TrimPrefix(img.URL, "/media/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// (gofakes3 keeps no Cache-Control; minio-go sends it with the put.)
		if obj.Metadata["Content-Type"] != "image/jpeg" {
			t.Errorf("object metadata %v", obj.Metadata)
		}
		res, body := get(t, m, img.URL)
		if res.StatusCode != 200 || len(body) != img.Bytes || bytes.Contains(body, []byte("Exif")) ||
			res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("Cache-Control") != media.CacheControl {
			t.Fatalf("GET %s: %d, %d bytes, %v", img.URL, res.StatusCode, len(body), res.Header)
		}
		if res, _ := get(t, m, "/media/"+strings.Repeat("1", 64)+".png"); res.StatusCode != 404 {
			t.Fatalf("absent object: %d", res.StatusCode)
		}

		// A public bucket: urls point at it.
		cfg.PublicURL = "https://cdn.example.org/mall/"
		public, err := media.NewS3(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if u := public.URL("x.png"); u != "https://cdn.example.org/mall/x.png" {
			t.Fatalf("public URL %s", u)
		}
	})
}

func TestS3MissingBucket(t *testing.T) {
	_, cfg := fakeS3(t)
	cfg.Bucket = "nope"
	if _, err := media.NewS3(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
}
