// Package slurm turns a sweep spec (TOML) into the tasks of a Slurm job array
// and renders the sbatch script that runs them. Task i of N is the i-th point
// of the cartesian product of the spec's axes; each task is one eandarn-batch
// run writing one result file. Slurm is the scheduler: this package only
// enumerates, names and skips tasks, plans the job arrays that run them
// (Spec.Jobs: partition, GPU, memory, binary) and writes their sbatch
// scripts (Job.Write), in which every value from the spec is quoted or
// refused. eandarn-batch -sweep drives it (cmd/eandarn-batch/sweep*.go);
// experiments/ holds the sweeps of the paper's experiments (Figs. 6–9,
// Tables II–III).
package slurm

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/eandarn/eandarn/io/inputs"
)

// Spec is a sweep: one input run file, one output folder, fixed flags for
// every task and the axes whose cartesian product defines the tasks.
//
//	name   = "fig9"              # job name; default: the spec file's name
//	input  = "run.h5"            # relative to the spec file's folder
//	output = "results/fig9"      # relative to the spec file's folder
//	[fixed]                      # eandarn-batch flags common to every task
//	noise = 0.05
//	[[axis]]                     # axes in file order; the last varies fastest
//	name   = "method"
//	values = ["tikhonov2", "stre"]
//	[[axis]]                     # a grouped axis: each value sets several flags
//	name   = "net"               # a label only
//	labels = ["NN1", "NN2"]      # optional names of the values, for listings
//	values = [{layers = 4, blocks = 0}, {layers = 4, blocks = 1}]
//	[slurm]                      # sbatch settings (all optional, see Options)
//	concurrency = 8
type Spec struct {
	Name   string         `toml:"name"`
	Input  string         `toml:"input"`
	Output string         `toml:"output"`
	Fixed  map[string]any `toml:"fixed"`
	Axes   []Axis         `toml:"axis"`
	Slurm  Options        `toml:"slurm"`

	path string // the spec file, for messages and relative paths
	n    int    // the task count, the product of the axis lengths
}

// Axis is one swept eandarn-batch flag and its values. When the values are
// tables ({layers = 4, blocks = 1}), each sets every flag it names and Name
// is only a label; Labels optionally names the values in listings.
type Axis struct {
	Name   string   `toml:"name"`
	Values []any    `toml:"values"`
	Labels []string `toml:"labels"`
}

// Options are the sbatch settings of a sweep. An unset option writes no
// #SBATCH line, so the cluster's defaults apply, except mem, which is
// estimated from the run file when unset (see Plan). The value "none" for
// a string option also writes no line (and stops the memory estimate).
type Options struct {
	Partition    string `toml:"partition"`     // --partition of the tasks; unset: the cluster's default partition
	GPUPartition string `toml:"gpu_partition"` // --partition of the tasks that use a GPU, which also get --gres=gpu:1
	Account      string `toml:"account"`       // --account
	QOS          string `toml:"qos"`           // --qos
	Time         string `toml:"time"`          // --time; unset: the partition's default limit
	Mem          string `toml:"mem"`           // --mem; unset: the estimate
	CPUs         *int   `toml:"cpus"`          // --cpus-per-task (≥ 1); unset: 1 CPU, Slurm's default
	Concurrency  *int   `toml:"concurrency"`   // the %K of --array (≥ 1); unset: 8
	Batch        string `toml:"batch"`         // eandarn-batch to run; unset: the binary that generates the script
}

// Limits on what a spec may ask for.
const (
	// MaxSpecBytes bounds the spec file: a spec is a page of TOML, and
	// reading stops here rather than following a device or a runaway file.
	MaxSpecBytes = 1 << 20
	// MaxTasks bounds the task count. Every task's flags are checked before
	// any work, a sweep is one Slurm job array (whose size Slurm's
	// MaxArraySize caps: default 1001, at most 4000001), and -list and
	// -task all hold the task list in memory; a larger sweep is split into
	// several specs.
	MaxTasks = 100_000
	// DefaultConcurrency is the %K of --array when [slurm] concurrency is
	// unset: at most 8 tasks of the array run at once.
	DefaultConcurrency = 8
)

// Reserved flags are set per task by the sweep and cannot be axes or fixed.
var reserved = map[string]bool{"in": true, "out": true, "sweep": true, "task": true,
	"list": true, "sbatch": true, "submit": true, "j": true, "checkpoint": true, "resume": true}

// SpecError is a malformed spec or a task index out of range: bad input
// (exit status 2 in eandarn-batch).
type SpecError struct{ Msg string }

func (e *SpecError) Error() string { return e.Msg }

