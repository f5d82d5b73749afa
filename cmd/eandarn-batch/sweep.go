package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/cmd/internal/progressview"
	"github.com/eandarn/eandarn/slurm"
	"github.com/eandarn/eandarn/solver/progress"
)

// sweepSynopsis is the sweep part of -h: the second form of the command
// and the exit statuses of both.
const sweepSynopsis = `eandarn-batch -sweep spec.toml [-list | -sbatch [-group cpu|gpu] | -submit | -task i | -task all -j K]
                     [-partition P] [-gpu-partition P] [-account A] [-qos Q] [-time T] [-mem M]

Sweep mode (-sweep; see README "Running on a cluster"): task i of N is the
i-th point of the cartesian product of the spec's axes, the last axis varying
fastest. -list prints N, then one line per task (index, result file, axis
values, done|todo); -sbatch prints the sbatch script of the job array;
-submit writes it to OUTPUT/NAME.sbatch, runs sbatch on it and prints the
job id; -task i runs one task (default: $SLURM_ARRAY_TASK_ID), -task all
runs every task locally with -j workers. A task whose result file exists is
skipped, so rerunning or resubmitting a sweep only runs what is missing.
-partition, -account, -qos, -time and -mem (or $SBATCH_PARTITION,
$SBATCH_ACCOUNT, $SBATCH_QOS, $SBATCH_TIMELIMIT, $SBATCH_MEM_PER_NODE)
override the spec's [slurm] table; "none" leaves the line out.

Exit status: 0 success, 1 internal failure, 2 bad input or usage (nothing
written), 3 interrupted by SIGTERM or SIGINT before the result was written:
a PINN method wrote its checkpoint first, and rerunning the same command
(with -checkpoint and -resume, as sweep tasks are) continues from it; the
sbatch script requeues a task that exits with 3.`

// sweepFlags is the command line of sweep mode.
type sweepFlags struct {
	spec     string
	task     string
	list     bool
	sbatch   bool
	submit   bool
	group    string
	jobs     int
	logLevel string
	// settings are the sbatch settings given as flags, by [slurm] key.
	settings map[string]*string
}

// isSweep reports whether args ask for sweep mode (a -sweep flag before
// any "--").
func isSweep(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "sweep" {
			return true
		}
	}
	return false
}

// runSweep is sweep mode. It checks the spec, every task's flags and (to
// run or submit) the input before it creates anything: a bad spec or usage
// is one line on stderr, exit status 2 and no file or folder made. Then it
// lists, writes the sbatch script, submits it, or runs tasks.
func runSweep(args []string, stdout, stderr io.Writer) int {
	f, help, err := parseSweepArgs(args, stdout)
	if help {
		return cli.ExitOK
	}
	if err != nil {
		return cli.Report(stderr, prog, err)
	}
	log, err := cli.Logger(stderr, f.logLevel)
	if err != nil {
		return cli.Report(stderr, prog, err)
	}
	sw, err := loadSweep(f.spec)
	if err != nil {
		return cli.Report(stderr, prog, err)
	}
	s, tasks := sw.spec, sw.tasks
	switch {
	case f.list:
		w := bufio.NewWriter(stdout)
		fmt.Fprintln(w, len(tasks))
		for _, t := range tasks {
			state := "todo"
			if t.Done() {
				state = "done"
			}
			fmt.Fprintf(w, "%s\t%s\n", t, state)
		}
		return cli.Report(stderr, prog, w.Flush())
	case f.sbatch || f.submit:
		return cli.Report(stderr, prog, generate(f, sw, stdout, log))
	}
	var one *slurm.Task // the task of -task i; nil for -task all
	if f.task != "all" {
		i, err := strconv.Atoi(f.task)
		if err != nil {
			return cli.Report(stderr, prog, cli.BadInputf("-task %q: want a task index, or all", f.task))
		}
		if i < 0 || i >= len(tasks) {
			_, err := s.Task(i) // the spec's own out-of-range message
			return cli.Report(stderr, prog, cli.BadInput(err))
		}
		if one = &tasks[i]; one.Done() {
			log.Info("result exists: task skipped", "task", i, "out", one.Out)
			return cli.ExitOK
		}
	}
	if err := checkInput(s); err != nil {
		return cli.Report(stderr, prog, err)
	}
	if err := s.MakeOutput("logs", "checkpoints"); err != nil {
		return cli.Report(stderr, prog, cli.BadInput(err))
	}
	if one == nil {
		return runAll(s, tasks, f.jobs, f.logLevel, stdout, stderr, log)
	}
	t := *one
	log.Info("task", "task", t.Index, "of", len(tasks), "point", pointText(t))
	code := program.Main(taskArgs(s, t, f.logLevel), stdout, stderr)
	if code == cli.ExitOK {
		removeCheckpoint(t, log)
	}
	return code
}

