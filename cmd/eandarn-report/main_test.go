package main

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/resultfile"
)

// call runs the program in-process and returns the exit status, stdout and
// stderr.
func call(args ...string) (int, string, string) { return clitest.Call(run, args...) }

// fakeRun describes one synthetic result file.
type fakeRun struct {
	method     string
	noise      float64
	seed       uint64
	re, cc     float64 // NaN: no truth, no metrics group
	mse, solve float64
	values     map[string]float64
	pinn       map[string]string // PINN flags given on the command line
}

// writeFake writes r as dir/name with the layout of cmd/eandarn-batch's
// writeResult (result.go): reconstruction, metrics, values, series, timing,
// and the root attributes with config = {"batch": every flag, "method":
// the method's configuration}. The batch object has the JSON names of
// eandarn-batch's config struct.
func writeFake(t *testing.T, dir, name string, r fakeRun) string {
	t.Helper()
	out := filepath.Join(dir, name)
	f := resultfile.New()
	n, T := 3, 4
	f.Matrices["reconstruction/u"] = mat.NewDense(n, T, nil)
	f.Vectors["reconstruction/time"] = []float64{0, 0.1, 0.2, 0.3}
	if !math.IsNaN(r.re) {
		f.Scalars["metrics/re"] = r.re
		f.Scalars["metrics/cc"] = r.cc
		f.Scalars["metrics/mse"] = r.mse
		f.Vectors["metrics/frame_re"] = make([]float64, T)
		f.Vectors["metrics/frame_cc"] = make([]float64, T)
	}
	for k, v := range r.values {
		f.Scalars["values/"+k] = v
	}
	f.Vectors["series/loss_data"] = []float64{1, 0.5}
	f.Scalars["timing/load_s"] = 0.01
	f.Scalars["timing/solve_s"] = r.solve
	f.Scalars["timing/metrics_s"] = 0.001
	f.Scalars["timing/total_s"] = r.solve + 0.02
	batch := map[string]any{
		"in": "run.h5", "out": out, "method": r.method, "noise": r.noise, "seed": r.seed,
		"lambda": "auto", "select": "gcv", "lambda_s": 0, "lambda_t": 0, "window": 0,
		"device": "cpu", "log_level": "info",
	}
	method := map[string]any{"method": r.method, "select": "gcv", "sigma": r.noise}
	if r.pinn != nil {
		batch["pinn"] = r.pinn
		batch["resume"] = true
		method = map[string]any{"Name": r.method, "Seed": r.seed, "Width": 15, "Checkpoint": out + ".ckpt"}
	}
	cfg, err := json.Marshal(map[string]any{"batch": batch, "method": method})
	if err != nil {
		t.Fatal(err)
	}
	f.Attrs["method"] = r.method
	f.Attrs["version"] = "test"
	f.Attrs["seed"] = strconv.FormatUint(r.seed, 10)
	f.Attrs["noise"] = strconv.FormatFloat(r.noise, 'g', -1, 64)
	f.Attrs["input"] = "run.h5"
	f.Attrs["units"] = "normalized"
	f.Attrs["created"] = "2026-11-26T00:00:00Z"
	f.Attrs["config"] = string(cfg)
	f.Attrs["input_attrs"] = `{"units":"normalized"}`
	if err := resultfile.Save(out, f); err != nil {
		t.Fatal(err)
	}
	return out
}