// specErrorf formats a SpecError. Control characters in it (a spec's
// key or value, or the TOML parser's echo of the input, can hold any) are
// escaped, so that the message is one line.
func specErrorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if strings.IndexFunc(msg, isControl) >= 0 {
		var b strings.Builder
		for _, r := range msg {
			if isControl(r) {
				b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
			} else {
				b.WriteRune(r)
			}
		}
		msg = b.String()
	}
	return &SpecError{Msg: msg}
}

// isControl reports the characters no line of a message or a script may
// hold: C0 controls (newline, carriage return, NUL, …) and DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Load reads and validates a sweep spec. known reports whether a name is an
// eandarn-batch flag; every axis and fixed key must be one. Load creates
// nothing: MakeOutput creates the output folders once every check passed.
func Load(path string, known func(flag string) bool) (*Spec, error) {
	data, err := readSpec(path)
	if err != nil {
		return nil, err
	}
	return parse(data, path, known)
}

// readSpec reads the spec file: a regular file of at most MaxSpecBytes,
// opened without blocking (inputs.ReadFile), so that -sweep /dev/zero or
// a FIFO is one line and exit status 2 before a byte is read.
func readSpec(path string) ([]byte, error) {
	data, err := inputs.ReadFile(path, MaxSpecBytes)
	if err != nil {
		return nil, specErrorf("sweep %s: want a TOML spec, a regular file of at most %s: %v", path, inputs.FormatSize(MaxSpecBytes), err)
	}
	return data, nil
}

// parse decodes and validates the spec text data of the file path.
func parse(data []byte, path string, known func(flag string) bool) (*Spec, error) {
	var s Spec
	md, err := toml.Decode(string(data), &s)
	if err != nil {
		return nil, specErrorf("sweep %s: %v", path, err)
	}
	for _, k := range md.Undecoded() {
		// The toml decoder lists the keys of tables inside []any values
		// (grouped axes) as undecoded although they were decoded.
		if len(k) > 2 && k[0] == "axis" && k[1] == "values" {
			continue
		}
		return nil, specErrorf("sweep %s: unknown key %q", path, k.String())
	}
	s.path = path
	if s.Input == "" {
		return nil, specErrorf("sweep %s: input: want a run file, got nothing", path)
	}
	if s.Output == "" {
		return nil, specErrorf("sweep %s: output: want a folder, got nothing", path)
	}
	if err := s.checkName(); err != nil {
		return nil, err
	}
	if len(s.Axes) == 0 {
		return nil, specErrorf("sweep %s: no [[axis]]: want at least one", path)
	}
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(s.Fixed)) {
		v := s.Fixed[k]
		if reserved[k] || !known(k) {
			return nil, specErrorf("sweep %s: fixed.%s: not an eandarn-batch flag a sweep may set", path, k)
		}
		if !scalar(v) {
			return nil, specErrorf("sweep %s: fixed.%s: want a string, number or boolean, got %T", path, k, v)
		}
		seen[k] = true
	}
	for i, a := range s.Axes {
		if err := s.checkAxis(i, a, known, seen); err != nil {
			return nil, err
		}
	}
	n, err := s.count()
	if err != nil {
		return nil, err
	}
	s.n = n
	for _, a := range s.Axes { // after the count: a huge axis is refused as such
		if err := s.checkDistinct(a); err != nil {
			return nil, err
		}
	}
	if err := s.Slurm.check(path); err != nil {
		return nil, err
	}
	return &s, nil
}

// count is the task count, the product of the axis lengths, refused above
// MaxTasks before it can overflow (each factor is at least 1 and the
// running product stays ≤ MaxTasks, so no product exceeds MaxTasks²).
func (s *Spec) count() (int, error) {
	n := 1
	for _, a := range s.Axes {
		n *= len(a.Values)
		if n > MaxTasks {
			return 0, specErrorf("sweep %s: more than %d tasks (axes of %s values): split the sweep into several specs",
				s.path, MaxTasks, axisLengths(s.Axes))
		}
	}
	return n, nil
}

func axisLengths(axes []Axis) string {
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = strconv.Itoa(len(a.Values))
	}
	return strings.Join(parts, " x ")
}

// jobName matches the names a spec may give: they become the Slurm job
// name and the file name of the script (-submit).
var jobName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)

// checkName validates the spec's name, or derives one from the spec's file
// name: characters outside jobName's set become '_'.
func (s *Spec) checkName() error {
	if s.Name != "" {
		if !jobName.MatchString(s.Name) {
			return specErrorf("sweep %s: name %q: want 1 to 64 letters, digits or . _ + - (starting with a letter or digit)", s.path, s.Name)
		}
		return nil
	}
	stem := strings.TrimSuffix(filepath.Base(s.path), filepath.Ext(s.path))
	name := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (r == '.' || r == '_' || r == '+' || r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return r
		}
		return '_'
	}, stem)
	name = strings.TrimLeft(name, "._+-")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		name = "sweep"
	}
	s.Name = name
	return nil
}

