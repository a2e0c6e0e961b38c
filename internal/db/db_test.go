//go:build unix

package db

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The embedded database and the -wal and -shm files SQLite adds beside it
// are readable by their owner alone, whatever the umask lets through; a
// file that exists keeps the mode its owner gave it.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022) // the usual umask: files 0644 unless asked otherwise
	t.Cleanup(func() { syscall.Umask(old) })

	tests := []struct {
		name     string
		existing fs.FileMode // 0: no file before Open
		want     fs.FileMode
	}{
		{name: "new database", want: 0o600},
		{name: "existing database keeps its mode", existing: 0o640, want: 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, DefaultFile)
			if tt.existing != 0 {
				if err := os.WriteFile(file, nil, tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(file, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			target, err := Parse("file:" + file)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Open(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			// A write makes SQLite create the WAL and its shared-memory index.
			for _, q := range []string{"CREATE TABLE t (x TEXT)", "INSERT INTO t VALUES ('secret')"} {
				if _, err := d.Pool.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for _, name := range []string{DefaultFile, DefaultFile + "-wal", DefaultFile + "-shm"} {
				st, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := st.Mode().Perm(); got != tt.want {
					t.Errorf("%s has mode %04o, want %04o", name, got, tt.want)
				}
			}
		})
	}
}
