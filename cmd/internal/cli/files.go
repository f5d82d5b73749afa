package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/io/inputs"
)

// CheckOutput refuses, as bad input, an output file path that cannot be
// written at the end of a run, from its metadata alone: an empty path, a
// path whose folder does not exist or is not a folder, a name the file
// system cannot hold, or a path that names an existing folder, named pipe,
// device, socket or symbolic link (a rename would replace /dev/null or a
// FIFO with a regular file, and a link itself rather than its target: as
// root, -out /dev/stdout would replace the system's link). It is cheap
// enough to run for every task of a sweep; CheckFiles does the rest before a
// job starts.
func CheckOutput(path string) error {
	if path == "" {
		return BadInputf("no output path (-out)")
	}
	return checkOutput(File{Path: path})
}

// File is one path a job reads or writes, named by its flag for messages.
type File struct {
	Flag string // e.g. "-in", "-out", "-checkpoint"
	Path string
	Dir  bool // an output folder written whole (atomicfile.WriteDir), or an input folder
}

func (f File) name() string {
	if f.Flag == "" {
		return f.Path
	}
	return f.Flag + " " + f.Path
}

// checkOutput is CheckOutput for one output; the path is not empty.
func checkOutput(o File) error {
	what := "output"
	if o.Flag != "" {
		what = o.Flag
	}
	dir := filepath.Dir(o.Path)
	st, err := os.Stat(dir)
	if err != nil {
		return BadInputf("%s %s: folder %s does not exist", what, o.Path, dir)
	}
	if !st.IsDir() {
		return BadInputf("%s %s: %s is not a folder", what, o.Path, dir)
	}
	st, err = os.Lstat(o.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // "file name too long": the path is in the message already
		}
		return BadInputf("%s %s: %v", what, o.Path, err)
	case st.Mode()&fs.ModeSymlink != 0:
		to, _ := os.Readlink(o.Path)
		return BadInputf("%s %s is a symbolic link (to %s): writing would replace the link, not its target; give the target's path", what, o.Path, to)
	case !o.Dir && st.IsDir():
		return BadInputf("%s %s is a folder, want a file name", what, o.Path)
	case o.Dir && !st.IsDir():
		return BadInputf("%s %s is a %s, want a folder", what, o.Path, inputs.Kind(st.Mode()))
	case !st.IsDir() && !st.Mode().IsRegular():
		return BadInputf("%s %s is a %s: refusing to replace it with a file", what, o.Path, inputs.Kind(st.Mode()))
	}
	return nil
}

// resolved returns the absolute path of p with every symbolic link of its
// folder (and of p itself, when it exists) resolved, so that two names of
// one place compare equal even before the file exists.
func resolved(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(d, filepath.Base(abs))
	}
	return abs
}

// within reports whether path a lies inside folder b (both resolved).
func within(a, b string) bool {
	return strings.HasPrefix(a, strings.TrimSuffix(b, string(filepath.Separator))+string(filepath.Separator))
}

// same reports whether a and b are one file: the same device and inode
// (hard links, symbolic links, bind mounts) or, for paths that do not exist
// yet, the same resolved path.
func same(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return resolved(a) == resolved(b)
}

// CheckFiles refuses, as bad input and before any work starts, outputs
// that would destroy an input or each other, or that cannot be written:
//
//   - each output must pass CheckOutput (an existing folder, named pipe,
//     device, socket or symbolic link is never replaced);
//   - no output may be the same file as an input (compared by device and
//     inode, so a symbolic or hard link to the input is caught too), lie
//     inside an input folder, or, when it is a folder, hold an input;
//   - no two outputs may be the same file;
//   - each output's folder must accept a new file now: a temporary is
//     created there and removed (atomicfile.Probe, which also removes the
//     stale temporaries of that output), so an unwritable folder is found
//     before a long solve instead of after it.
//
// Empty paths are skipped (an optional output not asked for); inputs that
// do not exist are skipped (the reader reports them).
func CheckFiles(ins, outs []File) error {
	for i, o := range outs {
		if o.Path == "" {
			continue
		}
		ro := resolved(o.Path)
		for _, in := range ins {
			if in.Path == "" {
				continue
			}
			st, err := os.Stat(in.Path)
			if err != nil {
				continue
			}
			ri := resolved(in.Path)
			switch {
			case same(o.Path, in.Path):
				return BadInputf("%s is the same file as the input %s: refusing to overwrite an input", o.name(), in.name())
			case st.IsDir() && within(ro, ri):
				return BadInputf("%s lies inside the input folder %s: refusing to write into an input", o.name(), in.name())
			case o.Dir && within(ri, ro):
				return BadInputf("%s would replace the folder holding the input %s", o.name(), in.name())
			}
		}
		for _, prev := range outs[:i] {
			if prev.Path == "" {
				continue
			}
			rp := resolved(prev.Path)
			switch {
			case same(o.Path, prev.Path):
				return BadInputf("%s and %s are the same file: each output needs its own path", prev.name(), o.name())
			case prev.Dir && within(ro, rp):
				return BadInputf("%s lies inside the output folder %s", o.name(), prev.name())
			case o.Dir && within(rp, ro):
				return BadInputf("%s lies inside the output folder %s", prev.name(), o.name())
			}
		}
		// After the comparisons, so that a link to the input is named as
		// the input.
		if err := checkOutput(o); err != nil {
			return err
		}
	}
	for _, o := range outs {
		if o.Path == "" {
			continue
		}
		if err := atomicfile.Probe(o.Path, o.Dir); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return BadInputf("%s: folder %s is not writable: %v", o.name(), filepath.Dir(o.Path), err)
		}
	}
	return nil
}

// CheckOutputFolder refuses, as bad input, a folder that outputs will be
// written into (a sweep's output folder, made if missing) when it is, or
// lies inside, an input folder (a .npy run folder): the outputs, logs and
// checkpoints would be written into the input. what names the folder.
func CheckOutputFolder(what, dir string, ins []File) error {
	rd := resolved(dir)
	for _, in := range ins {
		if st, err := os.Stat(in.Path); err != nil || !st.IsDir() {
			continue
		}
		if ri := resolved(in.Path); rd == ri || within(rd, ri) {
			return BadInputf("%s %s lies inside the input folder %s: refusing to write into an input", what, dir, in.name())
		}
	}
	return nil
}
