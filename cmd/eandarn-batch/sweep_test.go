package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/slurm"
	"github.com/eandarn/eandarn/solver/pinn"
)

// sweepDir makes a folder holding the tiny run file (run.h5) and a spec
// with the given body, whose input is run.h5 and output res unless the
// body sets them; it returns the spec path.
func sweepDir(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	writeRun(t, filepath.Join(dir, "run.h5"))
	spec := filepath.Join(dir, "spec.toml")
	if !strings.Contains(body, "output =") {
		body = "output = \"res\"\n" + body
	}
	if !strings.Contains(body, "input =") {
		body = "input = \"run.h5\"\n" + body
	}
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec
}

const regSweep = `
[[axis]]
name = "method"
values = ["tikhonov2", "stre"]
[[axis]]
name = "seed"
values = [1, 2]
`

// TestSweepMalformed: a malformed spec, a bad task index or a task whose
// flags a batch run would refuse gets one line on stderr and exit status
// 2, and no result is written.
func TestSweepMalformed(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		args       []string
		want       string
	}{
		{"unknown axis", "[[axis]]\nname = \"colour\"\nvalues = [1]\n", []string{"-task", "0"}, `axis "colour": unknown axis`},
		{"empty axis", "[[axis]]\nname = \"seed\"\nvalues = []\n", []string{"-list"}, `axis "seed": empty`},
		{"reserved axis", "[[axis]]\nname = \"checkpoint\"\nvalues = [\"x\"]\n", []string{"-sbatch"}, `axis "checkpoint": unknown axis`},
		{"index out of range", regSweep, []string{"-task", "4"}, "task 4 out of range: want 0..3"},
		{"negative index", regSweep, []string{"-task", "-1"}, "task -1 out of range"},
		{"index not a number", regSweep, []string{"-task", "two"}, `-task "two": want a task index, or all`},
		{"no task", regSweep, nil, "no task: give -task i"},
		{"-j without all", regSweep, []string{"-task", "1", "-j", "2"}, "-j 2 applies to -task all only"},
		{"-list and -task", regSweep, []string{"-list", "-task", "1"}, "exclude each other"},
		{"flag of another method", "[fixed]\nepochs = 3\n" + regSweep, []string{"-task", "all"}, "task 0 (method=tikhonov2 seed=1): -epochs does not apply to tikhonov2"},
		{"bad value", "[fixed]\nmethod = \"stre\"\n[[axis]]\nname = \"noise\"\nvalues = [0.1, -1.0]\n", []string{"-task", "0"}, "task 1 (noise=-1): -noise -1"},
		{"input missing", "input = \"gone.h5\"\n" + regSweep, []string{"-task", "all"}, "input: stat "},
		{"no method", "[[axis]]\nname = \"seed\"\nvalues = [1]\n", []string{"-task", "0"}, "no method"},
		{"output not writable", fmt.Sprintf("output = %q\n", filepath.Join(blocker, "sub")) + regSweep, []string{"-task", "0"}, "output folder"},
		// Issue 12 defect 12: refused specs create nothing (checked below).
		{"bad method", "[fixed]\nmethod = \"nope\"\n[[axis]]\nname = \"seed\"\nvalues = [1]\n", []string{"-task", "all"}, `unknown method "nope"`},
		{"bad noise", "[fixed]\nmethod = \"stre\"\nnoise = -0.1\n[[axis]]\nname = \"seed\"\nvalues = [1]\n", []string{"-sbatch"}, "-noise -0.1"},
		{"negative seed", "[fixed]\nmethod = \"stre\"\n[[axis]]\nname = \"seed\"\nvalues = [1, -1]\n", []string{"-task", "0"}, "task 1 (seed=-1)"},
		{"input missing, -task", "input = \"gone.h5\"\n" + regSweep, []string{"-task", "0"}, "input: stat "},
		{"input missing, -sbatch", "input = \"gone.h5\"\n" + regSweep, []string{"-sbatch"}, "input: stat "},
		// Issue 12 defects 2, 3, 7, 10, 11.
		{"name with a command", "name = \"x\\ntouch F\"\n" + regSweep, []string{"-sbatch"}, `name "x\ntouch F"`},
		{"time with a command", regSweep + "[slurm]\ntime = \"01:00:00\\ntouch F\"\n", []string{"-sbatch"}, `[slurm] time "01:00:00\ntouch F"`},
		{"negative concurrency", regSweep + "[slurm]\nconcurrency = -5\n", []string{"-sbatch"}, "[slurm] concurrency -5: want ≥ 1"},
		{"negative cpus", regSweep + "[slurm]\ncpus = -1\n", []string{"-sbatch"}, "[slurm] cpus -1: want 1 to"},
		{"1000^3 tasks", axesSpec(1000, 1000, 1000), []string{"-sbatch"}, "more than 100000 tasks (axes of 1000 x 1000 x 1000 values)"},
		{"65536^4 tasks", axesSpec(65536, 65536, 65536, 65536), []string{"-sbatch"}, "more than 100000 tasks"},
		{"1e6 tasks", axesSpec(1000, 1000), []string{"-sbatch"}, "more than 100000 tasks"},
		{"override not a Slurm value", regSweep, []string{"-sbatch", "-partition", "a;touch F"}, `-partition "a;touch F": want Slurm partition names`},
		{"override without -sbatch", regSweep, []string{"-task", "0", "-mem", "1G"}, "-mem applies to -sbatch and -submit only"},
		{"-group without -sbatch", regSweep, []string{"-submit", "-group", "gpu"}, "-group applies to -sbatch only"},
		{"-group of nothing", regSweep, []string{"-sbatch", "-group", "gpu"}, "the sweep has no gpu tasks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := sweepDir(t, tc.body)
			t.Setenv("SLURM_ARRAY_TASK_ID", "")
			code, stdout, stderr := call(append([]string{"-sweep", spec}, tc.args...)...)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], prog+": ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and one line containing %q", code, stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(spec), "res")); err == nil {
				t.Errorf("the output folder was created")
			}
			if found := findFile(filepath.Dir(filepath.Dir(spec)), "F"); found != "" {
				t.Errorf("a command from the spec ran: %s exists", found)
			}
		})
	}
}

