// Package atomicfile writes output files and folders so that a reader never
// sees a half-written result: everything goes to a temporary name in the
// target's own folder (same file system, so rename is atomic), is synced,
// and is renamed onto the target only when complete. On any failure the
// temporary is removed and an existing target is left untouched.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// parent returns the folder of path, which must already exist: creating it
// would hide a mistyped output path.
func parent(path string) (string, error) {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("write %s: output folder %s: %w", path, dir, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("write %s: %s is not a folder", path, dir)
	}
	return dir, nil
}

// WriteFile calls write with a fresh temporary file name beside path (the
// file exists and is empty; write may truncate or replace it), then syncs
// it and renames it onto path.
func WriteFile(path string, write func(tmp string) error) (err error) {
	dir, err := parent(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; give the result the mode a plain
	// create would (or the mode of the file it replaces).
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncPath(tmp); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncPath(dir)
}

// WriteDir calls write with a fresh empty temporary folder beside path,
// then renames it onto path. An existing target folder is replaced only when
// replaceable(path) says so (a guard against replacing an unrelated folder);
// the old folder is moved aside first and removed after the swap.
func WriteDir(path string, replaceable func(string) bool, write func(tmp string) error) (err error) {
	dir, err := parent(path)
	if err != nil {
		return err
	}
	if st, serr := os.Stat(path); serr == nil {
		if !st.IsDir() || !replaceable(path) {
			return fmt.Errorf("write %s: exists and is not a folder this program wrote; not replacing it", path)
		}
	}
	tmp, err := os.MkdirTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	// MkdirTemp makes the folder 0700; give it a plain mkdir's mode.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncPath(tmp); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	var old string
	if _, serr := os.Stat(path); serr == nil {
		old = tmp + ".old"
		if err := os.Rename(path, old); err != nil {
			return fmt.Errorf("write %s: move old folder aside: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		if old != "" {
			err = errors.Join(err, os.Rename(old, path))
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("write %s: remove old folder %s: %w", path, old, err)
		}
	}
	return syncPath(dir)
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
