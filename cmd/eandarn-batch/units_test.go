package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/pinn"
	"github.com/eandarn/eandarn/solver/reg"
)

// mvProblem is tinyProblem in mV: φ = −80 + 90·u on the heart (an action
// potential from −80 to +10 mV), the BSPM R·φ, with the given kind of
// potential ("" leaves the attribute out: extracellular, the mV default).
func mvProblem(potential string) *inverse.Problem {
	p := tinyProblem()
	p.TruthU.Apply(func(_, _ int, v float64) float64 { return -80 + 90*v }, p.TruthU)
	p.BSPM.Mul(p.R, p.TruthU)
	p.Attrs["units"] = "mV"
	if potential != "" {
		p.Attrs["potential"] = potential
	}
	return p
}

// TestPinnUnitsRule: a PINN run on an mV file follows the documented units
// rule. Extracellular potentials (the mV default) are refused with exit 2,
// one line naming the reason and the alternatives, nothing written.
// Transmembrane potentials in mV train through the affine link estimated
// from the Tikhonov-2 baseline: the log warns that the AP prior assumes
// action-potential-like signals, values/units_scale and units_offset are
// EstimateLink of that baseline, and the reconstruction is written in mV,
// the file's units.
func TestPinnUnitsRule(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-method", "eandarn", "-epochs", "2", "-batch-frames", "5", "-width", "6", "-noise", "0"}

	ext := filepath.Join(dir, "extracellular.h5")
	if err := runfile.Save(ext, mvProblem("")); err != nil {
		t.Fatal(err)
	}
	clitest.RefusalKeepsOutput(t, prog, "result.h5", "extracellular", func(out string) (int, string, string) {
		code, stdout, stderr := call(append(args, "-in", ext, "-out", out, "-log-level", "warn")...)
		if !strings.Contains(stderr, "tikhonov0/1/2 or stre") || !strings.Contains(stderr, "potential=transmembrane") {
			t.Errorf("refusal %q does not name the alternatives", stderr)
		}
		return code, stdout, stderr
	})

	tm := filepath.Join(dir, "transmembrane.h5")
	p := mvProblem(inverse.Transmembrane)
	if err := runfile.Save(tm, p); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "result.h5")
	code, _, stderr := call(append(args, "-in", tm, "-out", out, "-log-level", "warn")...)
	if code != 0 {
		t.Fatalf("transmembrane mV: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "assumes action-potential-like signals") {
		t.Errorf("no warning about the AP prior in the log: %q", stderr)
	}
	// The baseline's own warning (GCV at the grid's end on this toy) goes
	// to the job's log, marked, not to Go's default logger past -log-level.
	if !strings.Contains(stderr, `level=WARN msg="GCV has its minimum at the smallest λ`) || !strings.Contains(stderr, `step="units link baseline (tikhonov2)"`) {
		t.Errorf("the baseline's warning is not in the job's log: %q", stderr)
	}
	tik, _ := reg.NewTikhonov(2, reg.Options{})
	base, err := tik.Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pinn.EstimateLink(base.U)
	if err != nil {
		t.Fatal(err)
	}
	f, err := resultfile.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Scalars["values/units_scale"] != want.Scale || f.Scalars["values/units_offset"] != want.Offset || f.Attrs["units"] != "mV" {
		t.Errorf("link %g, %g in %q; want %+v in mV", f.Scalars["values/units_scale"], f.Scalars["values/units_offset"], f.Attrs["units"], want)
	}
	t.Logf("link estimated from Tikhonov-2: scale %.2f mV, offset %.2f mV (the truth's: 90, −80)", want.Scale, want.Offset)
	// In mV: the reconstruction lies around the link's range (−80…+10 mV),
	// not in the model's [0, 1].
	u := f.Matrices["reconstruction/u"]
	mean := mat.Sum(u) / float64(len(p.Time)*len(p.Heart.Nodes))
	if !(mean > want.Offset-want.Scale && mean < want.Offset+2*want.Scale) || mean > -1 {
		t.Errorf("mean reconstruction %g mV, want it in mV around the link's range %g…%g mV", mean, want.Offset, want.Offset+want.Scale)
	}
}

// TestDefaultNoiseOnRecording: the default -noise on a measured recording
// (mV or uV, signals not made as R·truth) warns that synthetic noise goes on
// top of the measured; given on purpose, on synthetic data or on R·truth it
// does not.
func TestDefaultNoiseOnRecording(t *testing.T) {
	dir := t.TempDir()
	forward := mvProblem("")
	forward.Attrs["bspm"] = "R·truth (-bspm forward)"
	files := map[string]*inverse.Problem{"recording.h5": mvProblem(""), "normalized.h5": tinyProblem(), "forward.h5": forward}
	for name, p := range files {
		if err := runfile.Save(filepath.Join(dir, name), p); err != nil {
			t.Fatal(err)
		}
	}
	const warning = "adding the default -noise to a measured recording"
	for _, tc := range []struct {
		name, in string
		extra    []string
		warn     bool
	}{
		{"recording, default noise", "recording.h5", nil, true},
		{"recording, noise given", "recording.h5", []string{"-noise", "0.01"}, false},
		{"recording, no noise", "recording.h5", []string{"-noise", "0"}, false},
		{"synthetic", "normalized.h5", nil, false},
		{"R·truth import", "forward.h5", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-in", filepath.Join(dir, tc.in), "-out", filepath.Join(t.TempDir(), "r.h5"), "-method", "tikhonov2", "-log-level", "warn"}, tc.extra...)
			code, _, stderr := call(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := strings.Contains(stderr, warning); got != tc.warn {
				t.Errorf("warning %v, want %v: %s", got, tc.warn, stderr)
			}
		})
	}
}