// axesSpec is a spec body with one axis per length (values all 0, of the
// flags seed, noise, width, layers in turn) and the method stre.
func axesSpec(lengths ...int) string {
	var b strings.Builder
	b.WriteString("[fixed]\nmethod = \"stre\"\n")
	for i, n := range lengths {
		fmt.Fprintf(&b, "[[axis]]\nname = %q\nvalues = [%s0]\n", []string{"seed", "noise", "lambda-s", "lambda-t"}[i], strings.Repeat("0,", n-1))
	}
	return b.String()
}

// findFile returns the path of a file called name under dir, or "".
func findFile(dir, name string) string {
	var found string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			found = p
		}
		return nil
	})
	return found
}

// TestSweepListRunSkip: -list, a task chosen by $SLURM_ARRAY_TASK_ID, the
// skip of a task whose result exists, -task all -j 2 for the rest, and
// -sbatch.
func TestSweepListRunSkip(t *testing.T) {
	spec := sweepDir(t, regSweep)
	res := filepath.Join(filepath.Dir(spec), "res")
	code, out, errs := call("-sweep", spec, "-list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || lines[0] != "4" {
		t.Fatalf("-list: exit %d, stdout %q, stderr %q: want N = 4 then 4 lines", code, out, errs)
	}
	if want := "2\t" + filepath.Join(res, "task-00002.h5") + "\tmethod=stre\tseed=1\ttodo"; lines[3] != want {
		t.Errorf("-list line of task 2 = %q, want %q", lines[3], want)
	}

	t.Setenv("SLURM_ARRAY_TASK_ID", "2")
	code, out, errs = call("-sweep", spec)
	if code != 0 || !strings.Contains(out, `"method":"stre"`) || !strings.Contains(out, `"seed":1`) {
		t.Fatalf("task 2 from $SLURM_ARRAY_TASK_ID: exit %d, stdout %q, stderr %s", code, out, errs)
	}
	st, err := os.Stat(filepath.Join(res, "task-00002.h5"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = call("-sweep", spec)
	if code != 0 || out != "" || !strings.Contains(errs, "result exists: task skipped") {
		t.Errorf("rerun of a finished task: exit %d, stdout %q, stderr %q: want a logged skip", code, out, errs)
	}
	if st2, _ := os.Stat(filepath.Join(res, "task-00002.h5")); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the skipped task rewrote its result")
	}

	code, out, errs = call("-sweep", spec, "-task", "all", "-j", "2")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("-task all: exit %d, %d JSON lines (want 3: one task was done)\n%s", code, strings.Count(out, "\n"), errs)
	}
	for i := range 4 {
		if _, err := resultfile.Read(filepath.Join(res, fmt.Sprintf("task-%05d.h5", i))); err != nil {
			t.Errorf("task %d: %v", i, err)
		}
	}
	if logs, _ := filepath.Glob(filepath.Join(res, "logs", "task-*.log")); len(logs) != 3 {
		t.Errorf("task logs %v: want one per task run by -task all", logs)
	}
	if _, out, _ = call("-sweep", spec, "-list"); strings.Count(out, "\tdone\n") != 4 {
		t.Errorf("-list after the sweep:\n%s", out)
	}

	fakeSlurm(t, "") // a sinfo that knows no partition: the estimate stands
	code, out, _ = call("-sweep", spec, "-sbatch")
	self, _ := os.Executable()
	for _, w := range []string{"#SBATCH --array=0-3%4", "#SBATCH --signal=B:TERM@120", "#SBATCH --requeue",
		"\nspec='" + spec + "'\n", "\nbatch='" + self + "'\n", "scontrol requeue", "#SBATCH --mem="} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("-sbatch: exit %d, script lacks %q", code, w)
		}
	}
	for _, w := range []string{"--partition", "--time", "--cpus-per-task", "--gres"} {
		if strings.Contains(out, "#SBATCH "+w) {
			t.Errorf("-sbatch of a spec without [slurm] asks for %s:\n%s", w, out)
		}
	}
	if !strings.Contains(out, fmt.Sprintf(`"$rc" -eq %d`, slurm.InterruptedStatus)) || slurm.InterruptedStatus != 3 {
		t.Errorf("the script requeues on status %d, eandarn-batch exits 3 when interrupted", slurm.InterruptedStatus)
	}
}

