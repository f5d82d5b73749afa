// Package gpu chooses the compute device of an eandarn-batch job, so that
// one command line runs on any node of a cluster, with or without a GPU.
//
// gorgonia.org/cu (the CUDA backend's driver binding) links libcuda.so.1 and
// calls cuInit in its package init, exiting when it fails: a binary that
// imports it cannot even start on a CPU node. So there are two builds of
// eandarn-batch: the CPU build (bin/eandarn-batch, no CUDA) and the CUDA
// build (bin/eandarn-batch-cuda, -tags cuda, make cuda). The CPU build
// probes the node without linking libcuda (dlopen of libcuda.so.1, cuInit,
// cuDeviceGetCount, the card's name and compute capability) and, when a
// usable card is present and the CUDA build lies next to it, replaces itself
// by the CUDA build with the same arguments (Handoff); each job then picks
// its backend (Resolve): -device auto uses the card when it can and the CPU
// otherwise, saying why in one log line; -device cuda without a usable card
// is refused with the cause; -device cpu never touches the driver.
package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// CUDABuild is the file name of the CUDA build, looked up next to the
// running binary.
const CUDABuild = "eandarn-batch-cuda"

// Devices are the accepted -device values.
var Devices = []string{"auto", "cpu", "cuda"}

// The seams of the tests: the driver probe (cached: one probe per process),
// the running binary and exec.
var (
	probe      = sync.OnceValues(probeDriver)
	executable = os.Executable
	execve     = syscall.Exec
)

// Choice is the device a job runs on.
type Choice struct {
	Device string // "cpu" or "cuda": the backend's registry name
	Card   string // the card's name with cuda, empty with cpu
	Why    string // why this device (the log line)
}

// cudaPath returns the path of the CUDA build next to the running binary,
// or an error saying why there is none.
func cudaPath() (string, error) {
	self, err := executable()
	if err != nil {
		return "", fmt.Errorf("no CUDA build: cannot locate this binary: %w", err)
	}
	p := filepath.Join(filepath.Dir(self), CUDABuild)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("no CUDA build: %s not found next to %s (make cuda builds it)", p, filepath.Base(self))
	}
	return p, nil
}

// Resolve picks the device of a job from its -device value. cudaBuild
// tells whether this binary has the CUDA backend (the CUDA build), float64
// whether the job computes in float64 (-precision float64), which the CUDA
// backend does not do.
//
//   - cpu: the CPU.
//   - cuda: the card, when this is the CUDA build and the probe finds a card
//     of compute capability ≥ 8.0; otherwise an error naming the cause (no
//     driver library, a failing driver call, no device, an old card, no
//     CUDA build, this process is the CPU build, float64 arithmetic).
//   - auto: the card as for cuda, else the CPU, with the cause in Why.
func Resolve(device string, cudaBuild, float64 bool) (Choice, error) {
	switch device {
	case "cpu":
		return Choice{Device: "cpu", Why: "-device cpu"}, nil
	case "cuda", "auto":
	default:
		return Choice{}, fmt.Errorf("-device %q: want one of %s", device, strings.Join(Devices, ", "))
	}
	card, err := probe()
	if err == nil && !cudaBuild {
		// A usable card, but this process is the CPU build: either there
		// is no CUDA build to hand off to, or the hand-off was not tried.
		var path string
		if path, err = cudaPath(); err == nil {
			err = fmt.Errorf("this process is the CPU build (%s is started at program start only)", filepath.Base(path))
		}
	}
	if err == nil && float64 {
		err = fmt.Errorf("-precision float64: the CUDA backend computes in float32")
	}
	switch {
	case err == nil:
		return Choice{Device: "cuda", Card: card.Name,
			Why: fmt.Sprintf("%s, compute capability %d.%d, driver %s", card.Name, card.Major, card.Minor, driverVersion(card.Driver))}, nil
	case device == "cuda":
		return Choice{}, fmt.Errorf("-device cuda: %w", err)
	}
	return Choice{Device: "cpu", Why: "no usable GPU: " + err.Error()}, nil
}

// Handoff replaces the running process by the CUDA build with the same
// arguments when this is the CPU build (cudaBuild false), the arguments do
// not say -device cpu, the probe finds a usable card and the CUDA build lies
// next to the running binary; the process then continues as the CUDA build
// (same pid, standard streams and environment, so Slurm's signals and
// output reach it). Otherwise it returns nil and the process continues: the
// job's Resolve then says why. It returns an error only when exec fails.
// Call it first thing in main, before any output.
func Handoff(args []string, cudaBuild bool) error {
	if cudaBuild || deviceArg(args) == "cpu" {
		return nil
	}
	if _, err := probe(); err != nil {
		return nil
	}
	path, err := cudaPath()
	if err != nil {
		return nil
	}
	err = execve(path, append([]string{path}, args...), os.Environ())
	return fmt.Errorf("start the CUDA build %s: %w", path, err)
}

// deviceArg returns the value of the last -device (or --device) flag in
// args, "" when there is none. A sweep's tasks take their -device from the
// spec, so a sweep hands off whenever a card is usable.
func deviceArg(args []string) string {
	v := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "device" {
			continue
		}
		if hasVal {
			v = val
		} else if i+1 < len(args) {
			v = args[i+1]
			i++
		}
	}
	return v
}
