package main

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/inverse"
)

// tinyProblem is clitest.TinyProblem with 20 frames.
func tinyProblem() *inverse.Problem { return clitest.TinyProblem(20) }

// writeRun saves tinyProblem as path (.h5 file, or a .npy folder).
func writeRun(t *testing.T, path string) {
	t.Helper()
	if err := runfile.Save(path, tinyProblem()); err != nil {
		t.Fatal(err)
	}
}

// call runs the program in-process and returns the exit status, stdout and
// stderr.
func call(args ...string) (int, string, string) { return clitest.Call(run, args...) }

func TestHelpListsEveryFlagWithDefault(t *testing.T) {
	code, out, errs := call("-h")
	if code != 0 || errs != "" {
		t.Fatalf("-h: exit %d, stderr %q", code, errs)
	}
	var c config
	fs := newFlagSet(&c)
	fs.Bool("methods", false, "") // declared by parseArgs
	lines := flagLines(out)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		line, ok := lines[f.Name]
		switch {
		case !ok:
			t.Errorf("-h does not list -%s", f.Name)
		case !strings.HasSuffix(line, "(default "+def+")"):
			t.Errorf("-h line of -%s is %q, want it to end in (default %s)", f.Name, line, def)
		}
	})
	if len(lines) != n {
		t.Errorf("-h lists %d flags, the flag set has %d", len(lines), n)
	}
	for _, name := range []string{"in", "out", "method", "noise", "seed", "lambda", "select", "device",
		"epochs", "lr", "batch-frames", "collocation", "ep-lambda", "layers", "width", "blocks",
		"checkpoint", "checkpoint-every", "resume"} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag -%s is missing", name)
		}
	}
	if !strings.Contains(out, "(default 0.01)") {
		t.Errorf("-noise default 0.01 not shown:\n%s", out)
	}
	t.Logf("-h lists %d flags", n)
}

// flagLines maps each flag name of a usage text to its "  -name ..." line.
func flagLines(usage string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  -") {
			m[strings.TrimPrefix(strings.Fields(line)[0], "-")] = line
		}
	}
	return m
}