// TestExperimentSpecs loads every spec of slurm/experiments (copied, so
// that Load's folders land in a temporary folder) with the batch flags,
// checks every task's flags as a batch run would, and the task counts of
// the paper's experiments with its repeat counts.
func TestExperimentSpecs(t *testing.T) {
	want := map[string]int{
		"fig6.toml":   3 * 10,     // EP-DL_AD, _ΔND, _ND x 10 repeats
		"fig7.toml":   3 * 10,     // width 5, 10, 15 x 10
		"fig8.toml":   6 * 10,     // NN1–NN6 x 10
		"table2.toml": 6 * 30,     // NN1–NN6 x 30 runs
		"fig9.toml":   4 * 3 * 10, // 4 methods x 3 σ x 10
		"table3.toml": 5 * 10,     // 5 λ x 10
	}
	src := filepath.Join("..", "..", "slurm", "experiments")
	files, _ := filepath.Glob(filepath.Join(src, "*.toml"))
	if len(files) != len(want) {
		t.Errorf("slurm/experiments has %d specs, want %d", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			sw, err := loadSweep(p)
			if err != nil {
				t.Fatal(err)
			}
			s, tasks := sw.spec, sw.tasks
			if len(tasks) != want[name] {
				t.Errorf("%d tasks, want %d", len(tasks), want[name])
			}
			if s.InputPath() != filepath.Join(filepath.Dir(p), "default.h5") {
				t.Errorf("input %s, want default.h5 next to the spec", s.InputPath())
			}
			if v, _ := s.Value(tasks[0], "seed"); v != "1" {
				t.Errorf("task 0 seed %q, want 1", v)
			}
		})
	}
}

// TestBatchSubprocess is not a test: the subprocess tests run the test
// binary with EANDARN_BATCH_SUBPROCESS=1 and the batch arguments after
// "--", and this is eandarn-batch's main then.
func TestBatchSubprocess(t *testing.T) {
	if os.Getenv("EANDARN_BATCH_SUBPROCESS") != "1" {
		t.Skip("runs only as the subprocess of TestSweepInterrupted")
	}
	args := os.Args[slices.Index(os.Args, "--")+1:]
	code := run(args, os.Stdout, os.Stderr)
	if f := os.Getenv("EANDARN_PEAK_FILE"); f != "" { // TestMemoryEstimate
		st, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		var kib int
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kib, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
		if err := os.WriteFile(f, []byte(strconv.Itoa(kib)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Exit(code)
}

// batchProcess starts eandarn-batch args as a subprocess (the test binary,
// see TestBatchSubprocess), its stderr going to the file errPath.
func batchProcess(t *testing.T, errPath string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestBatchSubprocess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "EANDARN_BATCH_SUBPROCESS=1")
	f, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// waitFile polls until path exists and contains text.
func waitFile(t *testing.T, path, text string) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), text) {
			return
		}
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("no %q in %s after 60 s:\n%s", text, path, b)
}

