package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/resultfile"
)

// TestDeviceChoice: this test binary is the CPU build with no CUDA build
// beside it, so on any machine -device auto (the default) trains on the CPU
// and says why in one log line, and -device cuda is refused with exit
// status 2, the cause in one line and nothing written. The summary and the
// result file record the device; a regularization method runs on the CPU.
func TestDeviceChoice(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "run.h5")
	writeRun(t, in)
	pinnArgs := func(out string, extra ...string) []string {
		return append([]string{"-in", in, "-out", filepath.Join(dir, out), "-method", "eandarn", "-epochs", "1",
			"-batch-frames", "5", "-width", "5"}, extra...)
	}

	code, stdout, stderr := call(pinnArgs("auto.h5")...)
	if code != 0 {
		t.Fatalf("-device auto: exit %d: %s", code, stderr)
	}
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "msg=device ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "device=cpu") || !strings.Contains(lines[0], `why="no usable GPU: `) {
		t.Errorf("-device auto: device log lines %q, want one saying cpu and why", lines)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.Device != "cpu" || s.DeviceName != "" {
		t.Errorf("-device auto: summary %q (%v), want device cpu and no card", stdout, err)
	}
	f, err := resultfile.Read(filepath.Join(dir, "auto.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Attrs["device"] != "cpu" {
		t.Errorf("result attribute device %q, want cpu", f.Attrs["device"])
	}

	code, stdout, stderr = call(pinnArgs("cuda.h5", "-device", "cuda")...)
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "-device cuda: ") {
		t.Errorf("-device cuda without a usable GPU: exit %d, stdout %q, stderr %q; want 2, nothing, one line with the cause", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cuda.h5")); err == nil {
		t.Error("-device cuda without a usable GPU wrote a result")
	}

	code, stdout, stderr = call("-in", in, "-out", filepath.Join(dir, "t2.h5"), "-method", "tikhonov2", "-device", "cuda")
	if err := json.Unmarshal([]byte(stdout), &s); code != 0 || err != nil || s.Device != "cpu" {
		t.Errorf("tikhonov2 -device cuda: exit %d, summary %q, stderr %q; want it run on the cpu", code, stdout, stderr)
	}
}