// sweepDir writes a folder like a sweep's output: tikhonov2 at σ = 0.01
// (3 seeds) and 0.1 (1 seed), eandarn at σ = 0.01 (4 seeds, bad_init
// recorded), plus what must be ignored: the temporary of an atomic write,
// another temporary, a hidden file, a text file, and a subfolder with an
// .h5 file.
//
// Hand-computed groups:
//
//	eandarn 0.01:   RE 0.04, 0.05, 0.06, 0.05 -> mean 0.05, std sqrt(0.0002/3) = 0.008165
//	                bad_init 1, 0, 0, 1 -> 2/4; ratio0 50, 0.01, 5, NaN -> > 1: 3/4, > 10: 2/4
//	                seconds 100, 200, 300, 400 -> 250
//	tikhonov2 0.01: RE 0.1, 0.2, 0.3 -> 0.2 ± 0.1; CC 0.9, 0.95, 1 -> 0.95 ± 0.05;
//	                MSE 1e-3, 2e-3, 3e-3 -> 0.0020 ± 0.0010; seconds 1, 2, 3 -> 2
//	tikhonov2 0.1:  RE 0.25 (n = 1: no std)
func sweepDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tik := []struct{ re, cc, mse float64 }{{0.1, 0.9, 1e-3}, {0.2, 0.95, 2e-3}, {0.3, 1, 3e-3}}
	for i, x := range tik {
		writeFake(t, dir, "task-0000"+strconv.Itoa(i)+".h5", fakeRun{
			method: "tikhonov2", noise: 0.01, seed: uint64(i + 1), re: x.re, cc: x.cc, mse: x.mse,
			solve: float64(i + 1), values: map[string]float64{"lambda": float64(i + 1)},
		})
	}
	writeFake(t, dir, "task-00003.h5", fakeRun{method: "tikhonov2", noise: 0.1, seed: 1, re: 0.25, cc: 0.8, mse: 5e-3, solve: 1,
		values: map[string]float64{"lambda": 10}})
	pinn := []struct{ re, bad, ratio0 float64 }{{0.04, 1, 50}, {0.05, 0, 0.01}, {0.06, 0, 5}, {0.05, 1, math.NaN()}}
	for i, x := range pinn {
		writeFake(t, dir, "task-0001"+strconv.Itoa(i)+".h5", fakeRun{
			method: "eandarn", noise: 0.01, seed: uint64(i + 1), re: x.re, cc: 0.99, mse: 1e-4,
			solve:  float64(100 * (i + 1)),
			values: map[string]float64{"bad_init": x.bad, "ratio0": x.ratio0, "lambda": 0.1},
			pinn:   map[string]string{"checkpoint": "ckpt/task-0001" + strconv.Itoa(i) + ".ckpt", "epochs": "80"},
		})
	}
	for _, name := range []string{".task-00099.h5.tmp-123", "task-00098.h5.tmp", "._task-00001.h5", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not a result"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs", "x.h5"), []byte("not a result"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mdRows parses a Markdown table into rows of trimmed cells, header first,
// without the alignment row.
func mdRows(t *testing.T, md string) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[0], "-") {
			continue
		}
		rows = append(rows, cells)
	}
	return rows
}

// TestTableMarkdown checks the default grouping (the keys that vary,
// without seed and the per-task paths) and the hand-computed cells.
func TestTableMarkdown(t *testing.T) {
	dir := sweepDir(t)
	code, out, errs := call("-in", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(out, "{") {
		t.Errorf("stdout holds JSON:\n%s", out)
	}
	want := [][]string{
		// epochs is given to eandarn only, so it varies (missing for tikhonov2).
		{"method", "noise", "epochs", "n", "RE", "CC", "MSE", "seconds", "bad init"},
		{"eandarn", "0.01", "80", "4", "0.0500 ± 0.0082", "0.99 ± 0", "0.0001 ± 0", "250", "2/4 (50.0%)"},
		{"tikhonov2", "0.01", "–", "3", "0.20 ± 0.10", "0.950 ± 0.050", "0.0020 ± 0.0010", "2", "–"},
		{"tikhonov2", "0.1", "–", "1", "0.25 ± –", "0.8 ± –", "0.005 ± –", "1", "–"},
	}
	got := mdRows(t, out)
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if strings.Join(got[i], " | ") != strings.Join(want[i], " | ") {
			t.Errorf("row %d:\n got  %q\n want %q", i, got[i], want[i])
		}
	}
	if !strings.HasPrefix(out, "8 result files in "+dir+"; grouped by method, noise, epochs;") {
		t.Errorf("caption: %q", strings.SplitN(out, "\n", 2)[0])
	}
}

