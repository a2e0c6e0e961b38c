package media

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket.
type S3Config struct {
	// Endpoint is a URL (https://s3.example.org, http:// for a local
	// store) or a bare host (then https).
	Endpoint, Bucket, AccessKey, SecretKey, Region string
	// PublicURL, when set, is where the bucket's objects can be fetched
	// by anyone (a public bucket or a CDN before it): images' url then
	// points there. Empty: this server proxies them on its /media route.
	PublicURL string
}

// S3 stores blobs as objects of one bucket.
type S3 struct {
	client *minio.Client
	bucket string
	public string
}

// NewS3 connects to the bucket (it must exist; checked here, so a wrong
// setting stops the server at start).
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	host, secure := c.Endpoint, true
	if u, err := url.Parse(c.Endpoint); err == nil && u.Host != "" {
		host, secure = u.Host, u.Scheme != "http"
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       secure,
		Region:       c.Region,
		BucketLookup: minio.BucketLookupPath, // works with every S3 look-alike
	})
	if err != nil {
		return nil, fmt.Errorf("media S3: %w", err)
	}
	ok, err := client.BucketExists(ctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("media S3: bucket %s: %w", c.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("media S3: bucket %s does not exist", c.Bucket)
	}
	return &S3{client: client, bucket: c.Bucket, public: strings.TrimRight(c.PublicURL, "/")}, nil
}

func (s *S3) Put(ctx context.Context, name string, data []byte, contentType string) error {
	if !ValidName(name) {
		return fmt.Errorf("media: bad blob name %q", name)
	}
	_, err := s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:  contentType,
		CacheControl: CacheControl,
	})
	if err != nil {
		return fmt.Errorf("media S3: put %s: %w", name, err)
	}
	return nil
}

type s3Blob struct {
	*minio.Object
	mod time.Time
}

func (b s3Blob) ModTime() time.Time { return b.mod }

func (s *S3) Open(ctx context.Context, name string) (Blob, error) {
	if !ValidName(name) {
		return nil, fs.ErrNotExist
	}
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("media S3: get %s: %w", name, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, fmt.Errorf("media S3: %s: %w", name, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("media S3: stat %s: %w", name, err)
	}
	return s3Blob{obj, st.LastModified}, nil
}

func (s *S3) URL(name string) string {
	if s.public != "" {
		return s.public + "/" + name
	}
	return Route + name
}