// checkAxis validates axis i: a name, at least one value, labels matching
// the values, and flags (the name, or every key of a table value) that are
// known, settable and set by no other axis or fixed entry; seen collects
// the flags set so far.
func (s *Spec) checkAxis(i int, a Axis, known func(string) bool, seen map[string]bool) error {
	flag := func(name string) error {
		switch {
		case reserved[name] || !known(name):
			return specErrorf("sweep %s: axis %q: unknown axis (not an eandarn-batch flag a sweep may set)", s.path, name)
		case seen[name]:
			return specErrorf("sweep %s: axis %q: set twice", s.path, name)
		}
		return nil
	}
	switch {
	case a.Name == "":
		return specErrorf("sweep %s: axis %d: no name", s.path, i)
	case len(a.Values) == 0:
		return specErrorf("sweep %s: axis %q: empty: want at least one value", s.path, a.Name)
	case a.Labels != nil && len(a.Labels) != len(a.Values):
		return specErrorf("sweep %s: axis %q: %d labels for %d values", s.path, a.Name, len(a.Labels), len(a.Values))
	}
	if _, grouped := a.Values[0].(map[string]any); !grouped {
		if err := flag(a.Name); err != nil {
			return err
		}
		for _, v := range a.Values {
			if !scalar(v) {
				return specErrorf("sweep %s: axis %q: value %v: want strings, numbers or booleans, or tables of them", s.path, a.Name, v)
			}
		}
		seen[a.Name] = true
		return nil
	}
	set := map[string]bool{}
	for _, v := range a.Values {
		t, ok := v.(map[string]any)
		if !ok || len(t) == 0 {
			return specErrorf("sweep %s: axis %q: value %v: a grouped axis wants non-empty tables only", s.path, a.Name, v)
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if err := flag(k); err != nil {
				return err
			}
			if x := t[k]; !scalar(x) {
				return specErrorf("sweep %s: axis %q: %s = %v: want a string, number or boolean", s.path, a.Name, k, x)
			}
			set[k] = true
		}
	}
	for k := range set {
		seen[k] = true
	}
	return nil
}

// checkDistinct refuses an axis that lists one value twice (as the flags
// see it: 1 and 1.0 are both -seed 1): its tasks would run the same flags
// to the same result, and eandarn-report would count the copies as
// independent runs, shrinking the spread it reports (values = [1, 2, 2]
// was three seeds with exit status 0).
func (s *Spec) checkDistinct(a Axis) error {
	first := make(map[string]int, len(a.Values))
	for i, v := range a.Values {
		key := format(v)
		if t, ok := v.(map[string]any); ok {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(t)) {
				fmt.Fprintf(&b, "%s=%s ", k, format(t[k]))
			}
			key = strings.TrimSpace(b.String())
		}
		if j, dup := first[key]; dup {
			return specErrorf("sweep %s: axis %q: value %q at [%d] and [%d]: want distinct values (a repeat would run the same task twice)", s.path, a.Name, key, j, i)
		}
		first[key] = i
	}
	return nil
}

// scalar reports whether v is a TOML value a flag can take.
func scalar(v any) bool {
	switch v.(type) {
	case string, int64, float64, bool:
		return true
	}
	return false
}

// CheckOutput reports, without creating anything, whether the output
// folder and its logs/ and checkpoints/ subfolders can be made: the
// nearest existing one of them or of their ancestors must be a folder this
// process may write.
func (s *Spec) CheckOutput() error {
	dir := filepath.Join(s.OutputDir(), "logs")
	for {
		st, err := os.Stat(dir)
		switch {
		case err == nil && !st.IsDir():
			return specErrorf("sweep %s: output folder %s: %s is not a folder", s.path, s.OutputDir(), dir)
		case err == nil:
			if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
				return specErrorf("sweep %s: output folder %s: %s is not writable", s.path, s.OutputDir(), dir)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return specErrorf("sweep %s: output folder %s: %v", s.path, s.OutputDir(), errors.Unwrap(err))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return specErrorf("sweep %s: output folder %s: no existing parent folder", s.path, s.OutputDir())
		}
		dir = parent
	}
}