// TestTableOptions covers -by, -values and -bad-init-ratio.
func TestTableOptions(t *testing.T) {
	dir := sweepDir(t)
	tests := []struct {
		name string
		args []string
		want [][]string // rows after the header, first cells only as many as given
	}{
		{"by method", []string{"-by", "method"}, [][]string{
			{"eandarn", "4", "0.0500 ± 0.0082"},
			// 0.1, 0.2, 0.3, 0.25: mean 0.2125, std sqrt(0.021875/3) = 0.08539
			{"tikhonov2", "4", "0.213 ± 0.085"},
		}},
		{"by noise, seed", []string{"-by", "noise,seed"}, [][]string{
			{"0.01", "1", "2"}, {"0.01", "2", "2"}, {"0.01", "3", "2"}, {"0.01", "4", "1"}, {"0.1", "1", "1"},
		}},
		{"values lambda", []string{"-by", "method", "-values", "lambda"}, [][]string{
			// λ column after MSE: 0.1 x 4 (std 0); 1, 2, 3, 10: mean 4, std sqrt(50/3) = 4.08.
			// CC 0.9, 0.95, 1, 0.8: 0.9125 ± 0.0854; MSE (1, 2, 3, 5)e-3: 0.00275 ± 0.00171
			// (0.00275 is stored just below the tie, so it rounds to 0.0027).
			{"eandarn", "4", "0.0500 ± 0.0082", "0.99 ± 0", "0.0001 ± 0", "0.1 ± 0", "250", "2/4 (50.0%)"},
			{"tikhonov2", "4", "0.213 ± 0.085", "0.913 ± 0.085", "0.0027 ± 0.0017", "4.0 ± 4.1", "1.75", "–"},
		}},
		{"ratio 1", []string{"-by", "method", "-bad-init-ratio", "1"}, [][]string{
			{"eandarn", "4", "0.0500 ± 0.0082", "0.99 ± 0", "0.0001 ± 0", "250", "3/4 (75.0%)"},
		}},
		{"method config key", []string{"-by", "method.Width"}, [][]string{
			{"–", "4"}, {"15", "4"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := call(append([]string{"-in", dir}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			rows := mdRows(t, out)[1:]
			if len(rows) < len(tc.want) {
				t.Fatalf("got %d rows, want ≥ %d:\n%s", len(rows), len(tc.want), out)
			}
			for i, w := range tc.want {
				if got := rows[i][:len(w)]; strings.Join(got, "|") != strings.Join(w, "|") {
					t.Errorf("row %d:\n got  %q\n want %q\n%s", i, got, w, out)
				}
			}
		})
	}
	_, out, _ := call("-in", dir, "-by", "method", "-bad-init-ratio", "1")
	if !strings.Contains(out, "| bad init (ratio0 > 1) |") {
		t.Errorf("header does not name the threshold:\n%s", out)
	}
}

// TestTableCSV checks the CSV columns and numbers at full precision, and
// that -out writes the file atomically with nothing on stdout.
func TestTableCSV(t *testing.T) {
	dir := sweepDir(t)
	outFile := filepath.Join(t.TempDir(), "table.csv")
	code, stdout, errs := call("-in", dir, "-format", "csv", "-by", "method,noise", "-out", outFile)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, errs)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := "method,noise,n,re_mean,re_std,re_n,cc_mean,cc_std,cc_n,mse_mean,mse_std,mse_n,seconds_mean,bad_init_count,bad_init_n,bad_init_rate"
	if lines[0] != head {
		t.Fatalf("header\n got  %s\n want %s", lines[0], head)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		rows[f[0]+" "+f[1]] = f
	}
	num := func(key string, col int) float64 {
		x, err := strconv.ParseFloat(rows[key][col], 64)
		if err != nil {
			t.Fatalf("%s column %d: %v", key, col, err)
		}
		return x
	}
	for _, c := range []struct {
		key  string
		col  int
		want float64
	}{
		{"tikhonov2 0.01", 3, 0.2}, {"tikhonov2 0.01", 4, 0.1}, {"tikhonov2 0.01", 6, 0.95}, {"tikhonov2 0.01", 7, 0.05},
		{"tikhonov2 0.01", 9, 0.002}, {"tikhonov2 0.01", 10, 0.001}, {"tikhonov2 0.01", 12, 2},
		{"eandarn 0.01", 3, 0.05}, {"eandarn 0.01", 4, math.Sqrt(0.0002 / 3)}, {"eandarn 0.01", 12, 250},
		{"eandarn 0.01", 13, 2}, {"eandarn 0.01", 14, 4}, {"eandarn 0.01", 15, 0.5},
	} {
		if got := num(c.key, c.col); math.Abs(got-c.want) > 1e-12*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s column %d: got %v, want %v", c.key, c.col, got, c.want)
		}
	}
	// n = 1: the std is an empty field; no bad_init recorded: empty count, n 0.
	if r := rows["tikhonov2 0.1"]; r[4] != "" || r[13] != "" || r[14] != "0" || r[15] != "" {
		t.Errorf("tikhonov2 0.1: %q", r)
	}
	entries, _ := os.ReadDir(filepath.Dir(outFile))
	if len(entries) != 1 {
		t.Errorf("%d files beside the table, want only the table (no temporaries)", len(entries))
	}
}

// truncate cuts a file to half its size: a corrupt result file.
func truncate(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableFiles: a truncated file and an HDF5 file that is not a
// result are reported by name and counted; -strict makes them an error.
func TestUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	for i, re := range []float64{0.1, 0.3} {
		writeFake(t, dir, "ok"+strconv.Itoa(i)+".h5", fakeRun{method: "stre", noise: 0.01, seed: uint64(i), re: re, cc: 0.9, mse: 1e-3, solve: 1})
	}
	bad := writeFake(t, dir, "bad.h5", fakeRun{method: "stre", noise: 0.01, seed: 9, re: 9, cc: 0, mse: 1, solve: 1})
	truncate(t, bad)
	foreign := resultfile.New()
	foreign.Scalars["metrics/re"] = 7
	if err := resultfile.Save(filepath.Join(dir, "foreign.h5"), foreign); err != nil {
		t.Fatal(err)
	}

	code, out, errs := call("-in", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"bad.h5", "foreign.h5", "no method attribute", "skipped=2"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, "4 result files in "+dir+" (2 unreadable, skipped)") {
		t.Errorf("caption does not count the skipped files:\n%s", out)
	}
	rows := mdRows(t, out)
	// Nothing varies among the readable runs but the seed: one group.
	if len(rows) != 2 || rows[1][0] != "2" || rows[1][1] != "0.20 ± 0.14" {
		t.Errorf("rows %q, want one group of n = 2 with RE 0.20 ± 0.14", rows)
	}

	code, out, errs = call("-in", dir, "-strict")
	if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "bad.h5") {
		t.Errorf("-strict: exit %d, stdout %q, stderr %q; want 2, nothing, one line naming bad.h5", code, out, errs)
	}
}