// TestSweepInterrupted: a PINN sweep task killed with SIGKILL between
// checkpoints leaves no result file (results are written under a
// temporary name and renamed) and resumes from its last checkpoint, losing
// at most -checkpoint-every steps; SIGTERM to a local -task all run makes
// every running task checkpoint and the run exit with status 3; both
// resumed results equal an uninterrupted run's bit for bit.
func TestSweepInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the interruption tests (a few seconds of training)")
	}
	const epochs, every = 1500, 40
	spec := sweepDir(t, fmt.Sprintf(`
[fixed]
method = "eandarn"
epochs = %d
checkpoint-every = %d
[[axis]]
name = "seed"
values = [1, 2]
`, epochs, every))
	dir := filepath.Dir(spec)
	res := filepath.Join(dir, "res")
	ref := filepath.Join(dir, "reference.h5")
	if code, _, errs := call("-in", filepath.Join(dir, "run.h5"), "-out", ref, "-method", "eandarn",
		"-epochs", strconv.Itoa(epochs), "-seed", "1"); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, errs)
	}
	resumedStep := regexp.MustCompile(`msg=resumed .* step=(\d+)`)

	t.Run("SIGKILL", func(t *testing.T) {
		log := filepath.Join(dir, "kill.log")
		cmd := batchProcess(t, log, "-sweep", spec, "-task", "0", "-log-level", "debug")
		ckpt := filepath.Join(res, "checkpoints", "task-00000.ckpt")
		for end := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(ckpt); err == nil {
				break
			}
			if time.Now().After(end) {
				cmd.Process.Kill()
				t.Fatal("no checkpoint after 60 s")
			}
		}
		time.Sleep(300 * time.Millisecond) // several checkpoints later
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("the task ended before SIGKILL (%v): raise epochs", err)
		}
		if _, err := os.Stat(filepath.Join(res, "task-00000.h5")); err == nil {
			t.Fatal("a result file exists after SIGKILL mid-training")
		}
		// The last epoch logged before the kill bounds the steps done from
		// below.
		killed, _ := os.ReadFile(log)
		epochsDone := regexp.MustCompile(`msg=epoch .*?epoch=(\d+)`).FindAllSubmatch(killed, -1)
		if len(epochsDone) == 0 {
			t.Fatalf("no epoch logged before the kill:\n%s", killed)
		}
		lastEpoch, _ := strconv.Atoi(string(epochsDone[len(epochsDone)-1][1]))

		code, _, errs := call("-sweep", spec, "-task", "0")
		if code != 0 {
			t.Fatalf("rerun after SIGKILL: exit %d\n%s", code, errs)
		}
		m := resumedStep.FindStringSubmatch(errs)
		if m == nil {
			t.Fatalf("the rerun did not resume from the checkpoint:\n%s", errs)
		}
		step, _ := strconv.Atoi(m[1])
		stepsPerEpoch := (20 + 7) / 8 // tinyProblem: 20 frames, -batch-frames 8
		if done := (lastEpoch + 1) * stepsPerEpoch; step%every != 0 || step <= done-every {
			t.Errorf("resumed at step %d: want a multiple of %d above %d (%d steps were done at the kill)", step, every, done-every, done)
		}
		t.Logf("killed after ≥ %d steps, resumed at step %d", (lastEpoch+1)*stepsPerEpoch, step)
		sameResult(t, ref, filepath.Join(res, "task-00000.h5"))
		if _, err := os.Stat(ckpt); err == nil {
			t.Error("the checkpoint of a finished task is left behind")
		}
	})

	t.Run("SIGTERM -task all", func(t *testing.T) {
		os.Remove(filepath.Join(res, "task-00000.h5"))
		log := filepath.Join(dir, "term.log")
		cmd := batchProcess(t, log, "-sweep", spec, "-task", "all", "-j", "2")
		for i := range 2 {
			waitFile(t, filepath.Join(res, "logs", fmt.Sprintf("task-%05d.log", i)), "initial loss ratio")
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 3 {
			b, _ := os.ReadFile(log)
			t.Fatalf("interrupted -task all: exit %d, want 3\n%s", code, b)
		}
		for i := range 2 {
			if _, err := os.Stat(filepath.Join(res, "checkpoints", fmt.Sprintf("task-%05d.ckpt", i))); err != nil {
				t.Errorf("task %d: no checkpoint after SIGTERM: %v", i, err)
			}
			if _, err := os.Stat(filepath.Join(res, fmt.Sprintf("task-%05d.h5", i))); err == nil {
				t.Errorf("task %d: a result after SIGTERM", i)
			}
		}
		code, _, errs := call("-sweep", spec, "-task", "all", "-j", "2")
		if code != 0 {
			t.Fatalf("rerun: exit %d\n%s", code, errs)
		}
		for i := range 2 {
			b, _ := os.ReadFile(filepath.Join(res, "logs", fmt.Sprintf("task-%05d.log", i)))
			if !resumedStep.Match(b) {
				t.Errorf("task %d did not resume:\n%s", i, b)
			}
		}
		sameResult(t, ref, filepath.Join(res, "task-00000.h5"))
	})
}

