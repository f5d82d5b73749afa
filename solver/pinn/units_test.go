package pinn

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
)

// fixed is a Method that records the problem it is given and returns U.
type fixed struct {
	got *inverse.Problem
	U   *mat.Dense
}

func (f *fixed) Solve(_ context.Context, p *inverse.Problem) (*inverse.Result, error) {
	f.got = p
	return &inverse.Result{U: f.U, Values: map[string]float64{"lambda": 7}}, nil
}

// unitsProblem is a 3-node, 2-lead, 4-frame recording in units with a
// transfer matrix whose rows do not sum to 1 (so R·1 matters).
func unitsProblem(units string) *inverse.Problem {
	return &inverse.Problem{
		R:      mat.NewDense(2, 3, []float64{0.5, 0.25, 0.25, 1, 1, 0}),
		BSPM:   mat.NewDense(2, 4, []float64{1, 2, 3, 4, -1, 0, 1, 2}),
		TruthU: mat.NewDense(3, 4, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}),
		Time:   []float64{0, 1, 2, 3},
		Attrs:  map[string]string{"units": units},
	}
}

// The units rule: on normalized data Units is the method itself; on
// extracellular mV data (the default for mV) it refuses with ErrUnits
// before any training; on transmembrane mV data it estimates the link from
// the baseline, trains on y mapped by (y − c·R1)/s (and the truth by
// (u − c)/s, for monitoring), maps the reconstruction back by c + s·û,
// records scale, offset and the baseline's values, and warns in the log
// that the AP prior assumes action-potential-like signals.
func TestUnits(t *testing.T) {
	inner := &fixed{U: mat.NewDense(3, 4, []float64{0, 0.5, 1, 1, 0, 0, 0.5, 1, 0, 0, 0, 0.5})}
	// A baseline as a linear reconstruction of action potentials from −80
	// to +10 mV gives: 60% of its values spread within ±2 mV of rest, 35%
	// of the plateau, and 5% overshooting from −110 to +40 mV. The link
	// takes the two modes, not the overshooting extremes.
	baseU := mat.NewDense(10, 100, nil)
	for k := range baseU.RawMatrix().Data {
		f := float64(k%100) / 100
		switch {
		case f < 0.6:
			baseU.RawMatrix().Data[k] = -80 + 2*math.Sin(float64(k))
		case f < 0.95:
			baseU.RawMatrix().Data[k] = 10 + 2*math.Sin(float64(k))
		default:
			baseU.RawMatrix().Data[k] = -110 + 150*(f-0.95)/0.05
		}
	}
	l, err := EstimateLink(baseU)
	if err != nil || math.Abs(l.Offset+80) > 2 || math.Abs(l.Scale-90) > 3 {
		t.Fatalf("EstimateLink: %+v, %v; want offset −80 ± 2, scale 90 ± 3 (the modes)", l, err)
	}
	var logs bytes.Buffer
	u := &Units{Method: inner, Baseline: &fixed{U: baseU}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}

	p := unitsProblem("normalized")
	res, err := u.Solve(context.Background(), p)
	if err != nil || inner.got != p || res.U != inner.U || res.Values["units_scale"] != 0 || logs.Len() != 0 {
		t.Fatalf("normalized: err %v, problem passed through %v, U passed through %v, values %v, log %q",
			err, inner.got == p, res.U == inner.U, res.Values, logs.String())
	}

	inner.got = nil
	p = unitsProblem("mV")
	if _, err := u.Solve(context.Background(), p); !errors.Is(err, ErrUnits) || !strings.Contains(err.Error(), "extracellular") || inner.got != nil {
		t.Fatalf("extracellular mV: error %v, trained %v; want an ErrUnits refusal before training", err, inner.got != nil)
	}

	p.Attrs["potential"] = inverse.Transmembrane
	if res, err = u.Solve(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	r1 := []float64{1, 2} // row sums of R
	for i := 0; i < 2; i++ {
		for k := 0; k < 4; k++ {
			want := (p.BSPM.At(i, k) - l.Offset*r1[i]) / l.Scale
			if got := inner.got.BSPM.At(i, k); math.Abs(got-want) > 1e-15 {
				t.Fatalf("model-unit BSPM[%d,%d] = %g, want %g", i, k, got, want)
			}
		}
	}
	for i := 0; i < 3; i++ {
		for k := 0; k < 4; k++ {
			if got, want := res.U.At(i, k), l.Offset+l.Scale*inner.U.At(i, k); got != want {
				t.Fatalf("reconstruction[%d,%d] = %g, want %g (file units)", i, k, got, want)
			}
			if got, want := inner.got.TruthU.At(i, k), (p.TruthU.At(i, k)-l.Offset)/l.Scale; math.Abs(got-want) > 1e-15 {
				t.Fatalf("model-unit truth[%d,%d] = %g, want %g", i, k, got, want)
			}
		}
	}
	if p.BSPM.At(0, 0) != 1 || p.TruthU.At(0, 1) != 1 {
		t.Error("the caller's problem was changed")
	}
	if res.Values["units_scale"] != l.Scale || res.Values["units_offset"] != l.Offset || res.Values["units_baseline_lambda"] != 7 {
		t.Errorf("values %v: want units_scale %g, units_offset %g, units_baseline_lambda 7", res.Values, l.Scale, l.Offset)
	}
	if !strings.Contains(logs.String(), "assumes action-potential-like signals") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("log %q does not warn about the AP prior", logs.String())
	}

	// A baseline without spread cannot be scaled.
	u.Baseline = &fixed{U: mat.NewDense(3, 4, nil)}
	if _, err := u.Solve(context.Background(), p); err == nil || !strings.Contains(err.Error(), "no spread") {
		t.Errorf("flat baseline: error %v", err)
	}
}