// TestBadInput: every refusal is exit 2 with one line on stderr, nothing on
// stdout and no file written.
func TestBadInput(t *testing.T) {
	dir := sweepDir(t)
	empty := t.TempDir()
	allBad := t.TempDir()
	if err := os.WriteFile(filepath.Join(allBad, "x.h5"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "notes.txt")
	unrelated := t.TempDir()
	outFile := filepath.Join(t.TempDir(), "t.md")
	tests := []struct {
		name  string
		args  []string
		want  string // in the last line
		lines int    // lines on stderr when not 1: the skipped files' warnings come first
	}{
		{"no in", nil, "no input folder", 0},
		{"missing folder", []string{"-in", filepath.Join(dir, "nope")}, "no such folder", 0},
		{"in is a file", []string{"-in", file}, "not a folder", 0},
		{"empty folder", []string{"-in", empty}, "no result files", 0},
		{"nothing readable", []string{"-in", allBad}, "none of the 1 result files could be read", 2},
		{"format", []string{"-in", dir, "-format", "xml"}, `-format "xml": want md or csv`, 0},
		{"unknown key", []string{"-in", dir, "-by", "method,colour"}, "-by colour: no result file has this key", 0},
		{"ratio", []string{"-in", dir, "-bad-init-ratio", "-1"}, "-bad-init-ratio -1", 0},
		{"out folder missing", []string{"-in", dir, "-out", filepath.Join(dir, "no", "t.md")}, "does not exist", 0},
		{"positional", []string{"-in", dir, "extra"}, `unexpected argument "extra"`, 0},
		{"unknown flag", []string{"-in", dir, "-colour", "red"}, "flag provided but not defined: -colour", 0},
		{"vtk flag in table mode", []string{"-in", dir, "-result", "r.h5", "-out", outFile}, "-result: not a table-mode flag", 0},
		{"table flag in vtk mode", []string{"-vtk", filepath.Join(unrelated, "s"), "-result", "r.h5", "-in", dir}, "-in: not a vtk-mode flag", 0},
		{"vtk without result", []string{"-vtk", filepath.Join(unrelated, "s")}, "no result file (-result", 0},
		{"frames syntax", []string{"-vtk", filepath.Join(unrelated, "s"), "-result", "r.h5", "-frames", "0:10:x"}, `"x" is not a frame index`, 0},
		{"frames step 0", []string{"-vtk", filepath.Join(unrelated, "s"), "-result", "r.h5", "-frames", "0:10:0"}, "step 0", 0},
		{"vtk parent missing", []string{"-vtk", filepath.Join(unrelated, "a", "b"), "-result", "r.h5"}, "does not exist", 0},
		{"vtk unrelated folder", []string{"-vtk", unrelated, "-result", "r.h5"}, "not replacing it", 0},
		{"result missing", []string{"-vtk", filepath.Join(unrelated, "s"), "-result", filepath.Join(dir, "nope.h5")}, "-result: open", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := call(tc.args...)
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			if code != 2 || out != "" || len(lines) != max(tc.lines, 1) || !strings.Contains(lines[len(lines)-1], tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %d line(s), the last containing %q", code, out, errs, max(tc.lines, 1), tc.want)
			}
			if _, err := os.Stat(outFile); err == nil {
				t.Error("an output file was written")
			}
			if entries, _ := os.ReadDir(unrelated); len(entries) != 0 {
				t.Error("something was written into the unrelated folder")
			}
		})
	}
}