// sameResult fails unless two result files hold bit-identical
// reconstructions and loss histories.
func sameResult(t *testing.T, want, got string) {
	t.Helper()
	a, err := resultfile.Read(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := resultfile.Read(got)
	if err != nil {
		t.Fatal(err)
	}
	if d := resultfile.Differ(a, b, "reconstruction/u", "reconstruction/v", "series/loss_data", "series/loss_ep"); len(d) > 0 {
		t.Errorf("%v differ between the uninterrupted run %s and the resumed one %s", d, want, got)
	}
}

// fakeSlurm puts fake sbatch and sinfo on PATH. sbatch records its
// arguments and its SBATCH_* environment in dir/sbatch.log and prints
// "4242;cluster" (as --parsable does); sinfo prints nodeMem.
func fakeSlurm(t *testing.T, nodeMem string) string {
	t.Helper()
	dir := t.TempDir()
	scripts := map[string]string{
		"sbatch": "#!/bin/sh\necho \"$@\" >> " + dir + "/sbatch.log\nenv | grep '^SBATCH_' >> " + dir + "/sbatch.log\necho '4242;cluster'\n",
		"sinfo":  "#!/bin/sh\nprintf '" + nodeMem + "'\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	return dir
}

// TestSweepSbatchOverrides (issue 16): -partition, -account, -qos, -time
// and -mem, or the SBATCH_* variables sbatch itself reads, override the
// spec's [slurm] table; a flag wins over its variable; "none" drops the
// line; the memory estimate is dropped where sinfo reports nodes without
// memory.
func TestSweepSbatchOverrides(t *testing.T) {
	spec := sweepDir(t, regSweep+"[slurm]\npartition = \"cpu\"\ntime = \"02:00:00\"\nmem = \"4G\"\n")
	fakeSlurm(t, "debug* 1\\n")
	t.Setenv("SBATCH_PARTITION", "envpart")
	t.Setenv("SBATCH_ACCOUNT", "envacct")
	t.Setenv("SBATCH_TIMELIMIT", "")
	code, out, errs := call("-sweep", spec, "-sbatch", "-partition", "flagpart", "-qos", "high", "-time", "none", "-mem", "300M")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"#SBATCH --partition=flagpart\n", "#SBATCH --account=envacct\n", "#SBATCH --qos=high\n", "#SBATCH --mem=300M\n",
		"# --account=envacct: from $SBATCH_ACCOUNT\n", "# --time not set: -time says none\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("script lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "#SBATCH --time") {
		t.Errorf("-time none left a --time line")
	}
	// Without overrides and without [slurm] mem: the estimate, unless the
	// nodes report no memory.
	spec = sweepDir(t, regSweep)
	t.Setenv("SBATCH_PARTITION", "")
	t.Setenv("SBATCH_ACCOUNT", "")
	_, out, _ = call("-sweep", spec, "-sbatch")
	if strings.Contains(out, "#SBATCH --mem") || !strings.Contains(out, "report no memory (RealMemory unset)") {
		t.Errorf("nodes without memory: the script asks for memory:\n%s", out)
	}
	fakeSlurm(t, "debug* 64000\\nother 128000\\n")
	_, out, _ = call("-sweep", spec, "-sbatch")
	if !regexp.MustCompile(`(?m)^#SBATCH --mem=[0-9]+M$`).MatchString(out) {
		t.Errorf("nodes with memory: no estimated --mem:\n%s", out)
	}
}

// TestSweepSubmit (issue 16): -submit writes OUTPUT/NAME.sbatch, runs
// sbatch --parsable on it without the SBATCH_* settings it already holds,
// and prints the job id; without sbatch it is bad usage.
func TestSweepSubmit(t *testing.T) {
	spec := sweepDir(t, "name = \"demo\"\n"+regSweep)
	dir := fakeSlurm(t, "")
	t.Setenv("SBATCH_PARTITION", "envpart")
	code, out, errs := call("-sweep", spec, "-submit")
	if code != 0 || strings.TrimSpace(out) != `{"jobs":[{"job_id":"4242","group":"all","tasks":4,"script":"`+filepath.Join(filepath.Dir(spec), "res", "demo.sbatch")+`"}],"sweep":"`+spec+`"}` {
		t.Fatalf("-submit: exit %d, stdout %q, stderr %s", code, out, errs)
	}
	script, err := os.ReadFile(filepath.Join(filepath.Dir(spec), "res", "demo.sbatch"))
	if err != nil || !strings.Contains(string(script), "#SBATCH --partition=envpart\n") {
		t.Errorf("submitted script: %v\n%s", err, script)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "sbatch.log"))
	if want := "--parsable " + filepath.Join(filepath.Dir(spec), "res", "demo.sbatch") + "\n"; string(log) != want {
		t.Errorf("sbatch got %q, want %q (and no SBATCH_ variables)", log, want)
	}
	// sbatch refusing the job: its message in one line, exit status 2.
	refuse := t.TempDir()
	if err := os.WriteFile(filepath.Join(refuse, "sbatch"), []byte("#!/bin/sh\necho 'sbatch: error: invalid partition specified: cpu' >&2\necho 'sbatch: error: Batch job submission failed' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", refuse+":/usr/bin:/bin")
	code, out, errs = call("-sweep", spec, "-submit")
	if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "invalid partition specified: cpu") {
		t.Errorf("-submit refused by sbatch: exit %d, stdout %q, stderr %q: want 2 and one line with sbatch's message", code, out, errs)
	}
	t.Setenv("PATH", t.TempDir())
	fresh := sweepDir(t, regSweep)
	code, _, errs = call("-sweep", fresh, "-submit")
	if code != 2 || !strings.Contains(errs, "no sbatch on PATH") {
		t.Errorf("-submit without sbatch: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(fresh), "res")); err == nil {
		t.Error("-submit without sbatch created the output folder")
	}
}

// TestSweepMixedCPUGPU (issue 11 item 6): with [slurm] gpu_partition the
// PINN tasks form a second job array on the GPU partition with
// --gres=gpu:1; -sbatch needs -group to pick one, -submit submits both.
func TestSweepMixedCPUGPU(t *testing.T) {
	spec := sweepDir(t, `
name = "mixed"
[fixed]
noise = 0.05
[[axis]]
name = "method"
values = ["tikhonov2", "stre", "eandarn"]
[[axis]]
name = "seed"
values = [1, 2]
[slurm]
gpu_partition = "gpu"
`)
	dir := fakeSlurm(t, "")
	code, _, errs := call("-sweep", spec, "-sbatch")
	if code != 2 || !strings.Contains(errs, "4 CPU tasks and 2 GPU tasks need two job arrays") {
		t.Errorf("-sbatch of a mixed sweep: exit %d, %q", code, errs)
	}
	code, gpu, errs := call("-sweep", spec, "-sbatch", "-group", "gpu")
	for _, w := range []string{"#SBATCH --array=4-5%2\n", "#SBATCH --partition=gpu\n", "#SBATCH --gres=gpu:1\n"} {
		if code != 0 || !strings.Contains(gpu, w) {
			t.Errorf("-group gpu: exit %d (%s), script lacks %q", code, errs, w)
		}
	}
	_, cpu, _ := call("-sweep", spec, "-sbatch", "-group", "cpu")
	if !strings.Contains(cpu, "#SBATCH --array=0-3%4\n") || strings.Contains(cpu, "--gres") || strings.Contains(cpu, "#SBATCH --partition") {
		t.Errorf("-group cpu:\n%s", cpu)
	}
	code, out, errs := call("-sweep", spec, "-submit")
	if code != 0 || strings.Count(out, `"job_id":"4242"`) != 2 || !strings.Contains(out, `"group":"gpu","tasks":2`) {
		t.Errorf("-submit: exit %d, %s %s", code, out, errs)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "sbatch.log"))
	if !strings.Contains(string(log), "mixed-cpu.sbatch") || !strings.Contains(string(log), "mixed-gpu.sbatch") {
		t.Errorf("sbatch calls: %s", log)
	}
}