func TestMethodsListsRegistry(t *testing.T) {
	code, out, _ := call("-methods")
	if code != 0 {
		t.Fatalf("-methods: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(registry) {
		t.Fatalf("-methods printed %d lines, want %d:\n%s", len(lines), len(registry), out)
	}
	for i, m := range registry {
		if f := strings.Fields(lines[i]); len(f) < 2 || f[0] != m.name {
			t.Errorf("line %d = %q, want method %s and its description", i, lines[i], m.name)
		}
	}
	for _, want := range []string{"tikhonov0", "tikhonov1", "tikhonov2", "stre", "epdl-ad", "epdl-dnd", "epdl-nd", "eandarn"} {
		if lookupMethod(want) == nil {
			t.Errorf("method %s not registered", want)
		}
	}
}

// TestBadInput: every bad flag or file gets exit status 2, exactly one line
// on stderr naming the problem, nothing on stdout, no output file, and an
// existing output file left as it was.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "run.h5")
	writeRun(t, good)

	// A .npy run folder whose R has one row too many for the BSPM.
	badR := filepath.Join(dir, "badR")
	writeRun(t, badR)
	p := tinyProblem()
	m, n := p.R.Dims()
	if err := npy.WriteDense(filepath.Join(badR, "forward", "R.npy"), mat.NewDense(m+1, n, nil)); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.h5")
	if err := os.WriteFile(garbage, []byte("not an HDF5 file\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string // after -out
		want string   // substring of the one stderr line
	}{
		{"unknown method", []string{"-in", good, "-method", "tikhonov9"}, `unknown method "tikhonov9"`},
		{"no method", []string{"-in", good}, "no method"},
		{"negative noise", []string{"-in", good, "-method", "tikhonov2", "-noise", "-0.1"}, "-noise -0.1"},
		{"NaN noise", []string{"-in", good, "-method", "tikhonov2", "-noise", "NaN"}, "-noise NaN"},
		{"R does not match BSPM", []string{"-in", badR, "-method", "tikhonov2"}, "forward/R"},
		{"missing file", []string{"-in", filepath.Join(dir, "nope.h5"), "-method", "tikhonov2"}, "nope.h5"},
		{"not HDF5", []string{"-in", garbage, "-method", "tikhonov2"}, "garbage.h5"},
		{"bad lambda", []string{"-in", good, "-method", "tikhonov2", "-lambda", "-3"}, "-lambda"},
		{"bad select", []string{"-in", good, "-method", "tikhonov2", "-select", "best"}, "-select"},
		{"negative sigma", []string{"-in", good, "-method", "tikhonov2", "-sigma", "-0.1"}, "-sigma -0.1"},
		{"infinite sigma", []string{"-in", good, "-method", "tikhonov2", "-sigma", "+Inf"}, "-sigma +Inf"},
		{"discrepancy without a noise level", []string{"-in", good, "-method", "tikhonov2", "-select", "discrepancy", "-noise", "0"}, "give -sigma"},
		{"bad device", []string{"-in", good, "-method", "tikhonov2", "-device", "tpu"}, "-device"},
		{"unknown flag", []string{"-in", good, "-method", "tikhonov2", "-frobnicate"}, "frobnicate"},
		{"stray argument", []string{"-in", good, "-method", "tikhonov2", "extra"}, "extra"},
		{"PINN flag on tikhonov", []string{"-in", good, "-method", "tikhonov2", "-epochs", "3"}, "-epochs does not apply to tikhonov2; it applies to epdl-ad, epdl-dnd, epdl-nd, eandarn"},
		{"Tikhonov flag on PINN", []string{"-in", good, "-method", "eandarn", "-lambda", "0.1"}, "-lambda does not apply to eandarn"},
		{"STRE flag on Tikhonov", []string{"-in", good, "-method", "tikhonov1", "-window", "2"}, "-window does not apply to tikhonov1; it applies to stre"},
		{"resume without checkpoint", []string{"-in", good, "-method", "eandarn", "-resume"}, "-resume needs -checkpoint"},
		{"ensemble on Tikhonov", []string{"-in", good, "-method", "tikhonov2", "-ensemble", "3"}, "-ensemble does not apply to tikhonov2; it applies to epdl-ad, epdl-dnd, epdl-nd, eandarn"},
		{"ensemble on STRE", []string{"-in", good, "-method", "stre", "-ensemble", "3"}, "-ensemble does not apply to stre"},
		{"ensemble of 0", []string{"-in", good, "-method", "eandarn", "-ensemble", "0"}, "-ensemble 0: want 1 to 1000 networks"},
		{"ensemble too large", []string{"-in", good, "-method", "epdl-ad", "-ensemble", "5000"}, "-ensemble 5000: want 1 to 1000"},
		{"time budget on STRE", []string{"-in", good, "-method", "stre", "-time-budget", "5m"}, "-time-budget does not apply to stre"},
		{"negative time budget", []string{"-in", good, "-method", "eandarn", "-time-budget", "-1m"}, "-time-budget -1m0s: want a duration ≥ 0"},
		{"time budget without unit", []string{"-in", good, "-method", "eandarn", "-time-budget", "600"}, "-time-budget"},
		// A budget no epoch fits in wrote the untrained network with exit 0.
		{"time budget shorter than an epoch", []string{"-in", good, "-method", "eandarn", "-time-budget", "1ns", "-log-level", "warn"}, "the time budget ended before the first epoch finished"},
		{"time budget shorter than an epoch, ensemble", []string{"-in", good, "-method", "epdl-nd", "-time-budget", "1ms", "-ensemble", "2", "-log-level", "warn"}, "ensemble member 0 of 2"},
		{"negative lr horizon", []string{"-in", good, "-method", "eandarn", "-lr-horizon", "-2"}, "lr horizon -2"},
		{"time curriculum above 1", []string{"-in", good, "-method", "eandarn", "-time-curriculum", "3"}, "time curriculum 3: want a fraction of the learning-rate horizon in [0, 1]"},
		{"time curriculum NaN", []string{"-in", good, "-method", "epdl-nd", "-time-curriculum", "NaN"}, "time curriculum NaN"},
		{"time curriculum with a linear method", []string{"-in", good, "-method", "stre", "-time-curriculum", "0.5"}, "-time-curriculum"},
		// Weights whose squares overflow: λ = 1e308 gave the λ → ∞ limit
		// with exit 0, -lambda-s 1e308 exit 1 (an eigen-decomposition of Inf).
		{"lambda whose square overflows", []string{"-in", good, "-method", "tikhonov2", "-lambda", "1e308"}, "want auto or a number in (0, 1e+150]"},
		{"lambda-s whose square overflows", []string{"-in", good, "-method", "stre", "-lambda-s", "1e308"}, "want weights in [0, 1e+150]"},
		{"lambda-t whose square overflows", []string{"-in", good, "-method", "stre", "-lambda-t", "1e200"}, "want weights in [0, 1e+150]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clitest.RefusalKeepsOutput(t, prog, "result.h5", tc.want, func(out string) (int, string, string) {
				return call(append([]string{"-out", out}, tc.args...)...)
			})
		})
	}

	t.Run("output folder missing", func(t *testing.T) {
		out := filepath.Join(dir, "missing", "result.h5")
		code, stdout, stderr := call("-in", good, "-method", "tikhonov2", "-out", out)
		clitest.CheckRefused(t, prog, code, stdout, stderr, "does not exist")
		clitest.CheckOutput(t, out, false)
	})
}