// MakeOutput creates the output folder's subfolders subs (logs: Slurm
// does not create log folders; checkpoints) and checks that each is
// writable. Call it only after every other check passed.
func (s *Spec) MakeOutput(subs ...string) error {
	for _, sub := range subs {
		dir := filepath.Join(s.OutputDir(), sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return specErrorf("sweep %s: output folder %s: %v", s.path, s.OutputDir(), errors.Unwrap(err))
		}
		f, err := os.CreateTemp(dir, ".write-check-*")
		if err != nil {
			return specErrorf("sweep %s: output folder %s: %s is not writable", s.path, s.OutputDir(), dir)
		}
		name := f.Name()
		f.Close()
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("sweep %s: %w", s.path, err)
		}
	}
	return nil
}

func (s *Spec) rel(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(s.path), p)
}

// InputPath is the run file, resolved against the spec's folder.
func (s *Spec) InputPath() string { return s.rel(s.Input) }

// OutputDir is the result folder, resolved against the spec's folder.
func (s *Spec) OutputDir() string { return s.rel(s.Output) }

// Len is the number of tasks N: the product of the axis lengths
// (0 < N ≤ MaxTasks).
func (s *Spec) Len() int { return s.n }

// Path is the spec file.
func (s *Spec) Path() string { return s.path }

// Param is one flag setting of a task.
type Param struct{ Name, Value string }

// Task is one point of the sweep.
type Task struct {
	Index int
	// Point names the task's value on each axis, in axis order: the axis
	// name and the value's label (or the value itself).
	Point []Param
	// Params are the flags the axes set, in axis order (a grouped axis
	// sets its table's flags sorted by name).
	Params     []Param
	Out        string // result file
	Checkpoint string // checkpoint file (PINN methods resume from it)
}

// Task returns task i (0 ≤ i < Len). The index is a mixed-radix number over
// the axes in file order, the last axis varying fastest, as nested loops
// written in the spec's order would enumerate them:
//
//	i = ((k_0·n_1 + k_1)·n_2 + k_2)… ,  k_a the value index on axis a of n_a values.
func (s *Spec) Task(i int) (Task, error) {
	n := s.Len()
	if i < 0 || i >= n {
		return Task{}, specErrorf("sweep %s: task %d out of range: want 0..%d", s.path, i, n-1)
	}
	ks := make([]int, len(s.Axes))
	r := i
	for a := len(s.Axes) - 1; a >= 0; a-- {
		ks[a] = r % len(s.Axes[a].Values)
		r /= len(s.Axes[a].Values)
	}
	t := Task{Index: i}
	for a, ax := range s.Axes {
		v := ax.Values[ks[a]]
		var label string
		if tab, ok := v.(map[string]any); ok {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(tab)) {
				t.Params = append(t.Params, Param{Name: k, Value: format(tab[k])})
				parts = append(parts, k+"="+format(tab[k]))
			}
			label = strings.Join(parts, ",")
		} else {
			t.Params = append(t.Params, Param{Name: ax.Name, Value: format(v)})
			label = format(v)
		}
		if ax.Labels != nil {
			label = ax.Labels[ks[a]]
		}
		t.Point = append(t.Point, Param{Name: ax.Name, Value: label})
	}
	stem := fmt.Sprintf("task-%05d", i)
	t.Out = filepath.Join(s.OutputDir(), stem+".h5")
	t.Checkpoint = filepath.Join(s.OutputDir(), "checkpoints", stem+".ckpt")
	return t, nil
}

// Args returns the eandarn-batch arguments of task t: the input, the output,
// the fixed flags (sorted by name) and the task's axis flags. The caller
// adds -checkpoint t.Checkpoint -resume for methods that checkpoint, so
// that a requeued task continues.
func (s *Spec) Args(t Task) []string {
	args := []string{"-in", s.InputPath(), "-out", t.Out}
	for _, k := range slices.Sorted(maps.Keys(s.Fixed)) {
		args = append(args, "-"+k+"="+format(s.Fixed[k]))
	}
	for _, p := range t.Params {
		args = append(args, "-"+p.Name+"="+p.Value)
	}
	return args
}

// Value returns the value task t gives flag name (from its axes, else from
// [fixed]) and whether the spec sets it at all.
func (s *Spec) Value(t Task, name string) (string, bool) {
	for _, p := range t.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	if v, ok := s.Fixed[name]; ok {
		return format(v), true
	}
	return "", false
}

// String is the task's line in a listing: index, result file, and its
// point (axis=value, tab-separated).
func (t Task) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\t%s", t.Index, t.Out)
	for _, p := range t.Point {
		fmt.Fprintf(&b, "\t%s=%s", p.Name, p.Value)
	}
	return b.String()
}

// Done reports whether the task's result file exists. Results are written to
// a temporary name and renamed at the end, so an existing file is complete.
func (t Task) Done() bool {
	st, err := os.Stat(t.Out)
	return err == nil && st.Mode().IsRegular() && st.Size() > 0
}

func format(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		return fmt.Sprint(x)
	}
}
