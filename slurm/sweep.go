// Package slurm turns a sweep spec (TOML) into the tasks of a Slurm job array
// and renders the sbatch script that runs them. Task i of N is the i-th point
// of the cartesian product of the spec's axes; each task is one eandarn-batch
// run writing one result file. Slurm is the scheduler: this package only
// enumerates, names and skips tasks.
package slurm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
//	epochs = 80
//	[[axis]]                     # axes in file order; the last varies fastest
//	name   = "method"
//	values = ["tikhonov2", "stre"]
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

// Axis is one swept eandarn-batch flag and its values.
type Axis struct {
	Name   string `toml:"name"`
	Values []any  `toml:"values"`
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
// and its logs/ subfolder (Slurm does not create log folders) are created when
// missing and must be writable.
func Load(path string, known func(flag string) bool) (*Spec, error) {
	var s Spec
	md, err := toml.DecodeFile(path, &s)
	if err != nil {
		return nil, specErrorf("sweep %s: %v", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, specErrorf("sweep %s: unknown key %q", path, und[0].String())
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
	for k := range s.Fixed {
		if reserved[k] || !known(k) {
			return nil, specErrorf("sweep %s: fixed.%s: not an eandarn-batch flag a sweep may set", path, k)
		}
		seen[k] = true
	}
	for i, a := range s.Axes {
		switch {
		case a.Name == "":
			return nil, specErrorf("sweep %s: axis %d: no name", path, i)
		case reserved[a.Name] || !known(a.Name):
			return nil, specErrorf("sweep %s: axis %q: unknown axis (not an eandarn-batch flag a sweep may set)", path, a.Name)
		case seen[a.Name]:
			return nil, specErrorf("sweep %s: axis %q: set twice", path, a.Name)
		case len(a.Values) == 0:
			return nil, specErrorf("sweep %s: axis %q: empty: want at least one value", path, a.Name)
		}
		seen[a.Name] = true
	}
	if err := checkWritable(filepath.Join(s.OutputDir(), "logs")); err != nil {
		return nil, specErrorf("sweep %s: output folder %s: %v", path, s.OutputDir(), err)
	}
	return &s, nil
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
	Index      int
	Params     []Param // the axis values of this task, in axis order
	Out        string  // result file
	Checkpoint string  // checkpoint file (PINN methods resume from it)
}

// Task returns task i (0 ≤ i < Len). The index is a mixed-radix number over
// the axes in file order, the last axis varying fastest, as nested loops
// written in the spec's order would enumerate them.
func (s *Spec) Task(i int) (Task, error) {
	n := s.Len()
	if i < 0 || i >= n {
		return Task{}, specErrorf("sweep %s: task %d out of range: want 0..%d", s.path, i, n-1)
	}
	ps := make([]Param, len(s.Axes))
	r := i
	for k := len(s.Axes) - 1; k >= 0; k-- {
		a := s.Axes[k]
		ps[k] = Param{Name: a.Name, Value: format(a.Values[r%len(a.Values)])}
		r /= len(a.Values)
	}
	stem := fmt.Sprintf("task-%05d", i)
	return Task{
		Index:      i,
		Params:     ps,
		Out:        filepath.Join(s.OutputDir(), stem+".h5"),
		Checkpoint: filepath.Join(s.OutputDir(), "checkpoints", stem+".ckpt"),
	}, nil
}

// Args returns the eandarn-batch arguments of task t: the input, the output,
// the fixed flags (sorted by name), the task's axis values, and the
// checkpoint with resume so that a requeued task continues.
func (s *Spec) Args(t Task) []string {
	args := []string{"-in", s.InputPath(), "-out", t.Out, "-checkpoint", t.Checkpoint, "-resume"}
	keys := make([]string, 0, len(s.Fixed))
	for k := range s.Fixed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-"+k+"="+format(s.Fixed[k]))
	}
	for _, p := range t.Params {
		args = append(args, "-"+p.Name+"="+p.Value)
	}
	return args
}

// String is the task's line in a listing: index, result file, axis values.
func (t Task) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\t%s", t.Index, t.Out)
	for _, p := range t.Params {
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
