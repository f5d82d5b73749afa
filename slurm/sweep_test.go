package slurm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, sub := range []string{"logs", "checkpoints"} {
		if st, err := os.Stat(filepath.Join(filepath.Dir(p), "res", sub)); err != nil || !st.IsDir() {
			t.Errorf("Load did not create res/%s: %v", sub, err)
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
		{"output not writable", "input='r.h5'\noutput='" + filepath.Join(blocker, "sub") + "'\n[[axis]]\nname='seed'\nvalues=[1]\n", "output folder"},
	}
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

func TestSbatchGolden(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "demo.toml")
	if err := os.WriteFile(p, []byte(goodSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(p, known)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.WriteSbatch(&b, p); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(b.String(), dir, "SPECDIR")
	golden := filepath.Join("..", "testdata", "slurm", "demo.sbatch")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./slurm -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("sbatch script differs from %s (go test ./slurm -update regenerates):\n%s", golden, got)
	}
	for _, w := range []string{"--array=0-11%8", "--signal=B:TERM@120", "--requeue", "%A_%a.log", "--partition=cpu"} {
		if !strings.Contains(got, w) {
			t.Errorf("sbatch script lacks %q", w)
		}
	}
}