// TestHelp: -h lists every flag with its default on stdout, exit 0.
func TestHelp(t *testing.T) {
	code, out, errs := call("-h")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, name := range []string{"in", "by", "format", "out", "values", "strict", "bad-init-ratio", "html", "png", "times", "nodes", "max-runs", "vtk", "result", "run", "frames", "log-level"} {
		if !strings.Contains(out, "\n  -"+name+" ") {
			t.Errorf("-h does not list -%s", name)
		}
	}
	for _, def := range []string{"-format string (default md)", "-frames string (default ::10)", "-strict (default false)", "-bad-init-ratio float (default 0)"} {
		if !strings.Contains(out, def) {
			t.Errorf("-h lacks %q", def)
		}
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		xs        []float64
		mean, std float64 // NaN: undefined
	}{
		{nil, math.NaN(), math.NaN()},
		{[]float64{0.3}, 0.3, math.NaN()},
		{[]float64{0.1, 0.2, 0.3}, 0.2, 0.1},
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, 5, math.Sqrt(32.0 / 7)},
		// Large offset: the two-pass form keeps the spread exact.
		{[]float64{1e9 + 1, 1e9 + 2, 1e9 + 3}, 1e9 + 2, 1},
	}
	same := func(a, b float64) bool {
		return math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
	}
	for _, tc := range tests {
		s := summarize(tc.xs)
		if s.n != len(tc.xs) || !same(s.mean, tc.mean) || !same(s.std, tc.std) {
			t.Errorf("summarize(%v) = %+v, want mean %v std %v", tc.xs, s, tc.mean, tc.std)
		}
	}
}

