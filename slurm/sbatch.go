package slurm

import (
	_ "embed"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

//go:embed sbatch.tmpl
var sbatchText string

// sbatchTemplate renders a quotedJob: every value in it is already quoted
// for its place in the script (Job.quote).
var sbatchTemplate = template.Must(template.New("sbatch").Parse(sbatchText))

// InterruptedStatus is the exit status of an eandarn-batch task that caught
// SIGTERM, wrote its checkpoint and stopped early; the sbatch script requeues
// such a task.
const InterruptedStatus = 3

// MissingBinaryStatus is the exit status of a task whose eandarn-batch is
// missing or not executable on its node (bad input, as in eandarn-batch).
const MissingBinaryStatus = 2

// Setting is one sbatch setting given at generation time and where it came
// from ("-partition", "SBATCH_PARTITION"), for the script's notes.
type Setting struct{ Value, From string }

// Estimate is the memory a task needs, in MiB, and how it was computed
// (for the script's notes).
type Estimate struct {
	MiB int
	Why string
}

// Plan is what turns a spec into sbatch scripts besides the spec itself.
type Plan struct {
	// Overrides are the settings given at generation (flags, environment),
	// keyed by the [slurm] option they replace: partition, gpu_partition,
	// account, qos, time, mem. They win over the spec.
	Overrides map[string]Setting
	// Self is the absolute path of the running eandarn-batch: the binary
	// the script runs unless the spec's batch names another.
	Self string
	// GPUCapable reports whether task t's method can use a GPU
	// (eandarn-batch -device auto chooses one where there is one).
	GPUCapable func(t Task) bool
	// Mem estimates the memory of task t; ok is false when it cannot.
	Mem func(t Task) (e Estimate, ok bool)
	// NodeMem reports the largest memory (MiB) that Slurm has configured
	// for a node of the partition ("" = the default partition); ok is
	// false when unknown (no Slurm client here). Slurm reports 1 for a
	// node without RealMemory.
	NodeMem func(partition string) (mib int, ok bool)
}

// Job is one sbatch script: a job array over some tasks of a sweep, all
// in one partition.
type Job struct {
	Name  string // the spec's name
	Group string // "" (every task of the sweep), "cpu" or "gpu"
	Tasks []int  // the sweep's task indices in this array, ascending
	N     int    // the sweep's task count

	Concurrency             int    // the %K of --array
	Partition, Account, QOS string // "" writes no line
	Time, Mem               string // "" writes no line
	CPUs, GPUs              int    // 0 writes no line

	LogDir string // absolute folder of the task logs
	Batch  string // the eandarn-batch the tasks run: absolute, or a name looked up on PATH
	Spec   string // absolute path of the spec

	Notes    []string // comment lines: where each setting came from
	Warnings []string // what the caller should tell the user
}

// JobName is the Slurm job name.
func (j *Job) JobName() string {
	if j.Group == "" {
		return "eandarn-" + j.Name
	}
	return "eandarn-" + j.Name + "-" + j.Group
}

// Array is the --array value: the task indices as ranges (a-b, a-b:step
// for a stride), then %K.
func (j *Job) Array() string {
	return arrayRanges(j.Tasks) + "%" + strconv.Itoa(j.Concurrency)
}

// Jobs plans the sbatch scripts of the sweep: one job array when every task
// runs in the same partition, else one for the CPU tasks and one for the
// GPU tasks. A task uses a GPU when its device is "cuda", or when a GPU
// partition is given and its device is not "cpu" and its method can use
// one (GPUCapable); such tasks get --gres=gpu:1 and the GPU partition
// (default: the partition of the others).
//
// Each setting is taken from the overrides, else from the spec's [slurm]
// table; mem, when neither gives it, is the largest estimate of the job's
// tasks, left out when the nodes of its partition report no memory (Slurm
// would refuse any --mem there).
func (s *Spec) Jobs(p Plan) ([]*Job, error) {
	set := func(key, spec string) (Setting, error) {
		if o, ok := p.Overrides[key]; ok && o.Value != "" {
			if err := checkSetting(key, o.Value); err != nil {
				return Setting{}, specErrorf("%s %q: %v", o.From, o.Value, err)
			}
			return o, nil
		}
		if spec != "" {
			return Setting{spec, "the spec"}, nil
		}
		return Setting{}, nil
	}
	o := s.Slurm
	keys := []struct{ key, spec string }{
		{"partition", o.Partition}, {"gpu_partition", o.GPUPartition}, {"account", o.Account},
		{"qos", o.QOS}, {"time", o.Time}, {"mem", o.Mem},
	}
	st := map[string]Setting{}
	for _, k := range keys {
		v, err := set(k.key, k.spec)
		if err != nil {
			return nil, err
		}
		st[k.key] = v
	}
	batch, err := s.batch(p.Self)
	if err != nil {
		return nil, err
	}
	logDir, err := filepath.Abs(filepath.Join(s.OutputDir(), "logs"))
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", s.path, err)
	}
	spec, err := filepath.Abs(s.path)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", s.path, err)
	}

	var cpu, gpu []int
	for i := range s.Len() {
		t, err := s.Task(i)
		if err != nil {
			return nil, err
		}
		dev, _ := s.Value(t, "device")
		if dev == "cuda" || (dev != "cpu" && st["gpu_partition"].Value != "" && p.GPUCapable != nil && p.GPUCapable(t)) {
			gpu = append(gpu, i)
		} else {
			cpu = append(cpu, i)
		}
	}
	var jobs []*Job
	for _, g := range []struct {
		name  string
		tasks []int
	}{{"cpu", cpu}, {"gpu", gpu}} {
		if len(g.tasks) == 0 {
			continue
		}
		j := &Job{Name: s.Name, Group: g.name, Tasks: g.tasks, N: s.Len(),
			LogDir: logDir, Batch: batch, Spec: spec}
		if len(g.tasks) == s.Len() {
			j.Group = ""
		}
		part := st["partition"]
		if g.name == "gpu" {
			j.GPUs = 1
			if gp := st["gpu_partition"]; gp.Value != "" {
				part = gp
			}
		}
		j.Partition = j.directive("--partition", part, "the cluster's default partition")
		j.Account = j.directive("--account", st["account"], "your default account")
		j.QOS = j.directive("--qos", st["qos"], "the default QOS")
		j.Time = j.directive("--time", st["time"], "the partition's default time limit (a PINN task that reaches it checkpoints and is requeued)")
		if o.CPUs != nil {
			j.CPUs = *o.CPUs
			j.Notes = append(j.Notes, fmt.Sprintf("--cpus-per-task=%d: from the spec", j.CPUs))
		} else {
			j.Notes = append(j.Notes, "--cpus-per-task not set: 1 CPU per task (the task runs GOMAXPROCS=$SLURM_CPUS_PER_TASK threads)")
		}
		j.Concurrency = min(DefaultConcurrency, len(g.tasks))
		if o.Concurrency != nil {
			j.Concurrency = min(*o.Concurrency, len(g.tasks))
		}
		if m := st["mem"]; m.Value != "" {
			j.Mem = j.directive("--mem", m, "")
		} else {
			s.estimateMem(j, p)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// directive returns the value of an #SBATCH option from its setting ("none"
// and unset write no line) and notes where it came from.
func (j *Job) directive(opt string, v Setting, unset string) string {
	switch v.Value {
	case "":
		j.Notes = append(j.Notes, opt+" not set: "+unset)
		return ""
	case "none":
		j.Notes = append(j.Notes, opt+" not set: "+v.From+" says none")
		return ""
	}
	j.Notes = append(j.Notes, fmt.Sprintf("%s=%s: from %s", opt, v.Value, v.From))
	return v.Value
}

// estimateMem sets the job's --mem to the largest estimate of its tasks,
// or to nothing when a task has none or the partition's nodes report no
// memory.
func (s *Spec) estimateMem(j *Job, p Plan) {
	var top Estimate
	for _, i := range j.Tasks {
		t, _ := s.Task(i)
		var e Estimate
		ok := p.Mem != nil
		if ok {
			e, ok = p.Mem(t)
		}
		if !ok {
			j.Notes = append(j.Notes, fmt.Sprintf("--mem not set: no estimate for task %d (set [slurm] mem or -mem)", i))
			return
		}
		if e.MiB > top.MiB {
			top = e
		}
	}
	if p.NodeMem != nil {
		if node, ok := p.NodeMem(j.Partition); ok && node <= 1 {
			j.Notes = append(j.Notes, fmt.Sprintf("--mem not set: the nodes of the partition report no memory (RealMemory unset), so Slurm would refuse any --mem; the estimate is %dM, %s", top.MiB, top.Why))
			return
		} else if ok && node < top.MiB {
			j.Warnings = append(j.Warnings, fmt.Sprintf("%s: the memory estimate %d MiB exceeds the largest node of the partition (%d MiB): sbatch will refuse it; set -mem or [slurm] mem if you know better", j.JobName(), top.MiB, node))
		}
	}
	j.Mem = strconv.Itoa(top.MiB) + "M"
	j.Notes = append(j.Notes, fmt.Sprintf("--mem=%s: estimated, %s", j.Mem, top.Why))
}

// batch is the eandarn-batch the tasks run: the spec's batch (a name is
// looked up on the task's PATH; a relative path is resolved against the
// spec's folder), else self.
func (s *Spec) batch(self string) (string, error) {
	b := s.Slurm.Batch
	switch {
	case b == "":
		if self == "" {
			return "", fmt.Errorf("sweep %s: the path of this eandarn-batch is unknown: set [slurm] batch", s.path)
		}
		return self, nil
	case !strings.Contains(b, "/"):
		return b, nil
	}
	abs, err := filepath.Abs(s.rel(b))
	if err != nil {
		return "", fmt.Errorf("sweep %s: batch %q: %w", s.path, b, err)
	}
	return abs, nil
}

// Write renders the job's sbatch script: its array of tasks, at most
// Concurrency running at once, one log per task in LogDir, TERM 120 s
// before the time limit and requeue on interruption, and a first check that
// the binary exists. Every value reaches the script quoted for where it
// goes (Job.quote); one that cannot be is refused (a *SpecError) and nothing
// is written.
func (j *Job) Write(w io.Writer) error {
	q, err := j.quote()
	if err != nil {
		return specErrorf("sbatch script of %q: %v", j.Spec, err)
	}
	var b strings.Builder
	if err := sbatchTemplate.Execute(&b, q); err != nil {
		return fmt.Errorf("sbatch script of %q: %w", j.Spec, err)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// quotedJob holds the values of a Job as they appear in the script.
type quotedJob struct {
	Name, Group                      string // comment text
	Count, N                         int
	JobName, Array                   string // #SBATCH arguments
	Partition, Account, QOS          string
	Time, Mem, Output                string
	CPUs, GPUs                       int
	Batch, Spec                      string // shell words
	Notes                            []string
	MissingBinary, InterruptedStatus int
}

// quote quotes every value of j for its place in the script: sbatchArg for
// #SBATCH arguments, logPattern for the log path, shellWord for shell words
// and commentText for comments.
func (j *Job) quote() (*quotedJob, error) {
	q := &quotedJob{Count: len(j.Tasks), N: j.N, CPUs: j.CPUs, GPUs: j.GPUs,
		MissingBinary: MissingBinaryStatus, InterruptedStatus: InterruptedStatus}
	var errs []error
	do := func(dst *string, f func(string) (string, error), v string) {
		if v == "" {
			return
		}
		var err error
		if *dst, err = f(v); err != nil {
			errs = append(errs, err)
		}
	}
	do(&q.Name, commentText, j.Name)
	do(&q.Group, commentText, j.Group)
	do(&q.JobName, sbatchArg, j.JobName())
	do(&q.Array, sbatchArg, j.Array())
	do(&q.Partition, sbatchArg, j.Partition)
	do(&q.Account, sbatchArg, j.Account)
	do(&q.QOS, sbatchArg, j.QOS)
	do(&q.Time, sbatchArg, j.Time)
	do(&q.Mem, sbatchArg, j.Mem)
	do(&q.Output, logPattern, j.LogDir)
	do(&q.Batch, shellWord, j.Batch)
	do(&q.Spec, shellWord, j.Spec)
	q.Notes = make([]string, len(j.Notes))
	for i, n := range j.Notes {
		do(&q.Notes[i], commentText, n)
	}
	switch {
	case len(errs) > 0:
		return nil, errs[0]
	case len(j.Tasks) == 0 || j.Concurrency < 1 || j.CPUs < 0 || j.GPUs < 0:
		return nil, fmt.Errorf("%d tasks, concurrency %d, %d CPUs, %d GPUs: want tasks, concurrency ≥ 1 and counts ≥ 0", len(j.Tasks), j.Concurrency, j.CPUs, j.GPUs)
	case j.LogDir == "" || j.Batch == "" || j.Spec == "":
		return nil, fmt.Errorf("no log folder, binary or spec")
	}
	for i, k := range j.Tasks {
		if k < 0 || k >= j.N || i > 0 && k <= j.Tasks[i-1] {
			return nil, fmt.Errorf("task indices: want ascending indices in 0..%d", j.N-1)
		}
	}
	return q, nil
}

// checkSetting validates an sbatch setting of the spec or the command line
// ("none" writes no line). It admits Slurm's own name and value syntax
// only, so nothing else can reach an #SBATCH line.
func checkSetting(key, v string) error {
	if v == "none" {
		return nil
	}
	var ok bool
	var want string
	switch key {
	case "partition", "gpu_partition":
		ok, want = slurmNames.MatchString(v), "Slurm partition names (letters, digits, . _ -), comma-separated"
	case "account", "qos":
		ok, want = slurmName.MatchString(v), "a Slurm name (letters, digits, . _ -)"
	case "time":
		ok, want = slurmTime.MatchString(v), "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS or UNLIMITED"
	case "mem":
		ok, want = slurmMem.MatchString(v), "a size such as 4000 (MiB), 500M, 4G"
	default:
		return fmt.Errorf("unknown sbatch setting %s", key)
	}
	if !ok || len(v) > 128 {
		return fmt.Errorf("want %s, or none", want)
	}
	return nil
}

var (
	slurmName  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	slurmNames = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(,[A-Za-z0-9_][A-Za-z0-9_.-]*)*$`)
	slurmTime  = regexp.MustCompile(`^([0-9]{1,9}(:[0-9]{1,2}){0,2}|[0-9]{1,6}-[0-9]{1,2}(:[0-9]{1,2}){0,2}|UNLIMITED|INFINITE)$`)
	slurmMem   = regexp.MustCompile(`^[0-9]{1,12}[KMGT]?$`)
)

// check validates the [slurm] table of the spec at path.
func (o *Options) check(path string) error {
	for _, f := range []struct{ key, v string }{
		{"partition", o.Partition}, {"gpu_partition", o.GPUPartition}, {"account", o.Account},
		{"qos", o.QOS}, {"time", o.Time}, {"mem", o.Mem},
	} {
		if f.v == "" {
			continue
		}
		if err := checkSetting(f.key, f.v); err != nil {
			return specErrorf("sweep %s: [slurm] %s %q: %v", path, f.key, f.v, err)
		}
	}
	if o.CPUs != nil && (*o.CPUs < 1 || *o.CPUs > 1<<16) {
		return specErrorf("sweep %s: [slurm] cpus %d: want 1 to %d CPUs per task", path, *o.CPUs, 1<<16)
	}
	if o.Concurrency != nil && *o.Concurrency < 1 {
		return specErrorf("sweep %s: [slurm] concurrency %d: want ≥ 1 tasks at once", path, *o.Concurrency)
	}
	if o.Batch != "" {
		if err := oneLine(o.Batch); err != nil {
			return specErrorf("sweep %s: [slurm] batch %q: %v", path, o.Batch, err)
		}
	}
	return nil
}

// oneLine refuses control characters (newline, carriage return, NUL, …):
// no value of a script may span lines or hide text.
func oneLine(v string) error {
	if i := strings.IndexFunc(v, isControl); i >= 0 {
		return fmt.Errorf("contains the control character %q", v[i])
	}
	return nil
}

// shellWord quotes v as one bash word: in single quotes, where bash
// expands nothing, a single quote written as '\”.
func shellWord(v string) (string, error) {
	if err := oneLine(v); err != nil {
		return "", fmt.Errorf("%q: %w", v, err)
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'", nil
}

// sbatchArg writes v as the argument of an #SBATCH option. sbatch splits
// these lines itself (no shell): whitespace separates arguments, quotes
// group, a backslash escapes the next character and an unquoted # starts
// a comment. A value of plain characters is written as is, anything else
// in double quotes with \ and " escaped. sbatch reads "hetjob" or
// "packjob" anywhere in the line (any case) as the start of another job
// component: refused.
func sbatchArg(v string) (string, error) {
	if err := oneLine(v); err != nil {
		return "", fmt.Errorf("%q: %w", v, err)
	}
	if l := strings.ToLower(v); strings.Contains(l, "hetjob") || strings.Contains(l, "packjob") {
		return "", fmt.Errorf("%q: sbatch reads hetjob or packjob in an #SBATCH line as a new job component", v)
	}
	if v != "" && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:/+=@%-") == "" {
		return v, nil
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`, nil
}

// logPattern is the --output argument for the log folder dir: dir's %
// doubled (Slurm expands %A, %a and the like in this path), then
// %A_%a.log. A backslash anywhere turns Slurm's expansion off, so every
// task would share one log: refused.
func logPattern(dir string) (string, error) {
	if strings.Contains(dir, `\`) {
		return "", fmt.Errorf("log folder %q: a backslash turns off Slurm's %%A/%%a file names", dir)
	}
	return sbatchArg(strings.ReplaceAll(dir, "%", "%%") + "/%A_%a.log")
}

// commentText is v for a comment line.
func commentText(v string) (string, error) {
	if err := oneLine(v); err != nil {
		return "", fmt.Errorf("%q: %w", v, err)
	}
	return v, nil
}

// arrayRanges writes ascending indices as Slurm array ranges: runs of
// three or more with one stride as a-b or a-b:stride, the rest one by one.
func arrayRanges(idx []int) string {
	var parts []string
	for i := 0; i < len(idx); {
		if i+1 < len(idx) {
			step := idx[i+1] - idx[i]
			k := i + 1
			for k+1 < len(idx) && idx[k+1]-idx[k] == step {
				k++
			}
			if k-i >= 2 || step == 1 {
				r := strconv.Itoa(idx[i]) + "-" + strconv.Itoa(idx[k])
				if step > 1 {
					r += ":" + strconv.Itoa(step)
				}
				parts = append(parts, r)
				i = k + 1
				continue
			}
		}
		parts = append(parts, strconv.Itoa(idx[i]))
		i++
	}
	return strings.Join(parts, ",")
}