// checkInput refuses a missing input, an input that is neither a file nor
// a folder, and an output folder inside an input folder, once rather than
// in every task, before anything is created.
func checkInput(s *slurm.Spec) error {
	st, err := os.Stat(s.InputPath())
	switch {
	case err != nil:
		return cli.BadInputf("sweep %s: input: %w", s.Path(), err)
	case !st.Mode().IsRegular() && !st.IsDir():
		return cli.BadInputf("sweep %s: input %s: want a run file (HDF5) or run folder (.npy), got a special file", s.Path(), s.InputPath())
	}
	if err := cli.CheckOutputFolder("output folder", s.OutputDir(), []cli.File{{Flag: "input", Path: s.InputPath()}}); err != nil {
		return cli.BadInputf("sweep %s: %w", s.Path(), err)
	}
	return nil
}

// parseSweepArgs parses the sweep-mode flags; help is true after -h.
func parseSweepArgs(args []string, stdout io.Writer) (f *sweepFlags, help bool, err error) {
	f = &sweepFlags{settings: map[string]*string{}}
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.StringVar(&f.spec, "sweep", "", "sweep spec (TOML): input run file, output folder, [fixed] flags, [[axis]] name/values, [slurm] options")
	fs.StringVar(&f.task, "task", "", "task index 0..N-1 to run, or all (default: $SLURM_ARRAY_TASK_ID)")
	fs.BoolVar(&f.list, "list", false, "print N, then one line per task: index, result file, axis values, done|todo")
	fs.BoolVar(&f.sbatch, "sbatch", false, "print the sbatch script of the sweep's job array (and create OUTPUT/logs)")
	fs.BoolVar(&f.submit, "submit", false, "write the sbatch script(s) to OUTPUT/NAME.sbatch, submit them with sbatch and print the job ids")
	fs.StringVar(&f.group, "group", "", "with -sbatch, for a sweep of CPU and GPU tasks: the script of the cpu or the gpu tasks")
	for _, o := range sbatchOverrides {
		f.settings[o.key] = fs.String(o.flag, "", o.usage)
	}
	fs.IntVar(&f.jobs, "j", 1, "with -task all: tasks run at once (each in-process, its log in OUTPUT/logs/task-NNNNN.log)")
	fs.StringVar(&f.logLevel, "log-level", "info", "stderr log level: debug, info, warn, error (passed on to each task)")
	cli.SetUsage(fs, sweepSynopsis)
	if help, err := cli.Parse(fs, args, stdout); help || err != nil {
		return nil, help, err
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	modes := 0
	for _, m := range []bool{f.list, f.sbatch, f.submit, given["task"]} {
		if m {
			modes++
		}
	}
	if modes == 0 {
		f.task = os.Getenv("SLURM_ARRAY_TASK_ID")
	}
	generating := f.sbatch || f.submit
	switch {
	case f.spec == "":
		return nil, false, cli.BadInputf("-sweep: want a spec file")
	case modes > 1:
		return nil, false, cli.BadInputf("-list, -sbatch, -submit and -task exclude each other")
	case modes == 0 && f.task == "":
		return nil, false, cli.BadInputf("-sweep %s: no task: give -task i, -task all, -list, -sbatch or -submit (inside a Slurm array $SLURM_ARRAY_TASK_ID names the task)", f.spec)
	case given["j"] && f.task != "all":
		return nil, false, cli.BadInputf("-j %d applies to -task all only", f.jobs)
	case f.jobs < 1:
		return nil, false, cli.BadInputf("-j %d: want ≥ 1 workers", f.jobs)
	case given["group"] && !f.sbatch:
		return nil, false, cli.BadInputf("-group applies to -sbatch only")
	case given["group"] && f.group != "cpu" && f.group != "gpu":
		return nil, false, cli.BadInputf("-group %q: want cpu or gpu", f.group)
	}
	for _, o := range sbatchOverrides {
		if given[o.flag] && !generating {
			return nil, false, cli.BadInputf("-%s applies to -sbatch and -submit only", o.flag)
		}
	}
	return f, false, nil
}

// sweep is a loaded sweep: the spec, its tasks, and what each task's
// memory depends on besides the run file.
type sweep struct {
	spec  *slurm.Spec
	tasks []slurm.Task
	work  []memWork
}

// loadSweep loads the spec, with the batch flags as the known axes, and
// checks every task's flags the way a batch run would, so that a spec whose
// task 117 would be refused fails before task 0 starts; the result paths
// too, once the output folder exists. It creates nothing.
func loadSweep(path string) (*sweep, error) {
	batch := newFlagSet(new(config))
	s, err := slurm.Load(path, func(name string) bool { return batch.Lookup(name) != nil })
	if err != nil {
		return nil, cli.BadInput(err)
	}
	if err := s.CheckOutput(); err != nil {
		return nil, cli.BadInput(err)
	}
	st, err := os.Stat(s.OutputDir())
	outputExists := err == nil && st.IsDir()
	sw := &sweep{spec: s, tasks: make([]slurm.Task, s.Len()), work: make([]memWork, s.Len())}
	for i := range sw.tasks {
		t, err := s.Task(i)
		if err != nil {
			return nil, cli.BadInput(err)
		}
		c, _, err := parseFlags(taskArgs(s, t, "info"), io.Discard)
		if err == nil && outputExists {
			err = cli.CheckOutput(t.Out)
		}
		if err != nil {
			return nil, cli.BadInputf("sweep %s: task %d (%s): %w", path, i, pointText(t), err)
		}
		sw.tasks[i], sw.work[i] = t, taskWork(c)
	}
	return sw, nil
}

// taskArgs is the batch command line of task t: the spec's flags, then
// -checkpoint and -resume for the methods that checkpoint (the PINN
// methods), so that a rerun or requeued task continues where it stopped.
func taskArgs(s *slurm.Spec, t slurm.Task, logLevel string) []string {
	args := append(s.Args(t), "-log-level", logLevel)
	if m, _ := s.Value(t, "method"); slices.Contains(flagOwners("checkpoint"), m) {
		args = append(args, "-checkpoint", t.Checkpoint, "-resume")
	}
	return args
}

// removeCheckpoint deletes the checkpoint of a finished task, and those of
// its ensemble members (pinn.MemberPath): its result exists, so the task
// never runs again.
func removeCheckpoint(t slurm.Task, log *slog.Logger) {
	members, _ := filepath.Glob(globQuote(t.Checkpoint) + ".member*")
	for _, p := range append([]string{t.Checkpoint}, members...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("checkpoint of a finished task not removed", "path", p, "err", err)
		}
	}
}