// TestHostileSpecFolder (issue 12 defect 2): a spec in a folder named
// with shell syntax, with a binary value that is a command: the generated
// script, run by bash, executes none of it and stops with status 2.
func TestHostileSpecFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "dir with space $(touch F)")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRun(t, filepath.Join(dir, "run.h5"))
	spec := filepath.Join(dir, "spec.toml")
	if err := os.WriteFile(spec, []byte("input = \"run.h5\"\noutput = \"res $(touch F)\"\n"+regSweep+"[slurm]\nbatch = \"eandarn-batch; touch F\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, script, errs := call("-sweep", spec, "-sbatch")
	if code != 0 {
		t.Fatalf("-sbatch: exit %d: %s", code, errs)
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=0")
	msg, _ := cmd.CombinedOutput()
	if c := cmd.ProcessState.ExitCode(); c != 2 || !strings.Contains(string(msg), "eandarn-batch; touch F: not found or not executable") {
		t.Errorf("script: exit %d, %q: want 2 and the missing binary named", c, msg)
	}
	if found := findFile(root, "F"); found != "" {
		t.Errorf("a command from the spec ran: %s exists", found)
	}
}

// TestParseNodeMem reads sinfo -N -o "%P %m" output.
func TestParseNodeMem(t *testing.T) {
	out := []byte("debug* 1\nbig 64000\nbig 128000\ngpu 32000\nbad line here\n")
	for _, tc := range []struct {
		part string
		want int
		ok   bool
	}{{"", 1, true}, {"big", 128000, true}, {"gpu,big", 128000, true}, {"gpu", 32000, true}, {"none", 0, false}} {
		if got, ok := parseNodeMem(out, tc.part); got != tc.want || ok != tc.ok {
			t.Errorf("partition %q: %d %v, want %d %v", tc.part, got, ok, tc.want, tc.ok)
		}
	}
}

// TestSweepSpecNotRegular (issue 12 defect 11): -sweep /dev/zero or a FIFO
// is one line and exit status 2 at once, without reading or waiting.
func TestSweepSpecNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "spec.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/dev/zero", fifo} {
		type result struct {
			code   int
			stderr string
		}
		done := make(chan result, 1)
		go func() { code, _, errs := call("-sweep", path, "-list"); done <- result{code, errs} }()
		select {
		case r := <-done:
			if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "not a regular file") {
				t.Errorf("-sweep %s: exit %d, %q", path, r.code, r.stderr)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("-sweep %s: no answer after 20 s", path)
		}
	}
}

