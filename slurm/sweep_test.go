package slurm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate golden files in testdata/slurm")

func known(name string) bool {
	switch name {
	case "method", "noise", "seed", "width", "layers", "blocks", "epochs", "device", "ep-lambda":
		return true
	}
	return false
}

func writeSpec(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodSpec = `
name = "demo"
input = "run.h5"
output = "res"
[fixed]
epochs = 3
[[axis]]
name = "method"
values = ["stre", "eandarn"]
[[axis]]
name = "noise"
values = [0.01, 0.05, 0.1]
[[axis]]
name = "seed"
values = [1, 2]
`

func TestTaskOrder(t *testing.T) {
	p := writeSpec(t, goodSpec)
	s, err := Load(p, known)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 12 {
		t.Fatalf("Len = %d, want 12", s.Len())
	}
	// The last axis varies fastest: task 7 = method[1], noise[0], seed[1].
	tk, err := s.Task(7)
	if err != nil {
		t.Fatal(err)
	}
	want := []Param{{"method", "eandarn"}, {"noise", "0.01"}, {"seed", "2"}}
	for i := range want {
		if tk.Params[i] != want[i] {
			t.Errorf("task 7 param %d = %v, want %v", i, tk.Params[i], want[i])
		}
	}
	args := strings.Join(s.Args(tk), " ")
	for _, w := range []string{"-in " + filepath.Join(filepath.Dir(p), "run.h5"), "-epochs=3", "-method=eandarn", "-noise=0.01", "-seed=2", "task-00007.h5"} {
		if !strings.Contains(args, w) {
			t.Errorf("args %q lack %q", args, w)
		}
	}
	if want := filepath.Join(filepath.Dir(p), "res", "checkpoints", "task-00007.ckpt"); tk.Checkpoint != want {
		t.Errorf("checkpoint %s, want %s", tk.Checkpoint, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p), "res")); err == nil {
		t.Error("Load created the output folder")
	}
	if err := s.MakeOutput("logs", "checkpoints"); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"logs", "checkpoints"} {
		if st, err := os.Stat(filepath.Join(filepath.Dir(p), "res", sub)); err != nil || !st.IsDir() {
			t.Errorf("MakeOutput did not create res/%s: %v", sub, err)
		}
	}
	if v, ok := s.Value(tk, "epochs"); !ok || v != "3" {
		t.Errorf("Value(epochs) = %q, %v; want 3 from [fixed]", v, ok)
	}
	if v, ok := s.Value(tk, "method"); !ok || v != "eandarn" {
		t.Errorf("Value(method) = %q, %v; want eandarn from the axis", v, ok)
	}
	if _, ok := s.Value(tk, "width"); ok {
		t.Error("Value(width) found a flag the spec never sets")
	}
	seen := map[string]bool{}
	for i := 0; i < s.Len(); i++ {
		tk, _ := s.Task(i)
		key := tk.String()[strings.Index(tk.String(), ".h5")+3:]
		if seen[key] {
			t.Errorf("task %d repeats the point %s", i, key)
		}
		seen[key] = true
	}
}

// TestGroupedAxis: a table-valued axis sets several flags per value, its
// labels name the points, and its flags count against duplicates.
func TestGroupedAxis(t *testing.T) {
	s, err := Load(writeSpec(t, `
input = "run.h5"
output = "res"
[[axis]]
name = "net"
labels = ["NN1", "NN2", "NN6"]
values = [{layers = 4, blocks = 0}, {layers = 4, blocks = 1}, {layers = 10, blocks = 3}]
[[axis]]
name = "seed"
values = [1, 2]
`), known)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 6 {
		t.Fatalf("Len = %d, want 6", s.Len())
	}
	tk, err := s.Task(5)
	if err != nil {
		t.Fatal(err)
	}
	wantParams := []Param{{"blocks", "3"}, {"layers", "10"}, {"seed", "2"}}
	wantPoint := []Param{{"net", "NN6"}, {"seed", "2"}}
	if fmt.Sprint(tk.Params) != fmt.Sprint(wantParams) || fmt.Sprint(tk.Point) != fmt.Sprint(wantPoint) {
		t.Errorf("task 5: params %v point %v, want %v and %v", tk.Params, tk.Point, wantParams, wantPoint)
	}
	if !strings.HasSuffix(tk.String(), "\tnet=NN6\tseed=2") {
		t.Errorf("listing line %q, want the labels", tk.String())
	}
	args := strings.Join(s.Args(tk), " ")
	if !strings.Contains(args, "-blocks=3 -layers=10 -seed=2") {
		t.Errorf("args %q lack the grouped flags", args)
	}
}

