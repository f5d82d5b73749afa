package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/slurm"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/pinn"
)

// runSizes are the sizes of a run file that a task's memory depends on.
type runSizes struct {
	nodes, leads, frames int // n heart nodes, m leads, T frames
	// autoRefine is the PINN methods' automatic physics-mesh subdivision
	// of this heart (-physics-refine -1).
	autoRefine int
}

// sizesOf returns the sizes of a loaded run file.
func sizesOf(p *inverse.Problem) runSizes {
	m, n := p.R.Dims()
	_, frames := p.BSPM.Dims()
	return runSizes{nodes: n, leads: m, frames: frames, autoRefine: pinn.AutoRefine(p.Heart)}
}

// memWork is what a task's memory depends on besides the run file: the
// method and, for the PINN methods, the network and how many (node, frame)
// points one step evaluates it at.
type memWork struct {
	method string
	// frames is the frames one mini-batch evaluates the network on at every
	// node: B for an AD time derivative; with the ND one (Eq. 17–18) also
	// each frame's stencil: up to 5B with random frames, B+4 with
	// contiguous ones.
	frames        int
	width, layers int
	float64       bool // network passes in float64
	adTime        bool // AD time derivative (Taylor jets along t)
	ensemble      bool // -ensemble K ≥ 2: the members' running mean, std and mean v
	refine        int  // physics-mesh subdivisions (-1: the run file's automatic choice)
}

// taskWork extracts a task's memWork from its validated configuration.
func taskWork(c *config) memWork {
	w := memWork{method: c.Method}
	if !slices.Contains(pinn.Names, c.Method) {
		return w
	}
	cfg, err := pinnConfig(c)
	if err != nil { // not after validation; the defaults then stand
		cfg, _ = pinn.DefaultConfig(c.Method)
	}
	w.frames, w.adTime = cfg.BatchFrames, cfg.TimeDeriv == pinn.AD
	if !w.adTime {
		if cfg.RandomFrames {
			w.frames = 5 * cfg.BatchFrames
		} else {
			w.frames = cfg.BatchFrames + 4
		}
	}
	w.width, w.layers, w.float64, w.refine = cfg.Width, cfg.Layers, cfg.Precision == "float64", cfg.PhysicsRefine
	if s, err := pinnOptionsOf(c); err == nil {
		w.ensemble = s.Ensemble >= 2
	}
	return w
}

// The memory model of a task: the peak resident memory of every method,
// measured on five run files (README "Memory of a task"), bounded by
//
//	need = 28 MiB + 4 MiB·cpus + data + term,  data = 8·(m·n + m·T + 3·n·T) bytes
//
// (n heart nodes, m leads, T frames; data is R, the BSPM, the truth and
// the result) with the method's term in bytes:
//
//	tikhonov0–2   8·(4·n² + 4·n·T)               GSVD factors and the λ sweep
//	stre          8·(10·n² + 16·n·T + 16·T²)      GSVD, temporal operator and GCV grid
//	PINN          8·8·n·T + c·n·F·W·L            whole-recording fields; the network's
//	                                             activations and gradients for one step
//	              + 8·4·n·T with -ensemble K ≥ 2 the members' running sums and u_std
//
// c = 24 bytes (float32 passes) or 40 (float64) with the ND time
// derivative, 128 or 160 with the AD one (Taylor jets),
// where F is the frames per step (memWork.frames; at most T), W the
// width and L the layers of the network; on a physics mesh subdivided s
// times (-physics-refine) the step's points are 4^s times as many, so the
// second term is multiplied by 4^s. The request is memHeadroom·need,
// rounded up to memRoundMiB: room for the garbage collector's slack and
// for sizes the fit did not see.
const (
	memBaseMiB   = 28
	memPerCPUMiB = 4
	memHeadroom  = 1.5
	memRoundMiB  = 64
)

// estimate is the --mem estimate of the task on a run file of sizes sz,
// run on cpus CPUs.
func (w memWork) estimate(sz runSizes, cpus int) slurm.Estimate {
	bytes, what := w.arrays(sz)
	need := memBaseMiB + memPerCPUMiB*float64(cpus) + bytes/(1<<20)
	mib := math.Ceil(memHeadroom*need/memRoundMiB) * memRoundMiB
	return slurm.Estimate{MiB: int(mib), Why: fmt.Sprintf("%s on %d nodes x %d leads x %d frames, %d CPU (README \"Memory of a task\")",
		what, sz.nodes, sz.leads, sz.frames, cpus)}
}

// checkArrays refuses, before the solve, a task whose arrays (the model's
// data and method terms) would not fit the memory budget (-max-memory): a
// run file of a few MB with a 40962-node heart makes Tikhonov's n x n
// factors 13 GB each.
func (w memWork) checkArrays(sz runSizes) error {
	bytes, what := w.arrays(sz)
	var t inputs.Tally
	return t.AddBytes(fmt.Sprintf("%s on %d nodes x %d leads x %d frames: the arrays it works with", what, sz.nodes, sz.leads, sz.frames),
		int64(min(bytes, math.MaxInt64/2)))
}

// arrays is the bytes of the model's data and method terms (need without
// the base and the per-CPU term), and what the method term describes.
func (w memWork) arrays(sz runSizes) (bytes float64, what string) {
	n, m, T := float64(sz.nodes), float64(sz.leads), float64(sz.frames)
	bytes = 8 * (m*n + m*T + 3*n*T)
	switch {
	case w.method == "stre":
		bytes += 8 * (10*n*n + 16*n*T + 16*T*T)
		what = "stre"
	case slices.Contains(pinn.Names, w.method):
		c := 24.0
		switch {
		case w.adTime && w.float64:
			c = 160
		case w.adTime:
			c = 128
		case w.float64:
			c = 40
		}
		levels := w.refine
		if levels < 0 {
			levels = sz.autoRefine
		}
		pts := n * math.Pow(4, float64(levels)) * float64(min(w.frames, sz.frames))
		bytes += 8*8*n*T + c*pts*float64(w.width*w.layers)
		what = fmt.Sprintf("%s, %d x %d network, %d frames per step", w.method, w.layers, w.width, min(w.frames, sz.frames))
		if w.ensemble {
			bytes += 8 * 4 * n * T // the members' running mean and squared deviations of u, mean v, and u_std
			what += ", ensemble"
		}
	default:
		bytes += 8 * (4*n*n + 4*n*T)
		what = w.method
	}
	return bytes, what
}