// BenchmarkSweepSbatchMaxTasks: -sbatch on a sweep of slurm.MaxTasks tasks
// (100 seeds x 1000 noise levels of stre), every task's flags checked and
// the memory estimated: issue 12 defect 11 asks that this be fast.
func BenchmarkSweepSbatchMaxTasks(b *testing.B) {
	dir := b.TempDir()
	run := filepath.Join(dir, "run.h5")
	if err := runfile.Save(run, tinyProblem()); err != nil {
		b.Fatal(err)
	}
	var noise strings.Builder
	for i := range slurm.MaxTasks / 100 {
		if i > 0 {
			noise.WriteString(",")
		}
		fmt.Fprintf(&noise, "%g", float64(i)/1000)
	}
	var seeds strings.Builder
	for i := range 100 {
		if i > 0 {
			seeds.WriteString(",")
		}
		fmt.Fprint(&seeds, i+1)
	}
	spec := filepath.Join(dir, "big.toml")
	body := fmt.Sprintf("input = \"run.h5\"\noutput = \"res\"\n[fixed]\nmethod = \"stre\"\n[[axis]]\nname = \"seed\"\nvalues = [%s]\n[[axis]]\nname = \"noise\"\nvalues = [%s]\n", seeds.String(), noise.String())
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if code, out, errs := call("-sweep", spec, "-sbatch"); code != 0 || !strings.Contains(out, fmt.Sprintf("--array=0-%d%%8", slurm.MaxTasks-1)) {
			b.Fatalf("exit %d: %s", code, errs)
		}
	}
}

// TestMemoryEstimate (issue 16): the peak resident memory of each method,
// measured in a child process (one epoch for the PINN methods: the peak
// comes with the first step), stays within the --mem estimate a sweep
// script would ask for. It runs on the tiny run file; EANDARN_MEMCHECK=RUN
// runs it on another run file (README "Memory of a task" lists the
// default dataset's numbers, made this way).
func TestMemoryEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the memory measurement")
	}
	run := os.Getenv("EANDARN_MEMCHECK")
	if run == "" {
		run = filepath.Join(t.TempDir(), "run.h5")
		writeRun(t, run)
	}
	p, err := runfile.Load(run)
	if err != nil {
		t.Fatal(err)
	}
	sz, cpus := sizesOf(p), runtime.GOMAXPROCS(0)
	out := filepath.Join(t.TempDir(), "result.h5")
	for _, m := range methodNames() {
		args := []string{"-in", run, "-out", out, "-method", m, "-log-level", "error"}
		if slices.Contains(pinn.Names, m) {
			args = append(args, "-epochs", "1")
		}
		c, _, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		est := taskWork(c).estimate(sz, cpus)
		os.Remove(out)
		// The child reports its own peak (VmHWM): its rusage maxrss would
		// include this process's peak, which Linux carries over the vfork.
		peakFile := filepath.Join(t.TempDir(), "peak")
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestBatchSubprocess$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), "EANDARN_BATCH_SUBPROCESS=1", "EANDARN_PEAK_FILE="+peakFile)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", m, err, msg)
		}
		kib, err := os.ReadFile(peakFile)
		if err != nil {
			t.Fatal(err)
		}
		peakKiB, err := strconv.Atoi(string(kib))
		if err != nil {
			t.Fatalf("%s: peak %q: %v", m, kib, err)
		}
		peak := peakKiB / 1024 // KiB -> MiB
		t.Logf("%-10s n=%d m=%d T=%d, %d CPUs: peak %4d MiB, estimate %4d MiB", m, sz.nodes, sz.leads, sz.frames, cpus, peak, est.MiB)
		if peak > est.MiB {
			t.Errorf("%s: peak %d MiB above the estimate %d MiB (%s)", m, peak, est.MiB, est.Why)
		}
	}
}