// TestTikhonovJob runs a whole job in-process and checks the JSON line, the
// result file and the noise determinism.
func TestTikhonovJob(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "run.h5")
	writeRun(t, in)
	job := func(seed string, noise string) map[string]any {
		t.Helper()
		out := filepath.Join(dir, "r-"+seed+"-"+noise+".h5")
		code, stdout, stderr := call("-in", in, "-out", out, "-method", "tikhonov2", "-seed", seed, "-noise", noise, "-log-level", "warn")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if strings.Count(stdout, "\n") != 1 {
			t.Fatalf("stdout is not one line: %q", stdout)
		}
		var s map[string]any
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"method", "noise", "seed", "re", "cc", "mse", "seconds", "version", "out"} {
			if _, ok := s[k]; !ok {
				t.Errorf("summary lacks %q: %s", k, stdout)
			}
		}
		if _, err := os.Stat(out); err != nil {
			t.Errorf("no result file: %v", err)
		}
		return s
	}
	a, b, c := job("1", "0.01"), job("1", "0.01"), job("2", "0.01")
	clean := job("1", "0")
	if a["re"] != b["re"] {
		t.Errorf("same seed, different RE: %v vs %v", a["re"], b["re"])
	}
	if a["re"] == c["re"] {
		t.Errorf("seeds 1 and 2 gave the same RE %v: is the noise seeded?", a["re"])
	}
	for _, s := range []map[string]any{a, clean} {
		re, ok := s["re"].(float64)
		if !ok || !(re < 0.5) {
			t.Errorf("σ = %v: RE %v, want a finite RE < 0.5 on this well-posed toy", s["noise"], s["re"])
		}
	}
	if a["method"] != "tikhonov2" || a["noise"] != 0.01 || a["seed"] != 1.0 {
		t.Errorf("summary echoes method %v noise %v seed %v", a["method"], a["noise"], a["seed"])
	}
}

