package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
)

// progressLine is a progress log line of the training: its step, total,
// rate and ETA.
var progressLine = regexp.MustCompile(`msg=progress stage="training eandarn" step=(\d+) of=(\d+) percent=\S+ per_second=(\S+) eta=(\S+) epoch=\d+ loss_data=\S+ loss_ep=\S+ lr=\S+ re_monitor=\S+`)

// TestProgressLines trains EAND-ARN on io's tiny run file with stderr a
// buffer (not a terminal, as in a Slurm log) and -progress 50ms: stderr
// gets progress lines at that period with the step, epoch, both loss
// terms, the learning rate, the RE monitor (the file has truth) and an
// ETA, the remaining steps at the rate measured so far, which falls as
// training goes on (at a steady rate it falls at every line:
// progressview's TestLogLines; here the machine may be loaded, so the test
// asks for the fall overall and for each ETA to match its remaining steps
// and rate); then one line when training is done. stdout holds only the
// JSON summary, and -log-level warn silences the progress.
func TestProgressLines(t *testing.T) {
	batch := func(args ...string) (int, string, string) {
		return clitest.Call(run, append([]string{"-in", "../../testdata/io/tiny_run.h5", "-out", filepath.Join(t.TempDir(), "r.h5"),
			"-method", "eandarn", "-epochs", "500", "-monitor-every", "5"}, args...)...)
	}
	code, stdout, stderr := batch("-progress", "50ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum map[string]any
	if strings.Count(stdout, "\n") != 1 || json.Unmarshal([]byte(stdout), &sum) != nil || sum["method"] != "eandarn" {
		t.Fatalf("stdout is not exactly the JSON line: %q", stdout)
	}
	var etas []time.Duration
	var steps []int
	for _, line := range strings.Split(stderr, "\n") {
		m := progressLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		step, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		rate, _ := strconv.ParseFloat(m[3], 64)
		eta, err := time.ParseDuration(m[4])
		if err != nil || total != 1000 || !(rate > 0) {
			t.Fatalf("line %q: total %d, rate %g, eta %v", line, total, rate, err)
		}
		// The ETA is the remaining steps at the printed rate (3 significant
		// digits), rounded to the millisecond (to 0.1 s from a second on).
		if want := time.Duration(float64(total-step) / rate * float64(time.Second)); math.Abs(float64(eta-want)) > 0.01*float64(want)+float64(50*time.Millisecond) {
			t.Errorf("line %q: ETA %v, want %v for %d steps left at %g/s", line, eta, want, total-step, rate)
		}
		if len(steps) > 0 && step <= steps[len(steps)-1] {
			t.Errorf("step %d after %d", step, steps[len(steps)-1])
		}
		etas, steps = append(etas, eta), append(steps, step)
	}
	t.Logf("%d progress lines, steps %v, ETAs %v", len(etas), steps, etas)
	if len(etas) < 3 {
		t.Fatalf("%d progress lines, want several at a 50 ms period:\n%s", len(etas), stderr)
	}
	if etas[len(etas)-1] >= etas[0] {
		t.Errorf("ETA does not fall: %v", etas)
	}
	if !strings.Contains(stderr, `msg="progress: done" stage="training eandarn" step=1000 of=1000`) {
		t.Errorf("no completion line:\n%s", stderr)
	}

	code, stdout, stderr = batch("-progress", "50ms", "-log-level", "warn")
	if code != 0 || strings.Count(stdout, "\n") != 1 || stderr != "" {
		t.Errorf("-log-level warn: exit %d, stdout %q, stderr %q; want the JSON line and a silent stderr", code, stdout, stderr)
	}
}

// TestEnsembleProgress: each member of -ensemble K is a stage of its own in
// the progress lines, so the members after the first are reported too
// (they shared member 0's stage name and step count, and the view, having
// shown that stage done, stayed silent for the rest of the ensemble).
func TestEnsembleProgress(t *testing.T) {
	code, _, stderr := clitest.Call(run, "-in", "../../testdata/io/tiny_run.h5", "-out", filepath.Join(t.TempDir(), "r.h5"),
		"-method", "eandarn", "-epochs", "4", "-ensemble", "2", "-progress", "1ns")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for k := range 2 {
		stage := `stage="training eandarn member ` + strconv.Itoa(k) + ` of 2"`
		if !strings.Contains(stderr, "msg=progress "+stage) || !strings.Contains(stderr, `msg="progress: done" `+stage) {
			t.Errorf("member %d: no progress or completion line for %s:\n%s", k, stage, stderr)
		}
	}
}

// TestSweepProgress: -task all reports the tasks that had to run (a task
// whose result exists does not count) and ends with the completion line.
func TestSweepProgress(t *testing.T) {
	spec := sweepDir(t, regSweep)
	if code, _, errs := call("-sweep", spec, "-task", "0"); code != 0 {
		t.Fatalf("task 0: %s", errs)
	}
	code, out, errs := call("-sweep", spec, "-task", "all", "-j", "2")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("-task all: exit %d, stdout %q, stderr %s", code, out, errs)
	}
	if !strings.Contains(errs, `msg="progress: done" stage=sweep task=3 of=3`) {
		t.Errorf("no sweep completion line for the 3 tasks that ran:\n%s", errs)
	}
}
