package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/progress"
)

// importSummary is the one JSON line of an import (-bspm).
type importSummary struct {
	Out        string  `json:"out"`
	Mode       string  `json:"mode"` // "import"
	Nodes      int     `json:"nodes"`
	Leads      int     `json:"leads"`
	Frames     int     `json:"frames"`
	Units      string  `json:"units"`
	DurationMS float64 `json:"duration_ms"` // last frame time − first, ms
	Forward    string  `json:"forward"`     // "bem" (computed) or "given"
	Torso      bool    `json:"torso"`       // torso geometry written
	Truth      bool    `json:"truth"`
	Regions    int     `json:"regions"`
	Seconds    float64 `json:"seconds"`
	Version    string  `json:"version"`
}

// bspmForward as the -bspm path makes the body-surface signals R·truth: a
// measured heart-surface recording (as the Utah sock's) seen through the
// transfer matrix, for testing inverse methods on real heart potentials
// when the body-surface recording of the same beat is missing.
const bspmForward = "forward"

// importRecording writes a run file from a measured recording: the heart
// (and torso) of g, the BSPM of -bspm in -units (or R·truth), its time axis
// from -rate or -time (ms, converted to AP units with
// ap.MillisecondsPerUnit), the optional -truth, and R from -forward or by
// BEM. Every check of the input comes before the BEM and the write (exit 2,
// nothing written).
func importRecording(ctx context.Context, c *config, g *geom, log *slog.Logger, start time.Time) (any, error) {
	p := c.Params
	n := len(g.heart.Nodes)
	// Before reading the signals: the output must not replace an input, and
	// its folder must be writable now.
	for _, in := range [][2]string{{"-bspm", p.BSPM}, {"-truth", p.Truth}, {"-time", p.TimeFile}} {
		if in[1] != "" && in[1] != bspmForward {
			g.addFiles(in[0], []string{arrayFile(in[1])})
		}
	}
	if err := cli.CheckFiles(g.files, []cli.File{{Flag: "-out", Path: c.Out, Dir: !runfile.IsHDF5Path(c.Out)}}); err != nil {
		return nil, err
	}
	R, m, err := readForward(p, g)
	if err != nil {
		return nil, err
	}
	// With -bspm forward the body-surface signals are R·truth (made after R),
	// so the frame count comes from the truth.
	fromTruth := p.BSPM == bspmForward
	var Y, truth *mat.Dense
	T := -1
	if !fromTruth {
		if Y, err = readMatrix(p.BSPM, "bspm", m, -1, "leads x frames"); err != nil {
			return nil, cli.BadInputf("-bspm %s: %w", p.BSPM, err)
		}
		if err := allFinite(Y); err != nil {
			return nil, cli.BadInputf("-bspm %s: %w", p.BSPM, err)
		}
		_, T = Y.Dims()
	}
	if p.Truth != "" {
		if truth, err = readMatrix(p.Truth, "u", n, T, "heart nodes x frames"); err != nil {
			return nil, cli.BadInputf("-truth %s: %w", p.Truth, err)
		}
		if err := allFinite(truth); err != nil {
			return nil, cli.BadInputf("-truth %s: %w", p.Truth, err)
		}
		_, T = truth.Dims()
	}
	if fromTruth {
		// R·truth once R is known; a stand-in of ones until then, for the
		// validation before the BEM (an all-zero BSPM is refused).
		Y = mat.NewDense(m, T, slices.Repeat([]float64{1}, m*T))
	}
	ms, err := frameTimes(p, T)
	if err != nil {
		return nil, err
	}
	tAP := make([]float64, T)
	for k, t := range ms {
		tAP[k] = t / ap.MillisecondsPerUnit
	}
	attrs := map[string]string{
		"generator":    prog + " -bspm",
		"version":      cli.BuildVersion(),
		"units":        p.Units,
		"created":      time.Now().UTC().Format(time.RFC3339),
		"parameters":   importParameters(p),
		"time_unit_ms": strconv.FormatFloat(ap.MillisecondsPerUnit, 'g', -1, 64),
		"forward":      "given",
	}
	if p.Potential != "" {
		attrs["potential"] = p.Potential
	}
	prob := &inverse.Problem{Heart: g.heart, Torso: g.torso, Leads: g.leads, R: R, BSPM: Y, Time: tAP, TruthU: truth,
		Region: g.region, RegionNames: g.regionNames, Attrs: attrs}
	if R == nil {
		// Validate the rest before the BEM's minutes, with a stand-in R of
		// the right shape (rows summing to 1, as the BEM's will).
		prob.R = mat.NewDense(m, n, slices.Repeat([]float64{1 / float64(n)}, m*n))
	}
	if err := runfile.Validate(c.Out, prob); err != nil {
		return nil, invalidInput(p, ms, err)
	}
	if R == nil {
		t0 := time.Now()
		// TransferMatrix checks the geometry first: closed surfaces, the
		// heart inside the torso: the user's input, hence bad input.
		if prob.R, err = forward.TransferMatrix(g.heart, g.torso, g.leads, forward.WithProgress(progress.FromContext(ctx))); err != nil {
			return nil, cli.BadInput(err)
		}
		attrs["forward"] = "bem"
		log.Info("transfer matrix", "leads", m, "nodes", n, "seconds", time.Since(t0).Seconds())
	}
	if fromTruth {
		Y.Mul(prob.R, truth)
		attrs[runfile.BSPMAttr] = runfile.BSPMExactImport
		// The real BSPM, checked as the stand-in was (an all-zero truth
		// gives an all-zero BSPM).
		if err := runfile.Validate(c.Out, prob); err != nil {
			return nil, invalidInput(p, ms, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	log.Info("imported", "units", p.Units, "frames", T, "duration_ms", ms[T-1]-ms[0], "bspm_min", mat.Min(Y), "bspm_max", mat.Max(Y),
		"forward", attrs["forward"], "torso", g.torso != nil, "truth", truth != nil, "regions", len(g.regionNames))
	if err := runfile.Save(c.Out, prob); err != nil {
		return nil, fmt.Errorf("write %s: %w", c.Out, err)
	}
	return &importSummary{Out: c.Out, Mode: "import", Nodes: n, Leads: m, Frames: T, Units: p.Units,
		DurationMS: ms[T-1] - ms[0], Forward: attrs["forward"], Torso: g.torso != nil, Truth: truth != nil,
		Regions: len(g.regionNames), Seconds: time.Since(start).Seconds(), Version: cli.BuildVersion()}, nil
}

// invalidInput turns the run-file check's error about a dataset of the
// file being made into bad input naming the flag and the file it came
// from (-bspm FILE: want at least 5 frames …), not the output, which does
// not exist yet; errors about anything else stay as they are. ms are the
// frame times: -time values rounded in the file (1017.25 Hz written to
// 1 µs) are not uniform, and -rate at their mean rate is the fix.
func invalidInput(p params, ms []float64, err error) error {
	var se *runfile.SchemaError
	if !errors.As(err, &se) {
		return cli.BadInput(err)
	}
	from := map[string]string{
		runfile.BSPM:       "-bspm " + p.BSPM,
		runfile.TruthU:     "-truth " + p.Truth,
		runfile.Time:       "-time " + p.TimeFile,
		runfile.Leads:      "-leads " + p.Leads,
		runfile.Region:     "-regions " + p.Regions,
		runfile.HeartNodes: "-heart " + p.Heart,
		runfile.HeartTris:  "-heart " + p.Heart,
		runfile.TorsoNodes: "-torso " + p.Torso,
		runfile.TorsoTris:  "-torso " + p.Torso,
	}
	if p.Forward != "" {
		from[runfile.Forward] = "-forward " + p.Forward
	}
	if p.BSPM == bspmForward {
		from[runfile.BSPM] = fmt.Sprintf("-bspm forward (R·truth of -truth %s)", p.Truth)
	}
	if p.Rate > 0 {
		from[runfile.Time] = fmt.Sprintf("-rate %g", p.Rate)
	}
	flag, ok := from[se.Dataset]
	if !ok || se.Dataset == runfile.Leads && p.Leads == "" {
		return cli.BadInput(err)
	}
	fix := ""
	if se.Dataset == runfile.Time && p.TimeFile != "" && len(ms) > 1 {
		fix = fmt.Sprintf("; if the times are rounded, give -rate %.6g (their mean rate) instead of -time", 1000*float64(len(ms)-1)/(ms[len(ms)-1]-ms[0]))
	}
	return cli.BadInputf("%s: want %s, got %s (dataset %s of the run file)%s", flag, se.Want, se.Got, se.Dataset, fix)
}

// frameTimes returns the T frame times in ms: k·1000/rate, or -time.
func frameTimes(p params, T int) ([]float64, error) {
	ms := make([]float64, T)
	if p.Rate > 0 {
		for k := range ms {
			ms[k] = 1000 * float64(k) / p.Rate
		}
		return ms, nil
	}
	v, err := readVector(p.TimeFile, "time")
	if err != nil {
		return nil, cli.BadInputf("-time %s: %w", p.TimeFile, err)
	}
	if len(v) != T {
		return nil, cli.BadInputf("-time %s: want %d times (frames of -bspm), got %d", p.TimeFile, T, len(v))
	}
	for k, t := range v {
		if math.IsNaN(t) || math.IsInf(t, 0) || k > 0 && t <= v[k-1] {
			return nil, cli.BadInputf("-time %s: want finite, strictly increasing times in ms, got %v at [%d]", p.TimeFile, t, k)
		}
	}
	if T < 2 {
		return v, nil
	}
	step := (v[T-1] - v[0]) / float64(T-1)
	units := ""
	switch rate := 1000 / step; {
	case rate > rateHz[1]:
		units = "seconds? (×1000 for ms)"
	case rate < rateHz[0]:
		units = "microseconds? (÷1000 for ms)"
	default:
		return v, nil
	}
	return nil, cli.BadInputf("-time %s: want times in ms, got a step of %.3g ms (%.3g Hz sampling, outside the %g Hz–%g kHz of an ECG recording): are they in %s",
		p.TimeFile, step, 1000/step, rateHz[0], rateHz[1]/1000, units)
}

// readForward reads the transfer matrix of -forward (nil, and the torso's
// lead count, without it): leads x heart nodes, finite, one row per lead of
// a -torso given with it. It returns R and the number of leads m (with no
// torso, the rows of R). Every failure is bad input.
func readForward(p params, g *geom) (*mat.Dense, int, error) {
	m := len(g.leads)
	if p.Forward == "" {
		return nil, m, nil
	}
	R, err := readMatrix(p.Forward, "R", -1, len(g.heart.Nodes), "leads x heart nodes")
	if err == nil {
		err = allFinite(R)
	}
	if err != nil {
		return nil, 0, cli.BadInputf("-forward %s: %w", p.Forward, err)
	}
	if rows, _ := R.Dims(); g.torso == nil {
		m = rows
	} else if rows != m {
		return nil, 0, cli.BadInputf("-forward %s: %d rows, but the torso has %d leads: want one row per lead", p.Forward, rows, m)
	}
	return R, m, nil
}

// allFinite returns an error naming the first non-finite entry of a.
func allFinite(a *mat.Dense) error {
	r, _ := a.Dims()
	for i := 0; i < r; i++ {
		for j, x := range a.RawRowView(i) {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("want finite values, got %v at [%d,%d]", x, i, j)
			}
		}
	}
	return nil
}

// importParameters is the parameters attribute of an import: its flags
// as JSON, without those of a simulation (-pace, -frames, …: refused in
// import mode, so their defaults, which would describe a simulation that
// never ran, not the recording).
func importParameters(p params) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(jsonString(p)), &m); err != nil {
		panic(err) // params always marshals to an object
	}
	for _, k := range synthOnly {
		delete(m, k)
	}
	return jsonString(m)
}

// jsonString renders v as JSON text.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
