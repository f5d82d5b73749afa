// Package inputs is how eandarn opens and sizes files it did not write
// itself: run files, meshes, lead lists, result files and checkpoints may
// come from anyone, so nothing a header declares is trusted before it is
// checked.
//
//   - Files are opened without blocking (O_NONBLOCK, then fstat): a named
//     pipe, a device, a socket or a folder where a file is expected is
//     refused instead of hanging on open(2) or reading forever. Libraries
//     that open a file by name themselves (HDF5) get the same check by
//     Regular first.
//   - Sizes declared by a header (a shape, an element size) are multiplied
//     with overflow checks (Elements, Bytes) and checked against the memory
//     budget (Tally) before anything is allocated, and readers compare them
//     with the file's real size where the format allows.
//
// The memory budget bounds the bytes of array data that one input (a run
// file, a result file, a mesh) may declare, counted as 8 bytes per value
// (everything is read as float64 or int). It is process-wide: the binaries
// set it from their -max-memory flag; the default is DefaultBudget.
package inputs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// DefaultBudget is the memory budget unless SetBudget changes it: 4 GiB of
// declared array data per input, about 150 times the default dataset
// (1094 heart nodes, 352 leads, 661 frames: 27 MB) and more than a
// 10000-node heart recorded for 10000 frames needs for its truth.
const DefaultBudget int64 = 4 << 30

var budget atomic.Int64

func init() { budget.Store(DefaultBudget) }

// SetBudget sets the memory budget in bytes (n ≥ 1).
func SetBudget(n int64) { budget.Store(max(n, 1)) }

// Budget returns the memory budget in bytes.
func Budget() int64 { return budget.Load() }

// ErrBudget is wrapped by errors about declared data over the memory budget.
var ErrBudget = errors.New("over the memory budget")

// ErrSize is wrapped by errors about a declared size that is negative or
// overflows.
var ErrSize = errors.New("impossible size")

// Elements returns the number of elements of an array of shape dims (1 for
// a scalar, shape nil). A negative dimension, or a product that does not
// fit an int, is an error wrapping ErrSize.
func Elements(dims []int) (int, error) {
	n := uint64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("shape %v: negative dimension: %w", dims, ErrSize)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("shape %v: element count overflows: %w", dims, ErrSize)
		}
		n = lo
	}
	return int(n), nil
}

// Bytes returns elements · size with an overflow check.
func Bytes(elements, size int) (int64, error) {
	if elements < 0 || size < 0 {
		return 0, fmt.Errorf("%d elements of %d bytes: %w", elements, size, ErrSize)
	}
	hi, lo := bits.Mul64(uint64(elements), uint64(size))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, fmt.Errorf("%d elements of %d bytes: byte count overflows: %w", elements, size, ErrSize)
	}
	return int64(lo), nil
}

// Tally adds up the data that one input declares and refuses it as soon as
// the total exceeds the budget. The zero value is ready to use.
type Tally struct {
	total int64
}

// Add counts an array of shape dims at 8 bytes per value (what a float64 or
// int read allocates) and returns its element count. what names the array
// in errors, which wrap ErrSize or ErrBudget.
func (t *Tally) Add(what string, dims []int) (int, error) {
	n, err := Elements(dims)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	b, err := Bytes(n, 8)
	if err != nil {
		return 0, fmt.Errorf("%s: shape %v: %w", what, dims, err)
	}
	if err := t.AddBytes(what+" (shape "+shapeText(dims)+")", b); err != nil {
		return 0, err
	}
	return n, nil
}

// AddBytes counts b bytes for what.
func (t *Tally) AddBytes(what string, b int64) error {
	lim := Budget()
	if b < 0 || b > lim || t.total > lim-b {
		size := FormatSize(b)
		if t.total > 0 {
			size += " (with what came before, " + FormatSize(min(t.total, math.MaxInt64-b)+b) + ")"
		}
		return fmt.Errorf("%s: %s, %w of %s (-max-memory raises it)", what, size, ErrBudget, FormatSize(lim))
	}
	t.total += b
	return nil
}

// Total returns the bytes counted so far.
func (t *Tally) Total() int64 { return t.total }

func shapeText(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// ErrNotInteger is wrapped by errors about a float that should hold an
// integer (an index stored as float64, as MATLAB writes them) and does not.
var ErrNotInteger = errors.New("not an integer")

// Int returns the integer a float holds: a whole number of magnitude at most
// 2^53 (beyond it float64 no longer holds every integer, so the value
// cannot be an exact index). Errors wrap ErrNotInteger.
func Int(x float64) (int, error) {
	switch {
	case x != math.Trunc(x): // a fraction or NaN
		return 0, fmt.Errorf("want an integer, got %v: %w", x, ErrNotInteger)
	case math.Abs(x) > 1<<53:
		return 0, fmt.Errorf("want an integer of magnitude at most 2^53 (exact in float64), got %v: %w", x, ErrNotInteger)
	}
	return int(x), nil
}

// ErrNotRegular is wrapped by errors about an input that is not a regular
// file (a named pipe, a device, a socket or a folder).
var ErrNotRegular = errors.New("not a regular file")

// Kind names the file type of mode for messages: "regular file", "folder",
// "named pipe (FIFO)", "character device", ...
func Kind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "regular file"
	case mode.IsDir():
		return "folder"
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case mode&fs.ModeCharDevice != 0:
		return "character device"
	case mode&fs.ModeDevice != 0:
		return "block device"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "special file"
}

// Regular checks, without opening it, that path (symbolic links followed)
// is a regular file. It is the check for files a library opens by name.
// Errors do not repeat the path; callers add it.
func Regular(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(st.Mode())
	}
	return st, nil
}

// notRegular is the error for a file of mode that is not regular; callers
// name the path.
func notRegular(mode fs.FileMode) error {
	return fmt.Errorf("a %s, %w", Kind(mode), ErrNotRegular)
}

// Open opens path read-only without blocking and returns it only when it
// is a regular file (errors about the type do not repeat the path). O_NONBLOCK makes open(2) of a named pipe return at
// once instead of waiting for a writer; a regular file ignores the flag, so
// reads behave as usual.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = notRegular(st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads a whole regular file of at most limit bytes (Open, then
// the size is checked before reading). Errors do not repeat the path.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s, more than the %s such a file may have: %w", FormatSize(st.Size()), FormatSize(limit), ErrSize)
	}
	// The size can grow while reading; never read more than limit.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("grew past %s while reading: %w", FormatSize(limit), ErrSize)
	}
	return b, err
}

// sizeUnits are the suffixes ParseSize accepts, with their factors.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseSize parses a byte count: a whole number with an optional suffix B,
// K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024) or KB, MB, GB, TB (powers of
// 1000), e.g. "4GiB", "512M", "1000000". It must be ≥ 1 and fit an int64.
func ParseSize(s string) (int64, error) {
	num, factor := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/factor {
		return 0, fmt.Errorf("size %q: want a whole number ≥ 1 with an optional unit B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB), at most 8 EiB", s)
	}
	return n * factor, nil
}

// FormatSize renders a byte count with a binary unit ("3.7 GiB").
func FormatSize(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	x, i := float64(b), -1
	for x >= unit && i < 5 {
		x /= unit
		i++
	}
	return fmt.Sprintf("%.3g %ciB", x, "KMGTPE"[i])
}
