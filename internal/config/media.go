package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// Media is where product images are kept: a directory, or an S3 bucket
// when S3Bucket is set.
type Media struct {
	// Dir is MEDIA_DIR as given; empty: the server's default (MediaDir).
	Dir                                                                   string
	MaxBytes                                                              int64
	S3Endpoint, S3Bucket, S3AccessKey, S3SecretKey, S3Region, S3PublicURL string
}

func media(get func(string) string, secretKey string) (Media, error) {
	m := Media{Dir: get("MEDIA_DIR"), S3Endpoint: get("MEDIA_S3_ENDPOINT"), S3Bucket: get("MEDIA_S3_BUCKET"),
		S3AccessKey: get("MEDIA_S3_ACCESS_KEY"), S3SecretKey: secretKey, S3Region: get("MEDIA_S3_REGION"),
		S3PublicURL: strings.TrimRight(get("MEDIA_S3_PUBLIC_URL"), "/")}
	n, err := strconv.ParseInt(get("MEDIA_MAX_BYTES"), 10, 64)
	if err != nil || n < 1024 || n > 1<<30 {
		return m, fmt.Errorf("MEDIA_MAX_BYTES must be a number of bytes from 1024 to 1073741824")
	}
	m.MaxBytes = n
	if (m.S3Endpoint == "") != (m.S3Bucket == "") {
		return m, fmt.Errorf("MEDIA_S3_ENDPOINT and MEDIA_S3_BUCKET go together")
	}
	if m.S3Bucket == "" {
		if m.S3AccessKey != "" || m.S3SecretKey != "" || m.S3Region != "" || m.S3PublicURL != "" {
			return m, fmt.Errorf("MEDIA_S3_ settings are set but MEDIA_S3_BUCKET is not")
		}
		return m, nil
	}
	if m.S3AccessKey == "" || m.S3SecretKey == "" {
		return m, fmt.Errorf("MEDIA_S3_ACCESS_KEY and MEDIA_S3_SECRET_KEY are required with MEDIA_S3_BUCKET")
	}
	if u, err := url.Parse(m.S3Endpoint); err == nil && u.Scheme != "" && ((u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return m, fmt.Errorf("MEDIA_S3_ENDPOINT must be an http(s) URL or a host name")
	}
	if m.S3PublicURL != "" {
		if u, err := url.Parse(m.S3PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return m, fmt.Errorf("MEDIA_S3_PUBLIC_URL must be an absolute http(s) URL")
		}
	}
	return m, nil
}

// MediaDir is the directory for product images: MEDIA_DIR, else "media"
// beside the embedded database file (sqliteFile), else "media" in the
// working directory.
func MediaDir(c Config, sqliteFile string) string {
	if c.Media.Dir != "" {
		return c.Media.Dir
	}
	if sqliteFile != "" {
		return filepath.Join(filepath.Dir(sqliteFile), "media")
	}
	return "media"
}
