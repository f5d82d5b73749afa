package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/eandarn/eandarn/io/vtk"
)

// batchBinary builds eandarn-batch once per test binary into a temporary
// folder (removed by TestMain) and returns its path.
func batchBinary(t *testing.T) string {
	t.Helper()
	batchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eandarn-report-test-")
		if err != nil {
			batchErr = err
			return
		}
		batchDir, batchBin = dir, filepath.Join(dir, "eandarn-batch")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if out, err := exec.Command(goBin, "build", "-o", batchBin, "github.com/eandarn/eandarn/cmd/eandarn-batch").CombinedOutput(); err != nil {
			batchErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if batchErr != nil {
		t.Fatal(batchErr)
	}
	return batchBin
}

var (
	batchOnce          sync.Once
	batchDir, batchBin string
	batchErr           error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if batchDir != "" {
		os.RemoveAll(batchDir)
	}
	os.Exit(code)
}

// groupKey is a method and a noise level, as the JSON lines print it.
type groupKey struct{ method, noise string }

// jsonREs collects the RE of every JSON line of eandarn-batch by method and
// noise level.
func jsonREs(t *testing.T, lines io.Reader) map[groupKey][]float64 {
	t.Helper()
	want := map[groupKey][]float64{}
	sc := bufio.NewScanner(lines)
	for sc.Scan() {
		var s struct {
			Method string  `json:"method"`
			Noise  float64 `json:"noise"`
			RE     float64 `json:"re"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		k := groupKey{s.Method, fmt.Sprint(s.Noise)}
		want[k] = append(want[k], s.RE)
	}
	return want
}

// checkGroup checks a table row's n and RE cells against the runs' REs:
// the count, and the mean to the digits the cell prints.
func checkGroup(t *testing.T, method, noise, nCell, reCell string, xs []float64) {
	t.Helper()
	if nCell != fmt.Sprint(len(xs)) {
		t.Errorf("%s σ %s: n = %s, want %d", method, noise, nCell, len(xs))
	}
	var mean float64
	for _, x := range xs {
		mean += x / float64(len(xs))
	}
	text := strings.Fields(reCell)[0]
	var got float64
	if _, err := fmt.Sscan(text, &got); err != nil {
		t.Fatalf("RE cell %q: %v", reCell, err)
	}
	// Half a unit of the last printed digit (of the mantissa in e notation).
	mant, exp, _ := strings.Cut(text, "e")
	digits := 0
	if i := strings.Index(mant, "."); i >= 0 {
		digits = len(mant) - i - 1
	}
	e, _ := strconv.Atoi(exp)
	if math.Abs(got-mean) > 0.51*math.Pow(10, float64(e-digits)) {
		t.Errorf("%s σ %s: RE %s, want the mean %v", method, noise, reCell, mean)
	}
}

// TestWithEandarnBatch runs the real eandarn-batch on io's tiny run file,
// as a sweep (tikhonov0 and tikhonov2 x σ 0.01, 0.1 x 3 seeds, with its
// logs/ folder beside the results) plus three EAND-ARN runs with no
// training (epochs 0: only the step-0 bad-initialization check, as the
// Table II sweep does), then checks the report against the JSON lines the
// batch printed: every group's n and its mean RE to the printed digits.
// It builds the binary, so it is skipped with -short.
func TestWithEandarnBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs eandarn-batch")
	}
	bin := batchBinary(t)
	dir := t.TempDir()
	runPath, err := filepath.Abs(tinyRun)
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "spec.toml")
	body := fmt.Sprintf(`name = "report-test"
input = %q
output = "res"
[[axis]]
name = "method"
values = ["tikhonov0", "tikhonov2"]
[[axis]]
name = "noise"
values = [0.01, 0.1]
[[axis]]
name = "seed"
values = [1, 2, 3]
`, runPath)
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var jsonLines bytes.Buffer
	batch := func(args ...string) {
		t.Helper()
		var errb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &jsonLines, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("eandarn-batch %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
	}
	batch("-sweep", spec, "-task", "all", "-j", "2", "-log-level", "warn")
	res := filepath.Join(dir, "res")
	for seed := 1; seed <= 3; seed++ {
		batch("-in", runPath, "-out", filepath.Join(res, fmt.Sprintf("eandarn-%d.h5", seed)), "-method", "eandarn",
			"-epochs", "0", "-seed", fmt.Sprint(seed), "-log-level", "warn")
	}

	// Expected groups from the JSON lines: RE values by method and noise.
	want := jsonREs(t, &jsonLines)
	if len(want) != 5 {
		t.Fatalf("batch printed %d groups, want 5", len(want))
	}

	code, out, errs := call("-in", res)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Logf("report:\n%s", out)
	rows := mdRows(t, out)
	// The eandarn runs give -epochs, so "epochs" varies too.
	if h := strings.Join(rows[0], ","); h != "method,noise,epochs,n,RE,CC,MSE,seconds,bad init" {
		t.Fatalf("header %q\n%s", h, out)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 5 groups:\n%s", len(rows)-1, out)
	}
	for _, r := range rows[1:] {
		checkGroup(t, r[0], r[1], r[3], r[4], want[groupKey{r[0], r[1]}])
		if (r[0] == "eandarn") != (r[8] != "–") {
			t.Errorf("%s: bad init cell %q", r[0], r[8])
		}
	}

	// A heart-map export of one of the sweep's results: the run file is
	// found through the result's input attribute.
	maps := filepath.Join(dir, "maps")
	if code, _, errs := call("-vtk", maps, "-result", filepath.Join(res, "task-00000.h5"), "-frames", "0:12:4"); code != 0 {
		t.Fatalf("-vtk: exit %d: %s", code, errs)
	}
	for _, k := range []int{0, 4, 8} {
		if _, arrays := readFrame(t, filepath.Join(maps, vtk.FrameName(k))); len(arrays["u_abs_error"]) != 42 {
			t.Errorf("frame %d: u_abs_error has %d values, want 42", k, len(arrays["u_abs_error"]))
		}
	}
}