// TestSigma: -sigma is the noise already in the data. It adds nothing, and
// the discrepancy principle then fits the data to ‖Y − RU‖_F = √(mT)·σ
// with σ = √(sigma² + noise²) when the job also adds noise.
func TestSigma(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "run.h5")
	writeRun(t, in)
	p := tinyProblem()
	m, _ := p.R.Dims()
	_, frames := p.BSPM.Dims()
	for _, c := range []struct {
		sigma, noise string
		want         float64 // σ the rule must use
	}{
		{"0.02", "0", 0.02},
		{"0.02", "0.01", math.Sqrt(0.02*0.02 + 0.01*0.01)},
	} {
		out := filepath.Join(dir, "sigma-"+c.sigma+"-"+c.noise+".h5")
		code, _, stderr := call("-in", in, "-out", out, "-method", "tikhonov2", "-select", "discrepancy",
			"-sigma", c.sigma, "-noise", c.noise, "-log-level", "warn")
		if code != 0 {
			t.Fatalf("-sigma %s -noise %s: exit %d: %s", c.sigma, c.noise, code, stderr)
		}
		f, err := resultfile.Read(out)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := f.Scalars["values/residual_norm"], math.Sqrt(float64(m*frames))*c.want; math.Abs(got-want) > 1e-6*want {
			t.Errorf("-sigma %s -noise %s: ‖Y − RU‖ = %.8g, want √(mT)·σ = %.8g", c.sigma, c.noise, got, want)
		}
		if f.Scalars["values/lambda"] != f.Scalars["values/lambda_discrepancy"] {
			t.Errorf("-sigma %s: λ %g is not the discrepancy λ %g", c.sigma, f.Scalars["values/lambda"], f.Scalars["values/lambda_discrepancy"])
		}
		if c.noise == "0" {
			// Nothing added: the clean data and a fixed λ reproduce U.
			clean := filepath.Join(dir, "clean.h5")
			lambda := strconv.FormatFloat(f.Scalars["values/lambda"], 'g', -1, 64)
			if code, _, stderr := call("-in", in, "-out", clean, "-method", "tikhonov2", "-lambda", lambda, "-noise", "0", "-log-level", "warn"); code != 0 {
				t.Fatalf("fixed λ: exit %d: %s", code, stderr)
			}
			g, err := resultfile.Read(clean)
			if err != nil {
				t.Fatal(err)
			}
			if !mat.EqualApprox(f.Matrices["reconstruction/u"], g.Matrices["reconstruction/u"], 1e-12) {
				t.Error("-sigma changed the data: the reconstruction differs from the clean one at the same λ")
			}
		}
	}
}

// TestPinnJob runs a two-epoch eandarn job in-process and reads the result
// back: the reconstruction has v, the loss history and the step-0 ratio
// are recorded, and the PINN flags given reach the method's configuration.
func TestPinnJob(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "run.h5"), filepath.Join(dir, "result.h5")
	writeRun(t, in)
	code, stdout, stderr := call("-in", in, "-out", out, "-method", "eandarn", "-epochs", "2", "-batch-frames", "5",
		"-width", "6", "-ep-lambda", "0.3", "-seed", "4", "-device", "cpu", "-log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.RE == nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	f, err := resultfile.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Matrices["reconstruction/v"]; !ok {
		t.Error("no reconstruction/v")
	}
	for _, k := range []string{"series/loss_data", "series/loss_ep"} {
		if len(f.Vectors[k]) != 2 {
			t.Errorf("%s has %d entries, want one per epoch (2)", k, len(f.Vectors[k]))
		}
	}
	// RE of Eq. 19 by hand: ‖û − u‖_F / ‖u‖_F against the truth.
	truth := tinyProblem().TruthU
	var d mat.Dense
	d.Sub(f.Matrices["reconstruction/u"], truth)
	re := mat.Norm(&d, 2) / mat.Norm(truth, 2)
	if math.Abs(*s.RE-re) > 1e-12*re || math.Abs(f.Scalars["metrics/re"]-re) > 1e-12*re {
		t.Errorf("RE: summary %v, file %v, by hand %v", *s.RE, f.Scalars["metrics/re"], re)
	}
	if _, ok := f.Scalars["values/ratio0"]; !ok {
		t.Error("no values/ratio0")
	}
	var cfg struct {
		Batch  config         `json:"batch"`
		Method map[string]any `json:"method"`
	}
	if err := json.Unmarshal([]byte(f.Attrs["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Method["Width"] != 6.0 || cfg.Method["Lambda"] != 0.3 || cfg.Method["Epochs"] != 2.0 || cfg.Method["Seed"] != 4.0 {
		t.Errorf("method config %v does not carry -width 6 -ep-lambda 0.3 -epochs 2 -seed 4", cfg.Method)
	}
	if cfg.Method["device"] != "cpu" || cfg.Batch.Device != "cpu" {
		t.Errorf("device: method config %v, batch config %q; want the cpu backend recorded in both", cfg.Method["device"], cfg.Batch.Device)
	}
	if cfg.Batch.Pinn["width"] != "6" || f.Attrs["seed"] != "4" {
		t.Errorf("batch config %+v, seed attribute %q", cfg.Batch, f.Attrs["seed"])
	}
}

// TestResumeOtherConfigRefused: a checkpoint written by one configuration
// is refused by another with one line and exit status 2, and no result is
// written or changed.
func TestResumeOtherConfigRefused(t *testing.T) {
	dir := t.TempDir()
	in, ckpt := filepath.Join(dir, "run.h5"), filepath.Join(dir, "run.ckpt")
	writeRun(t, in)
	base := []string{"-in", in, "-method", "eandarn", "-epochs", "1", "-batch-frames", "5", "-width", "6",
		"-checkpoint", ckpt, "-log-level", "warn"}
	if code, _, stderr := call(append(base, "-out", filepath.Join(dir, "first.h5"))...); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint after the first run: %v", err)
	}
	clitest.RefusalKeepsOutput(t, prog, "result.h5", "checkpoint from another configuration", func(out string) (int, string, string) {
		return call(append(base, "-out", out, "-resume", "-ep-lambda", "0.3")...)
	})
}

