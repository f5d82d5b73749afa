package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/cmd/internal/gpu"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
)

// summary is the one JSON line on stdout. Metrics are null when the run
// file has no truth; non-finite numbers are written as null (JSON has no NaN).
type summary struct {
	Method string   `json:"method"`
	Noise  float64  `json:"noise"`
	Seed   uint64   `json:"seed"`
	RE     *float64 `json:"re"`
	CC     *float64 `json:"cc"`
	MSE    *float64 `json:"mse"`
	// Activation-time correlation and mean absolute error (AP units) against
	// the truth's map, and the distance (mm) between their earliest nodes;
	// RE/CC per labelled region. Absent without truth.
	ATCC         *float64                 `json:"at_cc,omitempty"`
	ATMAE        *float64                 `json:"at_mae,omitempty"`
	Localization *float64                 `json:"localization_mm,omitempty"`
	Regions      map[string]regionSummary `json:"regions,omitempty"`
	// Ensemble: members and, with truth, the spread's Spearman correlation
	// with the error and the best and median member RE (-ensemble K ≥ 2).
	Ensemble     *ensembleSummary `json:"ensemble,omitempty"`
	Seconds      float64          `json:"seconds"` // the method's Solve wall time
	TotalSeconds float64          `json:"total_seconds"`
	Values       map[string]any   `json:"values,omitempty"` // chosen λ etc. (Result.Values)
	Nodes        int              `json:"nodes"`
	Leads        int              `json:"leads"`
	Frames       int              `json:"frames"`
	In           string           `json:"in"`
	Out          string           `json:"out"`
	Version      string           `json:"version"`
	Device       string           `json:"device"`                // cpu or cuda: where the method ran
	DeviceName   string           `json:"device_name,omitempty"` // the card, with cuda
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
	c.start = start
	var tm timings
	entry := lookupMethod(c.Method)
	m, err := entry.build(c, log)
	if err != nil {
		return nil, cli.BadInputf("method %s: %w", c.Method, err)
	}
	if c.device.Device == "" { // not a PINN method: -device does not apply
		c.device = gpu.Choice{Device: "cpu"}
	}
	// Before any work: no output may destroy the input or another output,
	// and every output's folder must be writable now, not after the solve.
	if err := cli.CheckFiles([]cli.File{{Flag: "-in", Path: c.In}},
		append([]cli.File{{Flag: "-out", Path: c.Out}}, checkpointFiles(c)...)); err != nil {
		return nil, err
	}

	t0 := time.Now()
	// Load validates the run file against its schema (shapes of R, BSPM,
	// time, truth; geometry); each failure names the dataset.
	p, err := runfile.Load(c.In)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	tm.load = time.Since(t0).Seconds()
	if fitBatch(c, p.BSPM.RawMatrix().Cols) {
		log.Info("the recording is shorter than the default mini-batch: training on all its frames", "batch_frames", c.Pinn["batch-frames"])
		if m, err = entry.build(c, log); err != nil {
			return nil, cli.BadInputf("method %s: %w", c.Method, err)
		}
	}
	// The method's own arrays grow as n² (Tikhonov, STRE) or with the
	// network's activations: within the budget too, before the solve.
	if err := taskWork(c).checkArrays(sizesOf(p)); err != nil {
		return nil, cli.BadInput(err)
	}
	m0, n := p.R.Dims()
	_, frames := p.BSPM.Dims()
	log.Info("loaded", "in", c.In, "nodes", n, "leads", m0, "frames", frames, "truth", p.TruthU != nil, "seconds", tm.load)
	warnEmptyRegions(log, p)

	// The default -noise is for synthetic data; on a recording it adds
	// synthetic noise to the measured one unless asked for.
	if c.Noise > 0 && !slices.Contains(c.given, "noise") && p.Attrs["units"] != "normalized" && !runfile.ExactBSPM(p.Attrs) {
		log.Warn("adding the default -noise to a measured recording, on top of its own noise: give -noise 0 to solve it as recorded",
			"noise", c.Noise, "units", p.Attrs["units"])
	}
	// -noise is in the file's units: its ratio to the signal's size tells
	// what it means (0.05 is 10% of the default dataset's rms, 1e-4 of the
	// Utah sock's in uV).
	rms := mat.Norm(p.BSPM, 2) / math.Sqrt(float64(m0*frames))
	p.BSPM = inverse.AddNoise(p.BSPM, c.Noise, c.Seed)
	// R times the truth with nothing added (and no known noise): the λ
	// rules keep GCV where it finds no regularization needed.
	p.Exact = runfile.ExactBSPM(p.Attrs) && c.Noise == 0 && c.Sigma == 0
	if err := runfile.CheckData(c.In, runfile.BSPM, p.BSPM); err != nil {
		return nil, cli.BadInputf("-noise %g: the noisy BSPM is unusable: %w", c.Noise, err)
	}
	if c.Noise > rms {
		log.Warn("-noise is larger than the BSPM's rms: the noise drowns the signal (-noise is in the file's units)",
			"noise", c.Noise, "bspm_rms", rms, "units", p.Attrs["units"])
	}
	// A signal that came while the file was read (which cannot be
	// interrupted) stops the job here, before the solve starts.
	if ctx.Err() != nil {
		return nil, cli.Interrupted(fmt.Errorf("interrupted before the solve (%v): no result written", context.Cause(ctx)))
	}

	t0 = time.Now()
	log.Info("solving", "method", c.Method, "noise", c.Noise, "sigma", c.Sigma, "seed", c.Seed,
		"units", p.Attrs["units"], "noise_to_bspm_rms", c.Noise/rms, "exact_data", p.Exact)
	res, err := m.Solve(ctx, p)
	tm.solve = time.Since(t0).Seconds()
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, cli.Interrupted(fmt.Errorf("%s interrupted after %.1f s (%v): no result written", c.Method, tm.solve, context.Cause(ctx)))
	case errors.Is(err, inverse.ErrInput):
		// The method found the data or a setting unusable (a window longer
		// than the recording, a -resume file of another run): bad input.
		return nil, cli.BadInputf("%s: %w", c.Method, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", c.Method, err)
	case res == nil || res.U == nil:
		return nil, fmt.Errorf("%s: no reconstruction returned", c.Method)
	}
	if r, cc := res.U.Dims(); r != n || cc != frames {
		return nil, fmt.Errorf("%s: reconstruction is %dx%d, want %dx%d", c.Method, r, cc, n, frames)
	}
	// Never a result of garbage with exit status 0.
	if err := finiteMatrix(res.U); err != nil {
		return nil, fmt.Errorf("%s: reconstruction %w: no result written", c.Method, err)
	}
	log.Info("solved", "method", c.Method, "seconds", tm.solve)

	var sc *scores
	t0 = time.Now()
	cl := clinicalScores(p, res)
	ens := ensembleScoresOf(p, res)
	if p.TruthU != nil {
		sc = score(res.U, p.TruthU)
		log.Info("metrics", "re", sc.re, "cc", sc.cc, "mse", sc.mse, "at_cc", cl.act.CC, "at_mae", cl.act.MAE, "localization_mm", cl.act.Localization)
		if ens != nil {
			log.Info("ensemble", "members", ens.members, "spearman", ens.spearman, "best_member_re", ens.best, "median_member_re", ens.median,
				"mean_re", ens.mean, "near_lowest_re", ens.nearLowest)
		}
	}
	tm.metrics = time.Since(t0).Seconds()

	t0 = time.Now()
	tm.total = time.Since(start).Seconds() // the write's own time is recorded separately
	if err := writeResult(c, p, res, sc, cl, ens, &tm); err != nil {
		return nil, fmt.Errorf("write %s: %w", c.Out, err)
	}
	tm.write = time.Since(t0).Seconds()
	log.Info("wrote", "out", c.Out, "seconds", tm.write)

	s := &summary{
		Method: c.Method, Noise: c.Noise, Seed: c.Seed,
		Seconds: tm.solve, TotalSeconds: time.Since(start).Seconds(),
		Nodes: n, Leads: m0, Frames: frames,
		In: c.In, Out: c.Out, Version: cli.BuildVersion(),
		Device: c.device.Device, DeviceName: c.device.Card,
	}
	if sc != nil {
		s.RE, s.CC, s.MSE = finite(sc.re), finite(sc.cc), finite(sc.mse)
	}
	cl.summarize(s, p)
	ens.summarize(s)
	if len(res.Values) > 0 {
		s.Values = make(map[string]any, len(res.Values))
		for k, v := range res.Values {
			s.Values[k] = finite(v)
		}
	}
	return s, nil
}

// finiteMatrix returns an error naming the first non-finite entry of m.
func finiteMatrix(m *mat.Dense) error {
	r, c := m.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if x := m.At(i, j); math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("has %v at [%d,%d]", x, i, j)
			}
		}
	}
	return nil
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