// TestSweepResultIsSpecial: once the output folder exists, a task whose
// result path is a named pipe (which the rename at its end would replace)
// is refused before any task runs.
func TestSweepResultIsSpecial(t *testing.T) {
	spec := sweepDir(t, regSweep)
	res := filepath.Join(filepath.Dir(spec), "res")
	if err := os.Mkdir(res, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(res, "task-00002.h5"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := call("-sweep", spec, "-task", "all")
	if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "task 2 (method=stre seed=1)") || !strings.Contains(errs, "named pipe") {
		t.Errorf("exit %d, stdout %q, stderr %q: want 2 and one line naming task 2 and the FIFO", code, out, errs)
	}
	if logs, _ := os.ReadDir(filepath.Join(res, "logs")); len(logs) > 0 {
		t.Errorf("task logs written: %v", logs)
	}
}

// TestSweepFailedTasksSayWhy: a local sweep whose tasks fail on their data
// (here a memory budget the run file exceeds) exits with their status and
// one line on stderr naming the failed tasks and their logs, at any log
// level; before, -log-level warn left exit status 2 with nothing on stderr.
func TestSweepFailedTasksSayWhy(t *testing.T) {
	spec := sweepDir(t, "[fixed]\nmax-memory = \"1KiB\"\n"+regSweep)
	code, out, errs := call("-sweep", spec, "-task", "all", "-j", "2", "-log-level", "warn")
	if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "4 of 4 tasks did not finish (failed 0, bad input 4, interrupted 0)") {
		t.Errorf("exit %d, stdout %q, stderr %q: want 2 and one line counting the failed tasks", code, out, errs)
	}
}

// TestSweepOutputInsideInput: a sweep whose output folder lies inside its
// .npy run folder is refused before anything is created (its logs and
// checkpoints folders were made inside the input, then every task failed).
func TestSweepOutputInsideInput(t *testing.T) {
	spec := sweepDir(t, "input = \"run\"\noutput = \"run/res\"\n"+regSweep)
	run := filepath.Join(filepath.Dir(spec), "run")
	writeRun(t, run)
	code, out, errs := call("-sweep", spec, "-task", "all")
	if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "lies inside the input folder") {
		t.Errorf("exit %d, stdout %q, stderr %q: want 2 and one line", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(run, "res")); err == nil {
		t.Error("the output folder was made inside the input")
	}
}

// TestSweepEnsemble: a sweep of ensembles (-ensemble in [fixed]) run with
// -task all -j 2 writes each task's u_std and removes every member's
// checkpoint once its result exists; a bad ensemble count in a spec is
// refused before the first task.
func TestSweepEnsemble(t *testing.T) {
	spec := sweepDir(t, "[fixed]\nmethod = \"epdl-nd\"\nensemble = 2\nepochs = 1\nbatch-frames = 5\n[[axis]]\nname = \"seed\"\nvalues = [1, 2]\n")
	res := filepath.Join(filepath.Dir(spec), "res")
	code, out, errs := call("-sweep", spec, "-task", "all", "-j", "2", "-log-level", "warn")
	if code != 0 || strings.Count(out, `"members":2`) != 2 {
		t.Fatalf("-task all: exit %d, stdout %q, stderr %s", code, out, errs)
	}
	for i := range 2 {
		f, err := resultfile.Read(filepath.Join(res, fmt.Sprintf("task-%05d.h5", i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Matrices["reconstruction/u_std"]; !ok {
			t.Errorf("task %d: no reconstruction/u_std", i)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(res, "checkpoints", "*")); len(left) != 0 {
		t.Errorf("checkpoints left after the sweep: %v", left)
	}
	bad := sweepDir(t, "[fixed]\nmethod = \"eandarn\"\nensemble = 0\n[[axis]]\nname = \"seed\"\nvalues = [1]\n")
	code, out, errs = call("-sweep", bad, "-task", "all")
	if code != 2 || out != "" || !strings.Contains(errs, "-ensemble 0: want 1 to 1000") || strings.Count(errs, "\n") != 1 {
		t.Errorf("ensemble 0 in a spec: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
