package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	write := func(content string, fail bool) error {
		return WriteFile(path, func(tmp string) error {
			if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
				return err
			}
			if fail {
				return errors.New("boom")
			}
			return nil
		})
	}
	if err := write("one", false); err != nil {
		t.Fatal(err)
	}
	if err := write("two", true); err == nil {
		t.Fatal("failing write reported success")
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "one" {
		t.Fatalf("after a failed write: %q %v, want the old content", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), func(string) error { return nil }); err == nil {
		t.Error("write into a missing folder succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing folder was created")
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run")
	ours := func(d string) bool { _, err := os.Stat(filepath.Join(d, "mark")); return err == nil }
	write := func(name string, fail bool) error {
		return WriteDir(path, ours, func(tmp string) error {
			if err := errors.Join(os.WriteFile(filepath.Join(tmp, "mark"), nil, 0o644),
				os.WriteFile(filepath.Join(tmp, name), nil, 0o644)); err != nil {
				return err
			}
			if fail {
				return errors.New("boom")
			}
			return nil
		})
	}
	if err := write("a", false); err != nil {
		t.Fatal(err)
	}
	if err := write("b", true); err == nil {
		t.Fatal("failing write reported success")
	}
	if _, err := os.Stat(filepath.Join(path, "a")); err != nil {
		t.Fatalf("old folder disturbed by a failed write: %v", err)
	}
	if err := write("c", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, "a")); err == nil {
		t.Error("replaced folder still holds the old file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary folders left: %v", entries)
	}
	foreign := filepath.Join(dir, "home")
	if err := os.Mkdir(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(foreign, ours, func(string) error { return nil }); err == nil {
		t.Error("replaced a folder the guard rejects")
	}
}
