package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
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

// TestStaleTemporaries: a write removes the temporaries of its own target
// that are older than this process and unlocked, and nothing else.
func TestStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.h5")
	old := started.Add(-time.Hour)
	files := map[string]bool{ // name: removed
		".r.h5.tmp-1":      true,  // killed writer
		".r.h5.tmp-2":      false, // locked: a live writer
		".r.h5.tmp-3":      false, // younger than this process
		".r.h5.tmp-4.old":  true,  // a folder moved aside by a killed WriteDir
		".other.h5.tmp-5":  false, // another target's
		"r.h5.tmp-6":       false, // not this program's name
		".r.h5.tmp-7-fifo": false, // not a file or folder this program makes
		".r.h5.tmp-8-link": false,
	}
	for name := range files {
		p := filepath.Join(dir, name)
		var err error
		switch {
		case strings.HasSuffix(name, ".old"):
			err = os.Mkdir(p, 0o755)
		case strings.HasSuffix(name, "fifo"):
			err = syscall.Mkfifo(p, 0o644)
		case strings.HasSuffix(name, "link"):
			err = os.Symlink(".r.h5.tmp-1", p)
		default:
			err = os.WriteFile(p, []byte("partial"), 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		if name != ".r.h5.tmp-3" && !strings.HasSuffix(name, "link") {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	f, err := os.Open(filepath.Join(dir, ".r.h5.tmp-2"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	if err := Probe(path, false); err != nil {
		t.Fatal(err)
	}
	for name, removed := range files {
		_, err := os.Lstat(filepath.Join(dir, name))
		if gone := err != nil; gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("Probe wrote the target")
	}
}

// TestSpecialTargets: an existing target of the wrong type is never
// replaced, and Probe finds an unwritable folder before any work.
func TestSpecialTargets(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "p")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(tmp string) error { return os.WriteFile(tmp, []byte("x"), 0o644) }
	for _, p := range []string{fifo, "/dev/null", dir} {
		if err := WriteFile(p, write); err == nil || !strings.Contains(err.Error(), "not replacing it") {
			t.Errorf("WriteFile(%s): %v", p, err)
		}
		if err := Probe(p, false); err == nil {
			t.Errorf("Probe(%s) accepted", p)
		}
	}
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced: %v %v", st, err)
	}
	if err := WriteDir(fifo, func(string) bool { return true }, func(string) error { return nil }); err == nil {
		t.Error("WriteDir replaced a named pipe")
	}
	if err := Probe("/proc/x.h5", false); err == nil {
		t.Error("Probe accepted /proc")
	}
	if err := Probe(filepath.Join(dir, "ok.h5"), false); err != nil {
		t.Error(err)
	}
	if err := Probe(filepath.Join(dir, "ok"), true); err != nil {
		t.Error(err)
	}
}

// TestSymlinkTargets: a target that is a symbolic link is never replaced.
// A rename replaces the link itself, not the file it points to, so writing
// -out /dev/stdout as root would turn the system's /dev/stdout link into a
// regular file; a dangling link is refused the same way.
func TestSymlinkTargets(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.h5")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link, dangling, dirLink := filepath.Join(dir, "link.h5"), filepath.Join(dir, "dangling.h5"), filepath.Join(dir, "maps")
	if err := errors.Join(os.Symlink("target.h5", link), os.Symlink("nowhere", dangling), os.Symlink(".", dirLink)); err != nil {
		t.Fatal(err)
	}
	write := func(tmp string) error { return os.WriteFile(tmp, []byte("new"), 0o644) }
	for _, p := range []string{link, dangling} {
		if err := WriteFile(p, write); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("WriteFile(%s): %v, want a refusal naming the symbolic link", filepath.Base(p), err)
		}
		if err := Probe(p, false); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("Probe(%s): %v, want a refusal naming the symbolic link", filepath.Base(p), err)
		}
	}
	if err := WriteDir(dirLink, func(string) bool { return true }, func(string) error { return nil }); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("WriteDir(a link to a folder): %v, want a refusal", err)
	}
	for _, p := range []string{link, dangling, dirLink} {
		if st, err := os.Lstat(p); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s was replaced: %v %v", filepath.Base(p), st, err)
		}
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("the link's target changed: %q %v", b, err)
	}
}

// TestLongNames: a target whose name is as long as the file system allows
// (255 bytes) is written and probed, although ".NAME.tmp-…" would be longer:
// the temporaries of long names carry a shortened name and a hash of the
// whole one, so two long names never share temporaries and stale ones are
// still found.
func TestLongNames(t *testing.T) {
	dir := t.TempDir()
	long := func(c string) string {
		return filepath.Join(dir, strings.Repeat("é", 100)+strings.Repeat(c, 52)+".h5")
	}
	a, b := long("a"), long("b")
	if n := len(filepath.Base(a)); n != 255 {
		t.Fatalf("name of %d bytes, want 255", n)
	}
	if tempPrefix(a) == tempPrefix(b) || len(tempPrefix(a)) > 210 || !utf8.ValidString(tempPrefix(a)) {
		t.Errorf("temporary prefixes %q and %q: want distinct, short and valid UTF-8", tempPrefix(a), tempPrefix(b))
	}
	stale := filepath.Join(dir, tempPrefix(a)+"123")
	old := time.Now().Add(-time.Hour)
	if err := errors.Join(os.WriteFile(stale, nil, 0o600), os.Chtimes(stale, old, old)); err != nil {
		t.Fatal(err)
	}
	if err := Probe(a, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(a, func(tmp string) error { return os.WriteFile(tmp, []byte("x"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(b, func(string) bool { return true }, func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("left %d entries, want the file and the folder: %v", len(ents), ents)
	}
}