// globQuote escapes the pattern characters of a path for filepath.Glob.
func globQuote(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func pointText(t slurm.Task) string {
	parts := make([]string, len(t.Point))
	for i, p := range t.Point {
		parts[i] = p.Name + "=" + p.Value
	}
	return strings.Join(parts, " ")
}

// runAll runs every task of the sweep with jobs workers in this process,
// for users without a cluster. Each task's log goes to
// OUTPUT/logs/task-NNNNN.log and its JSON line to stdout. SIGINT or SIGTERM
// interrupts the running tasks (each PINN task checkpoints) and starts no
// more. The exit status is the worst of the tasks': 1, then 2, then 3.
func runAll(s *slurm.Spec, tasks []slurm.Task, jobs int, logLevel string, stdout, stderr io.Writer, log *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Progress over the tasks that still had to run when the sweep started.
	view, log, err := cli.ProgressLogger(stderr, logLevel, progressview.DefaultEvery)
	if err != nil {
		return cli.Report(stderr, prog, err)
	}
	defer view.Close()
	todo := make([]bool, len(tasks))
	var ntodo int64
	for i, t := range tasks {
		if todo[i] = !t.Done(); todo[i] {
			ntodo++
		}
	}
	var finished atomic.Int64
	out := &lockedWriter{w: stdout}
	codes := make([]int, len(tasks))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, len(tasks)) {
		wg.Go(func() {
			for i := range next {
				codes[i] = runLocal(ctx, s, tasks[i], logLevel, out, log)
				if todo[i] {
					view.Report(progress.Update{Stage: "sweep", Done: finished.Add(1), Total: ntodo, Unit: "task"})
				}
			}
		})
	}
	for i := range tasks {
		if ctx.Err() != nil {
			codes[i] = cli.ExitInterrupted
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()

	var ok, failed, bad, interrupted int
	worst := cli.ExitOK
	rank := map[int]int{cli.ExitOK: 0, cli.ExitInterrupted: 1, cli.ExitBadInput: 2, cli.ExitInternal: 3}
	for _, c := range codes {
		switch c {
		case cli.ExitOK:
			ok++
		case cli.ExitInterrupted:
			interrupted++
		case cli.ExitBadInput:
			bad++
		default:
			failed++
			c = cli.ExitInternal
		}
		if rank[c] > rank[worst] {
			worst = c
		}
	}
	logs := filepath.Join(s.OutputDir(), "logs")
	log.Info("sweep finished", "tasks", len(tasks), "ok", ok, "failed", failed, "bad_input", bad,
		"interrupted", interrupted, "logs", logs)
	if worst != cli.ExitOK {
		// A status other than 0 always comes with its one line, whatever
		// the log level.
		fmt.Fprintf(stderr, "%s: %d of %d tasks did not finish (failed %d, bad input %d, interrupted %d); their logs are in %s\n",
			prog, failed+bad+interrupted, len(tasks), failed, bad, interrupted, logs)
	}
	return worst
}

// runLocal runs one task of runAll: skipped when its result exists or the
// sweep was interrupted before it started.
func runLocal(ctx context.Context, s *slurm.Spec, t slurm.Task, logLevel string, stdout io.Writer, log *slog.Logger) int {
	if ctx.Err() != nil {
		return cli.ExitInterrupted
	}
	if t.Done() {
		log.Info("result exists: task skipped", "task", t.Index, "out", t.Out)
		return cli.ExitOK
	}
	path := filepath.Join(s.OutputDir(), "logs", fmt.Sprintf("task-%05d.log", t.Index))
	lf, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Error("task log", "task", t.Index, "err", err)
		return cli.ExitInternal
	}
	defer lf.Close()
	log.Info("task started", "task", t.Index, "point", pointText(t), "log", path)
	start := time.Now()
	code := program.Main(taskArgs(s, t, logLevel), stdout, lf)
	if code == cli.ExitOK {
		removeCheckpoint(t, log)
	}
	log.Info("task finished", "task", t.Index, "status", code, "seconds", time.Since(start).Seconds())
	return code
}

// lockedWriter serializes the JSON lines of concurrent tasks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
