// Package atomicfile writes output files and folders so that a reader never
// sees a half-written result: everything goes to a temporary name in the
// target's own folder (same file system, so rename is atomic), is synced,
// and is renamed onto the target only when complete; the folder is synced
// after the rename so the new name survives a crash. On any failure the
// temporary is removed and an existing target is left untouched. A target
// that exists and is not a regular file (a folder, a named pipe, a device
// such as /dev/null, a symbolic link) is never replaced.
//
// # Stale temporaries
//
// A process killed by SIGKILL (or a crash, or a power cut) leaves its
// temporary ".NAME.tmp-*" behind. Each write, and each Probe, first removes
// the temporaries of its own target that are safe to remove: those whose
// modification time is older than the start of the running process and on
// which no process holds a lock. Every writer holds a shared flock(2) on
// its temporary from creation to rename, which the kernel drops when the
// writer dies, so a temporary still being written by a live process (this
// one's or another's, on this machine or, where the file system supports
// locks, on another) is never touched; and one created after this process
// started is left alone even where locks are not supported. Nothing but
// ".NAME.tmp-*" entries of the target being written is ever removed.
package atomicfile

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/eandarn/eandarn/io/inputs"
)

// started is when this process started, as far as stale temporaries are
// concerned: temporaries modified after it may belong to a writer that
// began after this process did, and are never removed.
var started = time.Now()

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

// Temporary names are "." + NAME + ".tmp-" + up to 20 more bytes
// (os.CreateTemp's random digits, "probe-", ".old"); a file name may have
// 255 bytes. A NAME longer than maxTempName is shortened to its first
// keepTempName bytes (at a character boundary) followed by "~" and a hash
// of the whole name, so every target that can exist can be written, and
// two long names never share temporaries.
const (
	maxTempName  = 200
	keepTempName = 180
)

// tempPrefix is the name prefix of the temporaries of target path.
func tempPrefix(path string) string {
	name := filepath.Base(path)
	if len(name) > maxTempName {
		k := keepTempName
		for k > 0 && !utf8.RuneStart(name[k]) {
			k--
		}
		h := fnv.New64a()
		h.Write([]byte(name))
		name = fmt.Sprintf("%s~%016x", name[:k], h.Sum64())
	}
	return "." + name + ".tmp-"
}

// lock takes a shared flock on f, held until f is closed, so that
// removeStale knows the temporary is in use. A file system without locks
// leaves it unlocked: the age rule still protects it.
func lock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
}

// removeStale removes the stale temporaries of path (see the package
// documentation) and returns how many it removed.
func removeStale(dir, path string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	prefix, removed := tempPrefix(path), 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !(e.Type().IsRegular() || e.IsDir()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Lstat(p)
		if err != nil || !st.ModTime().Before(started) {
			continue
		}
		flags := os.O_RDONLY
		if st.Mode().IsRegular() {
			flags = os.O_RDWR // an exclusive lock on NFS (emulated by fcntl) needs a writable descriptor
		}
		f, err := os.OpenFile(p, flags|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			if os.RemoveAll(p) == nil {
				removed++
			}
		}
		f.Close()
	}
	return removed
}

// checkTarget refuses to replace an existing target that is not a regular
// file (dir false) or a folder (dir true). A symbolic link is refused too,
// dangling or not: the rename would replace the link, not what it points
// to (as root, -out /dev/stdout would turn the system's link into a file).
func checkTarget(path string, dir bool) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case st.Mode()&fs.ModeSymlink != 0:
		to, _ := os.Readlink(path)
		return fmt.Errorf("write %s: exists and is a symbolic link (to %s); not replacing it", path, to)
	case dir && !st.IsDir(), !dir && !st.Mode().IsRegular():
		return fmt.Errorf("write %s: exists and is a %s; not replacing it", path, inputs.Kind(st.Mode()))
	}
	return nil
}

// Probe checks, before any work, that path can be written the way WriteFile
// (dir false) or WriteDir (dir true) will write it: its folder exists, a
// temporary can be created there, and an existing target is of the right
// type. It removes stale temporaries of path first and leaves nothing
// behind.
func Probe(path string, dir bool) error {
	d, err := parent(path)
	if err != nil {
		return err
	}
	if err := checkTarget(path, dir); err != nil {
		return err
	}
	removeStale(d, path)
	f, err := os.CreateTemp(d, tempPrefix(path)+"probe-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}

// WriteFile calls write with a fresh temporary file name beside path (the
// file exists and is empty; write may truncate or replace it), then syncs
// it, renames it onto path and syncs the folder.
func WriteFile(path string, write func(tmp string) error) (err error) {
	dir, err := parent(path)
	if err != nil {
		return err
	}
	if err := checkTarget(path, false); err != nil {
		return err
	}
	removeStale(dir, path)
	f, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	lock(f)
	defer f.Close()
	tmp := f.Name()
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
	if err := checkTarget(path, true); err != nil {
		return err
	}
	if _, serr := os.Stat(path); serr == nil && !replaceable(path) {
		return fmt.Errorf("write %s: exists and is not a folder this program wrote; not replacing it", path)
	}
	removeStale(dir, path)
	tmp, err := os.MkdirTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(tmp); err == nil {
		lock(d)
		defer d.Close()
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
