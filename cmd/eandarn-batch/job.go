package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/pinn"
)

// noiseStream is the second PCG word of the noise generator ("noise" in
// ASCII), so that the noise and a method seeded with the same -seed draw
// from different streams.
const noiseStream = 0x6e6f697365

// summary is the one JSON line on stdout. Metrics are null when the run
// file has no truth; non-finite numbers are written as null (JSON has no NaN).
type summary struct {
	Method       string         `json:"method"`
	Noise        float64        `json:"noise"`
	Seed         uint64         `json:"seed"`
	RE           *float64       `json:"re"`
	CC           *float64       `json:"cc"`
	MSE          *float64       `json:"mse"`
	Seconds      float64        `json:"seconds"` // the method's Solve wall time
	TotalSeconds float64        `json:"total_seconds"`
	Values       map[string]any `json:"values,omitempty"` // chosen λ etc. (Result.Values)
	Nodes        int            `json:"nodes"`
	Leads        int            `json:"leads"`
	Frames       int            `json:"frames"`
	In           string         `json:"in"`
	Out          string         `json:"out"`
	Version      string         `json:"version"`
}

// scores are the metrics of Eq. 19–21 of the reconstruction against the
// truth, overall and per frame.
type scores struct {
	re, cc, mse      float64
	frameRE, frameCC []float64
}

// timings are wall times in seconds of the job's phases.
type timings struct {
	load, solve, metrics, write, total float64
}

// execute runs one validated job: load, add noise, solve, score, write.
// Errors that are the input's fault are cli.BadInput (exit 2); nothing is
// written unless every step succeeds.
func execute(ctx context.Context, c *config, log *slog.Logger) (*summary, error) {
	start := time.Now()
	var tm timings
	entry := lookupMethod(c.Method)
	m, err := entry.build(c, log)
	if err != nil {
		return nil, cli.BadInputf("method %s: %w", c.Method, err)
	}

	t0 := time.Now()
	// Load validates the run file against its schema (shapes of R, BSPM,
	// time, truth; geometry); each failure names the dataset.
	p, err := runfile.Load(c.In)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	tm.load = time.Since(t0).Seconds()
	m0, n := p.R.Dims()
	_, frames := p.BSPM.Dims()
	log.Info("loaded", "in", c.In, "nodes", n, "leads", m0, "frames", frames, "truth", p.TruthU != nil, "seconds", tm.load)

	p.BSPM = addNoise(p.BSPM, c.Noise, c.Seed)

	t0 = time.Now()
	log.Info("solving", "method", c.Method, "noise", c.Noise, "seed", c.Seed)
	res, err := m.Solve(ctx, p)
	tm.solve = time.Since(t0).Seconds()
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, cli.Interrupted(fmt.Errorf("%s interrupted after %.1f s (%v): no result written", c.Method, tm.solve, context.Cause(ctx)))
	case errors.Is(err, pinn.ErrConfigMismatch):
		// A -resume file of another run is the user's input, not a failure.
		return nil, cli.BadInputf("%s: %w", c.Method, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", c.Method, err)
	case res == nil || res.U == nil:
		return nil, fmt.Errorf("%s: no reconstruction returned", c.Method)
	}
	if r, cc := res.U.Dims(); r != n || cc != frames {
		return nil, fmt.Errorf("%s: reconstruction is %dx%d, want %dx%d", c.Method, r, cc, n, frames)
	}
	log.Info("solved", "method", c.Method, "seconds", tm.solve)

	var sc *scores
	if p.TruthU != nil {
		t0 = time.Now()
		sc = score(res.U, p.TruthU)
		tm.metrics = time.Since(t0).Seconds()
		log.Info("metrics", "re", sc.re, "cc", sc.cc, "mse", sc.mse)
	}

	t0 = time.Now()
	tm.total = time.Since(start).Seconds() // the write's own time is recorded separately
	if err := writeResult(c, p, res, sc, &tm); err != nil {
		return nil, fmt.Errorf("write %s: %w", c.Out, err)
	}
	tm.write = time.Since(t0).Seconds()
	log.Info("wrote", "out", c.Out, "seconds", tm.write)

	s := &summary{
		Method: c.Method, Noise: c.Noise, Seed: c.Seed,
		Seconds: tm.solve, TotalSeconds: time.Since(start).Seconds(),
		Nodes: n, Leads: m0, Frames: frames,
		In: c.In, Out: c.Out, Version: cli.BuildVersion(),
	}
	if sc != nil {
		s.RE, s.CC, s.MSE = finite(sc.re), finite(sc.cc), finite(sc.mse)
	}
	if len(res.Values) > 0 {
		s.Values = make(map[string]any, len(res.Values))
		for k, v := range res.Values {
			s.Values[k] = finite(v)
		}
	}
	return s, nil
}

// addNoise returns y + σ·Z with Z_ij independent standard normal draws,
// taken row by row (lead by lead, frames in order) from a PCG generator
// seeded with (seed, noiseStream), so a (σ, seed) pair always gives the same
// noisy BSPM. σ = 0 returns y itself.
func addNoise(y *mat.Dense, sigma float64, seed uint64) *mat.Dense {
	if sigma == 0 {
		return y
	}
	rng := rand.New(rand.NewPCG(seed, noiseStream))
	r, c := y.Dims()
	out := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out.Set(i, j, y.At(i, j)+sigma*rng.NormFloat64())
		}
	}
	return out
}

// score computes RE, CC, MSE (Eq. 19–21) of the estimate against the
// truth, and the per-frame RE and CC.
func score(est, truth *mat.Dense) *scores {
	return &scores{
		re:      metrics.RE(est, truth),
		cc:      metrics.CC(est, truth),
		mse:     metrics.MSE(est, truth),
		frameRE: metrics.FrameRE(est, truth),
		frameCC: metrics.FrameCC(est, truth),
	}
}

// finite returns &x, or nil for NaN and ±Inf (written as JSON null).
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
