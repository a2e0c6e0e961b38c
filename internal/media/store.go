package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Store keeps blobs by name ("<sha256>.<ext>", see Image.Name). Blobs are
// immutable: a name always means the same bytes, so Put of a name already
// stored may do nothing, and readers may cache forever.
type Store interface {
	// Put stores data under name; concurrent Puts of one name are safe.
	Put(ctx context.Context, name string, data []byte, contentType string) error
	// Open returns the blob, or an error wrapping fs.ErrNotExist.
	Open(ctx context.Context, name string) (Blob, error)
	// URL is where clients fetch the blob from: a path of this server's
	// /media route, or the store's own public URL.
	URL(name string) string
}

// Blob is a stored blob being read.
type Blob interface {
	io.ReadSeekCloser
	ModTime() time.Time
}

// Route is the path under which this server serves blobs (Handler).
const Route = "/media/"

var nameRE = regexp.MustCompile(`^[0-9a-f]{64}\.(jpg|png|webp)$`)

// ValidName reports whether name is a blob's name: anything else (a path,
// "..", an upper-case hash) names nothing.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// contentTypeOf is the blob's content type by its extension (which Check
// chose from the content).
func contentTypeOf(name string) string {
	for ct, ext := range extOf {
		if strings.HasSuffix(name, "."+ext) {
			return ct
		}
	}
	return "application/octet-stream"
}

// Dir stores blobs as files of one directory.
type Dir struct{ path string }

// NewDir uses (and creates) the directory.
func NewDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Dir{path: path}, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

func (d *Dir) Put(_ context.Context, name string, data []byte, _ string) error {
	if !ValidName(name) {
		return fmt.Errorf("media: bad blob name %q", name)
	}
	final := filepath.Join(d.path, name)
	if _, err := os.Stat(final); err == nil {
		return nil // the same bytes are there already
	}
	// Written aside and renamed, so a reader never sees half a file.
	f, err := os.CreateTemp(d.path, ".upload-*")
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("media: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("media: sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("media: close %s: %w", name, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return fmt.Errorf("media: store %s: %w", name, err)
	}
	return nil
}

type fileBlob struct {
	*os.File
	mod time.Time
}

func (b fileBlob) ModTime() time.Time { return b.mod }

func (d *Dir) Open(_ context.Context, name string) (Blob, error) {
	if !ValidName(name) {
		return nil, fs.ErrNotExist
	}
	f, err := os.Open(filepath.Join(d.path, name))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, errors.Join(fs.ErrNotExist, err)
	}
	return fileBlob{f, st.ModTime()}, nil
}

func (d *Dir) URL(name string) string { return Route + name }