// TestNoiseInFileUnits: -noise is a std in the run file's units, so the
// solving line says which units and what the noise is next to the signal
// (σ / rms of the clean BSPM): 0.05 is 10% of a normalized dataset's rms
// but 1e-4 of the Utah sock's in uV; a noise larger than the signal warns.
func TestNoiseInFileUnits(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "run.h5")
	writeRun(t, in)
	p := tinyProblem()
	m, T := p.BSPM.Dims()
	want := 0.01 / (mat.Norm(p.BSPM, 2) / math.Sqrt(float64(m*T)))
	code, _, stderr := call("-in", in, "-out", filepath.Join(dir, "r.h5"), "-method", "tikhonov2", "-noise", "0.01", "-progress", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := regexp.MustCompile(`msg=solving .* units=normalized noise_to_bspm_rms=(\S+)`).FindStringSubmatch(stderr)
	if got == nil {
		t.Fatalf("no solving line with units and noise_to_bspm_rms in %s", stderr)
	}
	if r, err := strconv.ParseFloat(got[1], 64); err != nil || math.Abs(r-want) > 1e-9*want {
		t.Errorf("noise_to_bspm_rms %s, want %g", got[1], want)
	}
	const drowns = "-noise is larger than the BSPM's rms"
	if strings.Contains(stderr, drowns) {
		t.Errorf("σ %.2g of the rms: warned %q", want, drowns)
	}
	// A noise above the signal's rms (here 1/want times the σ above) warns.
	code, _, stderr = call("-in", in, "-out", filepath.Join(dir, "r2.h5"), "-method", "tikhonov2", "-noise", strconv.FormatFloat(0.02/want, 'g', -1, 64), "-progress", "0")
	if code != 0 || !strings.Contains(stderr, "level=WARN msg=\""+drowns) {
		t.Errorf("noise twice the rms: exit %d, no warning %q in:\n%s", code, drowns, stderr)
	}
}

// TestExactData: a run file whose BSPM is R times the truth (the bspm
// attribute eandarn-synth writes), solved without noise, is exact data:
// the λ rules keep GCV's λ (values/exact_data 1). Adding noise, giving the
// data's noise level, or a file that does not say so makes it ordinary.
func TestExactData(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, attr string
		args       []string
		exact      float64
	}{
		{"simulation, no noise", runfile.BSPMExactSim, []string{"-noise", "0"}, 1},
		{"import of R·truth, no noise", runfile.BSPMExactImport, []string{"-noise", "0"}, 1},
		{"simulation, noise added", runfile.BSPMExactSim, []string{"-noise", "0.01"}, 0},
		{"simulation, known noise", runfile.BSPMExactSim, []string{"-noise", "0", "-sigma", "0.01"}, 0},
		{"no attribute", "", []string{"-noise", "0"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := tinyProblem()
			if c.attr != "" {
				p.Attrs[runfile.BSPMAttr] = c.attr
			}
			in := filepath.Join(t.TempDir(), "run.h5")
			if err := runfile.Save(in, p); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := call(append([]string{"-in", in, "-out", filepath.Join(dir, c.name+".h5"), "-method", "tikhonov2", "-log-level", "warn"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var s struct{ Values map[string]float64 }
			if err := json.Unmarshal([]byte(stdout), &s); err != nil {
				t.Fatal(err)
			}
			if v := s.Values; v["exact_data"] != c.exact || c.exact == 1 && v["lambda"] != v["lambda_gcv"] {
				t.Errorf("exact_data %v (want %v), λ %.3g, GCV's %.3g", v["exact_data"], c.exact, v["lambda"], v["lambda_gcv"])
			}
		})
	}
}