func TestMeanStd(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		s    stat
		n    int
		want string
	}{
		{stat{0, nan, nan}, 3, "–"},
		{stat{1, 0.181, nan}, 1, "0.181 ± –"},
		{stat{3, 0.2, 0.1}, 3, "0.20 ± 0.10"},
		{stat{3, 0.18123, 0.0021}, 3, "0.1812 ± 0.0021"},
		{stat{3, 0.18123, 0.0021}, 5, "0.1812 ± 0.0021 (3 of 5)"},
		{stat{2, 1234.5, 56}, 2, "1234 ± 56"},
		{stat{2, 0.5, 0}, 2, "0.5 ± 0"},
		{stat{2, 1.234e-6, 2.1e-7}, 2, "1.23e-06 ± 2.1e-07"},
	}
	for _, tc := range tests {
		if got := meanStd(tc.s, tc.n); got != tc.want {
			t.Errorf("meanStd(%+v, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestFrames(t *testing.T) {
	tests := []struct {
		spec string
		T    int
		want string // frames joined by ",", or "error: ..." part
	}{
		{"::10", 25, "0,10,20"},
		{"0:661:10", 25, "0,10,20"}, // a range stops at the last frame
		{"3", 5, "3"},
		{"4,1,1:3", 5, "1,2,4"},
		{":", 3, "0,1,2"},
		{"2:", 4, "2,3"},
		{"7", 5, "error: frame 7 out of range"},
		{"10:20", 5, "error: selects none"},
		{"a", 5, "error: not a frame index"},
		{"-1", 5, "error: not a frame index"},
		{"1:2:3:4", 5, "error: want indices"},
		{"1,,2", 5, "error: want indices"},
	}
	for _, tc := range tests {
		items, err := parseFrames(tc.spec)
		var frames []int
		if err == nil {
			frames, err = expandFrames(tc.spec, items, tc.T)
		}
		var got string
		if err != nil {
			got = "error: " + err.Error()
		} else {
			s := make([]string, len(frames))
			for i, k := range frames {
				s[i] = strconv.Itoa(k)
			}
			got = strings.Join(s, ",")
		}
		if !strings.HasPrefix(tc.want, "error: ") && got != tc.want ||
			strings.HasPrefix(tc.want, "error: ") && !strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
			t.Errorf("-frames %q over %d frames: got %q, want %q", tc.spec, tc.T, got, tc.want)
		}
	}
}

// TestTableII: a Table II sweep (NN1–NN6 as layers/blocks flags, 3 seeds
// each, bad_init recorded) groups by layers then blocks, in NN order, with
// the bad-initialization count and rate of each network.
func TestTableII(t *testing.T) {
	dir := t.TempDir()
	nets := []struct {
		layers, blocks string
		bad            int // of 3 seeds
	}{{"4", "0", 3}, {"4", "1", 1}, {"7", "0", 2}, {"7", "2", 0}, {"10", "0", 3}, {"10", "3", 1}}
	for i, nn := range nets {
		for seed := range 3 {
			bad := 0.0
			if seed < nn.bad {
				bad = 1
			}
			writeFake(t, dir, "task-"+strconv.Itoa(10*i+seed)+".h5", fakeRun{
				method: "eandarn", noise: 0.01, seed: uint64(seed + 1), re: 0.9, cc: 0.1, mse: 0.3, solve: 0.5,
				values: map[string]float64{"bad_init": bad, "ratio0": 1e3 * bad},
				pinn:   map[string]string{"layers": nn.layers, "blocks": nn.blocks, "width": "15", "epochs": "0", "eps-delta": "0"},
			})
		}
	}
	code, out, errs := call("-in", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows := mdRows(t, out)
	if h := strings.Join(rows[0][:3], ","); h != "layers,blocks,n" {
		t.Fatalf("header %q, want layers, blocks, n first:\n%s", rows[0], out)
	}
	want := []string{"4 0 3/3 (100.0%)", "4 1 1/3 (33.3%)", "7 0 2/3 (66.7%)", "7 2 0/3 (0.0%)", "10 0 3/3 (100.0%)", "10 3 1/3 (33.3%)"}
	for i, w := range want {
		r := rows[i+1]
		if got := r[0] + " " + r[1] + " " + r[len(r)-1]; got != w {
			t.Errorf("NN%d: got %q, want %q", i+1, got, w)
		}
	}
}

func TestCompareValues(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"4", "10", -1},      // numbers by value, not as text
		{"0.05", "0.1", -1},  // noise levels
		{"1e-3", "0.01", -1}, // any float syntax
		{"", "0", -1},        // missing first
		{"10", "NN1", -1},    // numbers before text
		{"stre", "eandarn", 1},
		{"0.1", "0.1", 0},
	}
	for _, tc := range tests {
		if got := compareValues(tc.a, tc.b); got != tc.want {
			t.Errorf("compareValues(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := compareValues(tc.b, tc.a); got != -tc.want {
			t.Errorf("compareValues(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden tables in testdata/report")

// TestGoldenTables compares the whole Markdown and CSV output for the
// sweepDir folder (its path replaced by DIR) with testdata/report
// (go test ./cmd/eandarn-report -update rewrites them).
func TestGoldenTables(t *testing.T) {
	dir := sweepDir(t)
	for _, format := range []string{"md", "csv"} {
		code, out, errs := call("-in", dir, "-format", format, "-values", "lambda")
		if code != 0 {
			t.Fatalf("-format %s: exit %d: %s", format, code, errs)
		}
		out = strings.ReplaceAll(out, dir, "DIR")
		golden := filepath.Join("..", "..", "testdata", "report", "sweep."+format)
		if *update {
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (-update creates it)", err)
		}
		if out != string(want) {
			t.Errorf("-format %s differs from %s (-update rewrites it):\n%s", format, golden, out)
		}
	}
}

// TestOddResults: result files that are readable but odd never corrupt
// the table. A metric that is not finite (the RE of a run whose truth is
// all zeros is +Inf) is left out of the mean, which says how many runs it
// averages, instead of making the group's mean Inf or NaN; a key holding a
// newline (any attribute text may) stays on its row, escaped.
func TestOddResults(t *testing.T) {
	dir := t.TempDir()
	writeFake(t, dir, "a.h5", fakeRun{method: "tikhonov2", noise: 0.01, seed: 1, re: 0.2, cc: 0.9, mse: 1e-3, solve: 1})
	writeFake(t, dir, "b.h5", fakeRun{method: "tikhonov2", noise: 0.01, seed: 2, re: math.Inf(1), cc: math.NaN(), mse: 1e-3, solve: 1})
	writeFake(t, dir, "c.h5", fakeRun{method: "tikhonov2", noise: 0.01, seed: 3, re: 0.4, cc: 0.7, mse: 3e-3, solve: 1})
	writeFake(t, dir, "d.h5", fakeRun{method: "evil\nrow | x", noise: 0.01, seed: 1, re: 0.1, cc: 0.9, mse: 1e-3, solve: 1})
	code, out, errs := call("-in", dir, "-by", "method")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := [][]string{
		{"method", "n", "RE", "CC", "MSE", "seconds"},
		{`evil\nrow \| x`, "1", "0.1 ± –", "0.9 ± –", "0.001 ± –", "1"},
		{"tikhonov2", "3", "0.30 ± 0.14 (2 of 3)", "0.80 ± 0.14 (2 of 3)", "0.0017 ± 0.0012", "1"},
	}
	got := mdRows(t, out)
	if strings.Count(out, "\n") != 6 || len(got) != len(want) {
		t.Fatalf("got %d rows in %d lines, want %d rows in 6:\n%s", len(got), strings.Count(out, "\n"), len(want), out)
	}
	for i := range want {
		if strings.Join(got[i], " | ") != strings.Join(want[i], " | ") {
			t.Errorf("row %d:\n got  %q\n want %q", i, got[i], want[i])
		}
	}
}
