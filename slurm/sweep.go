// Package slurm turns a sweep spec (TOML) into the tasks of a Slurm job array
// and renders the sbatch script that runs them. Task i of N is the i-th point
// of the cartesian product of the spec's axes; each task is one eandarn-batch
// run writing one result file. Slurm is the scheduler: this package only
// enumerates, names and skips tasks. eandarn-batch -sweep drives it
// (cmd/eandarn-batch/sweep.go); experiments/ holds the sweeps of the
// paper's experiments (Figs. 6–9, Tables II–III).
package slurm

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Spec is a sweep: one input run file, one output folder, fixed flags for
// every task and the axes whose cartesian product defines the tasks.
//
//	name   = "fig9"
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
//	[slurm]                      # sbatch settings (all optional)
//	partition = "cpu"
//	concurrency = 8
type Spec struct {
	Name   string         `toml:"name"`
	Input  string         `toml:"input"`
	Output string         `toml:"output"`
	Fixed  map[string]any `toml:"fixed"`
	Axes   []Axis         `toml:"axis"`
	Slurm  Options        `toml:"slurm"`

	path string // the spec file, for messages and relative paths
}

// Axis is one swept eandarn-batch flag and its values. When the values are
// tables ({layers = 4, blocks = 1}), each sets every flag it names and Name
// is only a label; Labels optionally names the values in listings.
type Axis struct {
	Name   string   `toml:"name"`
	Values []any    `toml:"values"`
	Labels []string `toml:"labels"`
}

// Options are the sbatch settings of a sweep. Zero values mean the defaults
// documented on each field.
type Options struct {
	Partition    string `toml:"partition"`     // CPU partition; default "cpu"
	GPUPartition string `toml:"gpu_partition"` // partition when fixed device = "cuda"; default "gpu"
	Concurrency  int    `toml:"concurrency"`   // the %K of --array; default 8
	Time         string `toml:"time"`          // --time; default "02:00:00"
	CPUs         int    `toml:"cpus"`          // --cpus-per-task; default 2
	Mem          string `toml:"mem"`           // --mem; default "4G"
	Batch        string `toml:"batch"`         // eandarn-batch binary; default "eandarn-batch" on PATH
}

// Reserved flags are set per task by the sweep and cannot be axes or fixed.
var reserved = map[string]bool{"in": true, "out": true, "sweep": true, "task": true,
	"list": true, "sbatch": true, "j": true, "checkpoint": true, "resume": true}

// SpecError is a malformed spec or a task index out of range: bad input
// (exit status 2 in eandarn-batch).
type SpecError struct{ Msg string }

func (e *SpecError) Error() string { return e.Msg }

func specErrorf(format string, args ...any) error {
	return &SpecError{Msg: fmt.Sprintf(format, args...)}
}

// Load reads and validates a sweep spec. known reports whether a name is an
// eandarn-batch flag; every axis and fixed key must be one. The output folder
// and its logs/ (Slurm does not create log folders) and checkpoints/
// subfolders are created when missing and must be writable.
func Load(path string, known func(flag string) bool) (*Spec, error) {
	var s Spec
	md, err := toml.DecodeFile(path, &s)
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
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if len(s.Axes) == 0 {
		return nil, specErrorf("sweep %s: no [[axis]]: want at least one", path)
	}
	seen := map[string]bool{}
	for k, v := range s.Fixed {
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
	for _, sub := range []string{"logs", "checkpoints"} {
		if err := checkWritable(filepath.Join(s.OutputDir(), sub)); err != nil {
			return nil, specErrorf("sweep %s: output folder %s: %v", path, s.OutputDir(), err)
		}
	}
	return &s, nil
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
		for k, x := range t {
			if err := flag(k); err != nil {
				return err
			}
			if !scalar(x) {
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

// scalar reports whether v is a TOML value a flag can take.
func scalar(v any) bool {
	switch v.(type) {
	case string, int64, float64, bool:
		return true
	}
	return false
}

func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Unwrap(err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("not writable")
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
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

// Len is the number of tasks N: the product of the axis lengths.
func (s *Spec) Len() int {
	n := 1
	for _, a := range s.Axes {
		n *= len(a.Values)
	}
	return n
}

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
