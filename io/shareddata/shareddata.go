// Package shareddata locates the real geometries and recordings of the
// project's shared folder (../shared/data beside the repository root) for
// tests. The data are never copied into the repository.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of ../shared/data/<sub> relative to the
// repository root (the nearest parent folder holding go.mod), or skips the
// test with a message when it is absent.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Skipf("shared data: %v", err)
	}
	d := filepath.Join(root, "..", "shared", "data", sub)
	if _, err := os.Stat(d); err != nil {
		tb.Skipf("shared data %s absent (%v): skipping", d, err)
	}
	return d
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", os.ErrNotExist
		}
	}
}
