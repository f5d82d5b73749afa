package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
)

// buildBinaries builds eandarn-synth and eandarn-batch into a temporary
// folder, with a version set by -ldflags as the Makefile does.
func buildBinaries(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	if err := clitest.Build(bin, "-X github.com/eandarn/eandarn/cmd/internal/cli.Version=roundtrip-test",
		"github.com/eandarn/eandarn/cmd/eandarn-synth", "github.com/eandarn/eandarn/cmd/eandarn-batch"); err != nil {
		t.Fatal(err)
	}
	return bin
}

// runBin runs a binary and fails the test unless it exits 0.
func runBin(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// TestRoundTrip: eandarn-synth (on the geometry of a small run file, read
// through FILE.h5:GROUP) -> eandarn-batch -> h5ls -r of both files lists
// every documented dataset under its h5py name, and h5dump shows the
// version and seed attributes.
func TestRoundTrip(t *testing.T) {
	for _, tool := range []string{"h5ls", "h5dump"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs hdf5-tools)", tool)
		}
	}
	bin := buildBinaries(t)
	dir := t.TempDir()
	geom := filepath.Join(dir, "geometry.h5")
	writeRun(t, geom)
	run, result := filepath.Join(dir, "run.h5"), filepath.Join(dir, "result.h5")
	runBin(t, filepath.Join(bin, "eandarn-synth"), "-heart", geom+":geometry/heart", "-torso", geom+":geometry/torso",
		"-frames", "30", "-tend", "20", "-pace", "5", "-out", run, "-log-level", "warn")
	summary := runBin(t, filepath.Join(bin, "eandarn-batch"), "-in", run, "-out", result, "-method", "tikhonov2",
		"-noise", "0.01", "-seed", "3", "-log-level", "warn")
	if !strings.Contains(summary, `"version":"roundtrip-test"`) {
		t.Errorf("summary lacks the -ldflags version: %s", summary)
	}

	for file, want := range map[string][]string{
		run: {"/geometry/heart/nodes", "/geometry/heart/triangles", "/geometry/torso/nodes", "/geometry/torso/triangles",
			"/geometry/torso/leads", "/forward/R", "/signals/bspm", "/signals/time", "/truth/u", "/truth/v"},
		result: resultDatasetsWant,
	} {
		ls := runBin(t, "h5ls", "-r", file)
		found := map[string]bool{}
		for _, line := range strings.Split(ls, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[1] == "Dataset" {
				found[f[0]] = true
			}
		}
		for _, ds := range want {
			if !found[ds] {
				t.Errorf("%s: dataset %s missing; h5ls -r:\n%s", filepath.Base(file), ds, ls)
			}
		}
	}
	attrs := runBin(t, "h5dump", "-A", result)
	for _, a := range []string{"method", "version", "seed", "noise", "config", "input"} {
		if !strings.Contains(attrs, `ATTRIBUTE "`+a+`"`) {
			t.Errorf("result.h5 lacks root attribute %q; h5dump -A:\n%s", a, attrs)
		}
	}
	if !strings.Contains(attrs, "roundtrip-test") || !strings.Contains(attrs, "tikhonov2") {
		t.Errorf("h5dump -A does not show the version and method:\n%s", attrs)
	}
}

// resultDatasetsWant are the datasets a tikhonov2 result with truth must
// hold (README: result file layout).
var resultDatasetsWant = []string{
	"/reconstruction/u", "/reconstruction/time",
	"/metrics/re", "/metrics/cc", "/metrics/mse", "/metrics/frame_re", "/metrics/frame_cc",
	"/values/lambda", "/values/lambda_gcv",
	"/series/lambda_grid", "/series/gcv", "/series/lcurve_residual", "/series/lcurve_seminorm",
	"/timing/load_s", "/timing/solve_s", "/timing/metrics_s", "/timing/total_s",
}

// TestSIGTERM: a PINN job that receives SIGTERM mid-training writes its
// checkpoint, exits with status 3 and one line naming the interruption,
// and writes no result file; -resume then continues from the checkpoint.
func TestSIGTERM(t *testing.T) {
	bin := buildBinaries(t)
	dir := t.TempDir()
	in, out, ck := filepath.Join(dir, "run.h5"), filepath.Join(dir, "result.h5"), filepath.Join(dir, "ck")
	writeRun(t, in)
	args := []string{"-in", in, "-out", out, "-method", "epdl-nd", "-epochs", "1000000", "-batch-frames", "10", "-checkpoint", ck, "-resume"}
	start := func() (*exec.Cmd, *bytes.Buffer, *syncBuffer) {
		var stdout bytes.Buffer
		stderr := new(syncBuffer)
		cmd := exec.Command(filepath.Join(bin, "eandarn-batch"), args...)
		cmd.Stdout, cmd.Stderr = &stdout, stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stdout, stderr
	}
	interrupt := func(cmd *exec.Cmd, stderr *syncBuffer) (int, string) {
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stderr.String(), "msg=solving") {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no training after 30 s:\n%s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("still running 30 s after SIGTERM")
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}

	cmd, stdout, stderr := start()
	code, logs := interrupt(cmd, stderr)
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if last := lines[len(lines)-1]; code != 3 || !strings.HasPrefix(last, prog+": ") || !strings.Contains(last, "interrupted") {
		t.Errorf("exit %d, last stderr line %q: want 3 and %q", code, last, prog+": ... interrupted ...")
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q after an interruption", stdout.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a result file was written by an interrupted job")
	}
	st1, err := os.Stat(ck)
	if err != nil {
		t.Fatalf("no checkpoint after SIGTERM: %v", err)
	}

	// The same command again resumes from the checkpoint (a requeued Slurm
	// task), and its next checkpoint replaces the first.
	cmd, _, stderr = start()
	if code, logs = interrupt(cmd, stderr); code != 3 {
		t.Errorf("resumed job: exit %d\n%s", code, logs)
	}
	if st2, err := os.Stat(ck); err != nil || !st2.ModTime().After(st1.ModTime()) {
		t.Errorf("checkpoint not rewritten by the resumed job (%v)", err)
	}
	t.Logf("resumed job log:\n%s", logs)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
