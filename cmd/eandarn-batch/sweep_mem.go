package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/eandarn/eandarn/slurm"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/pinn"
)

// runSizes are the sizes of a run file that a task's memory depends on.
type runSizes struct {
	nodes, leads, frames int // n heart nodes, m leads, T frames
}

// sizesOf returns the sizes of a loaded run file.
func sizesOf(p *inverse.Problem) runSizes {
	m, n := p.R.Dims()
	_, frames := p.BSPM.Dims()
	return runSizes{nodes: n, leads: m, frames: frames}
}

// memWork is what a task's memory depends on besides the run file: the
// method and, for the PINN methods, the points the network is evaluated at
// per step and the network's size.
type memWork struct {
	method string
	// batch is the network evaluations per mini-batch in units of heart
	// nodes: frames evaluated per step (B, or up to 5B with random frames
	// and the ND time derivative, or B+4 with contiguous ones); with
	// collocation points the ND stencils still need every node.
	batch         int
	collocation   int // N_c, 0 = every node of the batch
	width, layers int
}

// taskWork extracts a task's memWork from its validated configuration.
func taskWork(c *config) memWork {
	w := memWork{method: c.Method}
	if !slices.Contains(pinn.Names, c.Method) {
		return w
	}
	cfg, err := pinnConfig(c)
	if err != nil { // not after validation; the estimate then covers the defaults
		cfg, _ = pinn.DefaultConfig(c.Method)
	}
	w.batch = cfg.BatchFrames
	if cfg.TimeDeriv == pinn.ND {
		if cfg.RandomFrames {
			w.batch = 5 * cfg.BatchFrames
		} else {
			w.batch = cfg.BatchFrames + 4
		}
	}
	w.collocation, w.width, w.layers = cfg.Collocation, cfg.Width, cfg.Layers
	return w
}

// The memory model of a task, fitted to the peak resident memory of every
// method on four run files (README "Memory of a task"): a fixed part (Go
// runtime, HDF5 library, mesh operators) plus terms in the sizes, in
// bytes:
//
//	data    8·(m·n + m·T + 3·n·T)          R, the BSPM, the truth and the result
//	tikh    8·(2·n² + 2·m·n)               GSVD factors (tikhonov0–2)
//	stre    8·(4·n² + 6·n·T)               GSVD, GCV grid evaluator and window stack
//	pinn    8·P·W·L·k                      activations and gradients of P = n·batch points
//
// need = fixed + data + the method's term; the request is
// memHeadroom·need rounded up to 64 MiB, so that a task is not killed for
// the allocator's slack or a larger sweep value.
const (
	memFixedMiB = 64
	memHeadroom = 1.5
	memRoundMiB = 64
)

// estimate is the --mem estimate of the task on a run file of sizes sz.
func (w memWork) estimate(sz runSizes) slurm.Estimate {
	n, m, T := float64(sz.nodes), float64(sz.leads), float64(sz.frames)
	need := 8 * (m*n + m*T + 3*n*T)
	var term string
	switch {
	case w.method == "stre":
		need += 8 * (4*n*n + 6*n*T)
		term = "stre"
	case slices.Contains(pinn.Names, w.method):
		points := n * float64(min(w.batch, sz.frames+4))
		if w.collocation > 0 {
			points = max(points/5, float64(w.collocation))
		}
		need += 8 * points * float64(w.width*w.layers) * 4
		term = fmt.Sprintf("%d x %d network", w.layers, w.width)
	default:
		need += 8 * (2*n*n + 2*m*n)
		term = "tikhonov"
	}
	mib := memHeadroom * (memFixedMiB + need/(1<<20))
	mib = math.Ceil(mib/memRoundMiB) * memRoundMiB
	return slurm.Estimate{MiB: int(mib), Why: fmt.Sprintf("%s (%s) on %d nodes x %d leads x %d frames (README \"Memory of a task\")",
		w.method, term, sz.nodes, sz.leads, sz.frames)}
}