func TestDoneSkipsExistingResults(t *testing.T) {
	s, err := Load(writeSpec(t, goodSpec), known)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.OutputDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	tk, _ := s.Task(0)
	if tk.Done() {
		t.Fatal("task 0 done before any result exists")
	}
	if err := os.WriteFile(tk.Out, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !tk.Done() {
		t.Fatal("task 0 not done with its result file present")
	}
}

func TestMalformedSpecs(t *testing.T) {
	// A regular file where a folder should be: unwritable even for root.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body, want string
	}{
		{"unknown axis", "input='r.h5'\noutput='o'\n[[axis]]\nname='colour'\nvalues=[1]\n", `axis "colour": unknown axis`},
		{"empty axis", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[]\n", `axis "seed": empty`},
		{"reserved axis", "input='r.h5'\noutput='o'\n[[axis]]\nname='out'\nvalues=['a']\n", `axis "out": unknown axis`},
		{"no axes", "input='r.h5'\noutput='o'\n", "no [[axis]]"},
		{"no input", "output='o'\n[[axis]]\nname='seed'\nvalues=[1]\n", "input: want a run file"},
		{"unknown key", "input='r.h5'\noutput='o'\ncolour=1\n[[axis]]\nname='seed'\nvalues=[1]\n", `unknown key "colour"`},
		{"unknown fixed", "input='r.h5'\noutput='o'\n[fixed]\ncolour=1\n[[axis]]\nname='seed'\nvalues=[1]\n", "fixed.colour"},
		{"axis twice", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[[axis]]\nname='seed'\nvalues=[2]\n", `axis "seed": set twice`},
		{"syntax", "input = \n", "sweep "},
		{"grouped twice", "input='r.h5'\noutput='o'\n[fixed]\nlayers=4\n[[axis]]\nname='net'\nvalues=[{layers=4}]\n", `axis "layers": set twice`},
		{"grouped unknown", "input='r.h5'\noutput='o'\n[[axis]]\nname='net'\nvalues=[{colour=4}]\n", `axis "colour": unknown axis`},
		{"grouped mixed", "input='r.h5'\noutput='o'\n[[axis]]\nname='net'\nvalues=[{layers=4}, 3]\n", "non-empty tables only"},
		{"labels", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nlabels=['a']\nvalues=[1, 2]\n", "1 labels for 2 values"},
		{"array value", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[[1, 2]]\n", "want strings, numbers"},
		{"repeated value", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1, 2, 1.0]\n", `axis "seed": value "1" at [0] and [2]: want distinct values`},
		{"repeated table", "input='r.h5'\noutput='o'\n[[axis]]\nname='net'\nvalues=[{layers=4, width=5}, {width=5, layers=4}]\n", `value "layers=4 width=5" at [0] and [1]`},
		{"name with a command", "name=\"x\\ntouch F\"\ninput='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n", `name "x\ntouch F": want 1 to 64 letters`},
		{"name with a slash", "name='../x'\ninput='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n", `name "../x"`},
		{"time with a command", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\ntime=\"01:00:00\\ntouch F\"\n", `[slurm] time "01:00:00\ntouch F": want minutes`},
		{"partition with a command", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\npartition='cpu; touch F'\n", `[slurm] partition "cpu; touch F": want Slurm partition names`},
		{"mem with a command", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\nmem='4G $(touch F)'\n", `[slurm] mem "4G $(touch F)": want a size`},
		{"batch with a newline", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\nbatch=\"eandarn-batch\\ntouch F\"\n", `[slurm] batch "eandarn-batch\ntouch F": contains the control character`},
		{"negative concurrency", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\nconcurrency=-5\n", "[slurm] concurrency -5: want ≥ 1"},
		{"zero concurrency", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\nconcurrency=0\n", "[slurm] concurrency 0: want ≥ 1"},
		{"negative cpus", "input='r.h5'\noutput='o'\n[[axis]]\nname='seed'\nvalues=[1]\n[slurm]\ncpus=-1\n", "[slurm] cpus -1: want 1 to"},
		{"1000^3 tasks", "input='r.h5'\noutput='o'\n" + strings.Repeat("[[axis]]\nname='x'\nvalues=["+strings.Repeat("1,", 999)+"1]\n", 1), "more than 100000 tasks"},
	}
	// Axes of 1000 values (x3: 10^9 tasks) and 4 of 65536 (2^64 tasks,
	// which a plain product wraps to 0).
	axes := func(k, n int) string {
		var b strings.Builder
		b.WriteString("input='r.h5'\noutput='o'\n")
		for _, name := range []string{"seed", "noise", "width", "layers"}[:k] {
			fmt.Fprintf(&b, "[[axis]]\nname='%s'\nvalues=[%s0]\n", name, strings.Repeat("0,", n-1))
		}
		return b.String()
	}
	tests[len(tests)-1] = struct{ name, body, want string }{"1000^3 tasks", axes(3, 1000), "more than 100000 tasks (axes of 1000 x 1000 x 1000 values)"}
	tests = append(tests, struct{ name, body, want string }{"65536^4 tasks", axes(4, 65536), "more than 100000 tasks (axes of 65536 x 65536 x 65536 x 65536 values)"})
	for _, tc := range tests {
		_, err := Load(writeSpec(t, tc.body), known)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if _, ok := err.(*SpecError); !ok {
			t.Errorf("%s: error %T, want *SpecError", tc.name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q, want one line containing %q", tc.name, msg, tc.want)
		}
	}
}

func TestTaskOutOfRange(t *testing.T) {
	s, err := Load(writeSpec(t, goodSpec), known)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{-1, 12, 1000} {
		if _, err := s.Task(i); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Task(%d): error %v, want out of range", i, err)
		}
	}
}

// testPlan is a Plan with fixed answers: the binary, eandarn as the method
// that can use a GPU, and a memory estimate of 100 MiB plus 10 per task
// index.
func testPlan(over map[string]Setting) Plan {
	return Plan{
		Overrides:  over,
		Self:       "/opt/eandarn/bin/eandarn-batch",
		GPUCapable: func(t Task) bool { return slices.Contains(t.Params, Param{"method", "eandarn"}) },
		Mem: func(t Task) (Estimate, bool) {
			return Estimate{MiB: 100 + 10*t.Index, Why: fmt.Sprintf("task %d", t.Index)}, true
		},
	}
}

// loadJobs loads the spec at path and plans its jobs.
func loadJobs(t *testing.T, path string, plan Plan) []*Job {
	t.Helper()
	s, err := Load(path, known)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Jobs(plan)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// render writes the scripts of the spec at path under plan, with the
// spec's folder written as SPECDIR.
func render(t *testing.T, path string, plan Plan) []string {
	t.Helper()
	var out []string
	for _, j := range loadJobs(t, path, plan) {
		var b bytes.Buffer
		if err := j.Write(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.ReplaceAll(b.String(), filepath.Dir(path), "SPECDIR"))
	}
	return out
}

// golden compares got with testdata/slurm/name (-update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "slurm", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./slurm -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("sbatch script differs from %s (go test ./slurm -update regenerates):\n%s", path, got)
	}
}

// TestSbatchGolden: a spec without a [slurm] table asks for no partition,
// time or CPU count, the largest memory estimate of its tasks, runs the
// generating binary by its absolute path and checks it first.
func TestSbatchGolden(t *testing.T) {
	p := filepath.Join(t.TempDir(), "demo.toml")
	if err := os.WriteFile(p, []byte(goodSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	scripts := render(t, p, testPlan(nil))
	if len(scripts) != 1 {
		t.Fatalf("%d scripts, want 1", len(scripts))
	}
	got := scripts[0]
	golden(t, "demo.sbatch", got)
	for _, w := range []string{"--array=0-11%8", "--signal=B:TERM@120", "--requeue", "%A_%a.log", "--mem=210M",
		"batch='/opt/eandarn/bin/eandarn-batch'", `command -v -- "$batch"`, "exit 2; }"} {
		if !strings.Contains(got, w) {
			t.Errorf("sbatch script lacks %q", w)
		}
	}
	for _, w := range []string{"--partition", "--time", "--cpus-per-task", "--gres"} {
		if strings.Contains(got, "#SBATCH "+w) {
			t.Errorf("sbatch script asks for %s, which nothing gave", w)
		}
	}
}

// TestSpecFiles (issue 12 defect 11): the spec is read only from a regular
// file of at most MaxSpecBytes; a device, a FIFO (without waiting for a
// writer) or a folder is refused before any read. A spec of exactly
// MaxTasks tasks loads.
func TestSpecFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, append([]byte(goodSpec), bytes.Repeat([]byte("#"), MaxSpecBytes)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "want a TOML spec, a regular file of at most 1 MiB: a character device, not a regular file"},
		{fifo, "a named pipe (FIFO), not a regular file"},
		{dir, "a folder, not a regular file"},
		{big, "more than the 1 MiB"},
		{filepath.Join(dir, "missing.toml"), "no such file"},
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(tc.path, known); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want %q", tc.path, err, tc.want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: Load still reading after 20 s", tc.path)
		}
	}
	var b strings.Builder
	b.WriteString("input='r.h5'\noutput='o'\n")
	for _, name := range []string{"seed", "noise"} {
		fmt.Fprintf(&b, "[[axis]]\nname='%s'\nvalues=[%s]\n", name, seq(316))
	}
	s, err := Load(writeSpec(t, b.String()), known)
	if err != nil || s.Len() != 316*316 {
		t.Fatalf("316 x 316 tasks: %v", err)
	}
	b.Reset()
	b.WriteString("input='r.h5'\noutput='o'\n")
	for _, a := range []struct {
		name string
		n    int
	}{{"seed", 100}, {"noise", MaxTasks / 100}} {
		fmt.Fprintf(&b, "[[axis]]\nname='%s'\nvalues=[%s]\n", a.name, seq(a.n))
	}
	if s, err := Load(writeSpec(t, b.String()), known); err != nil || s.Len() != MaxTasks {
		t.Fatalf("MaxTasks tasks: %v", err)
	}
}

// seq returns "0,1,…,n−1": an axis of n distinct values.
func seq(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = strconv.Itoa(i)
	}
	return strings.Join(v, ",")
}
