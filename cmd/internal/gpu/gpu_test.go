package gpu

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestProbeHere runs the real probe on this machine: a card, or an error
// that names one of the causes.
func TestProbeHere(t *testing.T) {
	c, err := probeDriver()
	if err == nil {
		t.Logf("usable card: %+v", c)
		return
	}
	t.Logf("no usable card: %v", err)
	causes := []string{"no CUDA driver library", "CUDA driver library unusable", "CUDA driver: ", "no CUDA device", "compute capability"}
	if !slices.ContainsFunc(causes, func(s string) bool { return strings.Contains(err.Error(), s) }) {
		t.Errorf("probe error %q names none of the causes %q", err, causes)
	}
}

// fake installs a probe result and a running binary in a temporary folder,
// with or without the CUDA build next to it; exec calls are recorded.
func fake(t *testing.T, card Card, perr error, withCUDA bool) (dir string, execs *[][]string) {
	dir = t.TempDir()
	self := filepath.Join(dir, "eandarn-batch")
	if withCUDA {
		if err := os.WriteFile(filepath.Join(dir, CUDABuild), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	oldProbe, oldExe, oldExec := probe, executable, execve
	t.Cleanup(func() { probe, executable, execve = oldProbe, oldExe, oldExec })
	probe = func() (Card, error) { return card, perr }
	executable = func() (string, error) { return self, nil }
	var calls [][]string
	execve = func(path string, argv []string, env []string) error {
		calls = append(calls, append([]string{path}, argv...))
		return errors.New("exec refused by the test")
	}
	return dir, &calls
}

var h200 = Card{Name: "NVIDIA H200", Devices: 1, Major: 9, Minor: 0, Driver: 13000}

func TestResolve(t *testing.T) {
	noLib := errors.New("no CUDA driver library (libcuda.so.1: cannot open shared object file: No such file or directory)")
	for _, c := range []struct {
		name      string
		device    string
		perr      error
		withCUDA  bool
		cudaBuild bool
		float64   bool
		want      string // device chosen, or "error: <substring>"
		why       string
	}{
		{"cpu never probes", "cpu", noLib, false, false, false, "cpu", "-device cpu"},
		{"auto without driver", "auto", noLib, false, false, false, "cpu", "no usable GPU: no CUDA driver library"},
		{"cuda without driver", "cuda", noLib, true, true, false, "error: -device cuda: no CUDA driver library", ""},
		{"auto, card, cpu build, no cuda build", "auto", nil, false, false, false, "cpu", "no usable GPU: no CUDA build"},
		{"cuda, card, cpu build, no cuda build", "cuda", nil, false, false, false, "error: -device cuda: no CUDA build", ""},
		{"auto in the cuda build", "auto", nil, false, true, false, "cuda", "NVIDIA H200, compute capability 9.0, driver 13.0"},
		{"cuda in the cuda build", "cuda", nil, false, true, false, "cuda", "NVIDIA H200"},
		{"auto, float64", "auto", nil, false, true, true, "cpu", "no usable GPU: -precision float64: the CUDA backend computes in float32"},
		{"cuda, float64", "cuda", nil, false, true, true, "error: -device cuda: -precision float64", ""},
		{"cpu, float64", "cpu", nil, false, true, true, "cpu", "-device cpu"},
		{"cuda, cpu build beside the cuda build", "cuda", nil, true, false, false, "error: this process is the CPU build", ""},
		{"unknown", "tpu", nil, true, true, false, "error: -device \"tpu\": want one of auto, cpu, cuda", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake(t, h200, c.perr, c.withCUDA)
			ch, err := Resolve(c.device, c.cudaBuild, c.float64)
			if want, ok := strings.CutPrefix(c.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("got %+v, %v; want an error containing %q", ch, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Device != c.want || !strings.Contains(ch.Why, c.why) {
				t.Errorf("got %+v, want device %s because %q", ch, c.want, c.why)
			}
			if (ch.Device == "cuda") != (ch.Card == h200.Name) {
				t.Errorf("card %q with device %s", ch.Card, ch.Device)
			}
		})
	}
}

func TestHandoff(t *testing.T) {
	args := []string{"-in", "run.h5", "-out", "r.h5", "-method", "eandarn"}
	for _, c := range []struct {
		name      string
		args      []string
		perr      error
		withCUDA  bool
		cudaBuild bool
		exec      bool
	}{
		{"card and cuda build", args, nil, true, false, true},
		{"explicit auto", append(slices.Clone(args), "-device", "auto"), nil, true, false, true},
		{"sweep task", []string{"-sweep", "s.toml", "-task", "3"}, nil, true, false, true},
		{"-device cpu", append(slices.Clone(args), "-device=cpu"), nil, true, false, false},
		{"no card", args, errors.New("no CUDA device"), true, false, false},
		{"no cuda build", args, nil, false, false, false},
		{"already the cuda build", args, nil, true, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, execs := fake(t, h200, c.perr, c.withCUDA)
			err := Handoff(c.args, c.cudaBuild)
			if !c.exec {
				if err != nil || len(*execs) != 0 {
					t.Errorf("error %v, exec calls %v; want neither", err, *execs)
				}
				return
			}
			path := filepath.Join(dir, CUDABuild)
			want := append([]string{path, path}, c.args...)
			if len(*execs) != 1 || !slices.Equal((*execs)[0], want) {
				t.Fatalf("exec calls %v, want one with %v", *execs, want)
			}
			if err == nil || !strings.Contains(err.Error(), "start the CUDA build") {
				t.Errorf("a failed exec gave %v", err)
			}
		})
	}
}

func TestDeviceArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"-device", "cpu"}, "cpu"},
		{[]string{"--device=cuda", "-in", "x"}, "cuda"},
		{[]string{"-device", "cpu", "-device", "auto"}, "auto"},
		{[]string{"-in", "-device"}, ""},
		{[]string{"--", "-device", "cpu"}, ""},
	} {
		if got := deviceArg(c.args); got != c.want {
			t.Errorf("deviceArg(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}
