package main

import (
	"context"
	"log/slog"

	"unionmall/internal/config"
	"unionmall/internal/db"
	"unionmall/internal/media"
)

// mediaStore opens where product images are kept: the S3 bucket when one
// is configured (checked now, so a wrong setting stops the start), else
// the media directory.
func mediaStore(ctx context.Context, cfg config.Config, target db.Target) (media.Store, error) {
	m := cfg.Media
	if m.S3Bucket != "" {
		s, err := media.NewS3(ctx, media.S3Config{Endpoint: m.S3Endpoint, Bucket: m.S3Bucket, AccessKey: m.S3AccessKey,
			SecretKey: m.S3SecretKey, Region: m.S3Region, PublicURL: m.S3PublicURL})
		if err != nil {
			return nil, err
		}
		slog.Info("product images in an S3 bucket", "endpoint", m.S3Endpoint, "bucket", m.S3Bucket, "public_url", m.S3PublicURL)
		return s, nil
	}
	dir := config.MediaDir(cfg, target.File)
	if target.File == "" && m.Dir == "" {
		slog.Warn("MEDIA_DIR is not set: product images are kept in ./media; instances sharing the database must share it (or use MEDIA_S3_BUCKET)")
	}
	return media.NewDir(dir)
}
