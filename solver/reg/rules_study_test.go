package reg

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/synth"
)

// ruleCase is one Tikhonov-2 problem of the λ-rule study: data, the
// inverse model (heart mesh and R), the truth, and whether its errors are
// white noise only.
type ruleCase struct {
	name  string
	heart *mesh.Mesh
	r, y  *mat.Dense
	truth *mat.Dense
	white bool
}

// TestAccuracyLambdaRules is the study behind the default λ rule (README
// "Which λ rule, and why"): Tikhonov-2 with every rule on white noise,
// correlated noise and modelling error, against the truth-optimal λ of a
// 60-value grid. It checks the two claims of the guarded rule: on white
// noise it is GCV; where GCV fails (RE above 1) it lands within 1.5 times
// the best RE. The table is logged. EANDARN_ACCURACY=1 (a few minutes).
func TestAccuracyLambdaRules(t *testing.T) {
	if os.Getenv("EANDARN_ACCURACY") == "" {
		t.Skip("set EANDARN_ACCURACY=1 to run the λ-rule study")
	}
	var cases []ruleCase
	p, err := synth.Default()
	if err != nil {
		t.Fatal(err)
	}
	rms := func(y *mat.Dense) float64 { return mat.Norm(y, 2) / math.Sqrt(float64(len(y.RawMatrix().Data))) }
	for _, sigma := range []float64{0.01, 0.05, 0.1} {
		cases = append(cases, ruleCase{fmt.Sprintf("default, white σ %g", sigma), p.Heart, p.R, inverse.AddNoise(p.BSPM, sigma, 1), p.TruthU, true})
	}
	pos := make([][3]float64, len(p.Leads))
	for i, l := range p.Leads {
		pos[i] = p.Torso.Nodes[l]
	}
	_, frames := p.BSPM.Dims()
	for _, c := range []struct{ w, corr, white float64 }{{50, 0.01, 0}, {100, 0.02, 0.005}} {
		var y mat.Dense
		y.Add(p.BSPM, correlatedNoise(pos, frames, c.w, c.corr, 3))
		cases = append(cases, ruleCase{fmt.Sprintf("default, correlated σ %g over %g mm + white %g", c.corr, c.w, c.white), p.Heart, p.R, inverse.AddNoise(&y, c.white, 1), p.TruthU, false})
	}
	for _, shift := range []float64{5, 10} {
		// Data from the heart displaced, inverted with the heart in place.
		rs, err := forward.TransferMatrix(moved(p.Heart, shift), p.Torso, p.Leads)
		if err != nil {
			t.Fatal(err)
		}
		var y mat.Dense
		y.Mul(rs, p.TruthU)
		cases = append(cases, ruleCase{fmt.Sprintf("default, heart %g mm off + white 0.01", shift), p.Heart, p.R, inverse.AddNoise(&y, 0.01, 1), p.TruthU, false})
	}
	e := ecgsimCase(t)
	cases = append(cases, ruleCase{"ECGSim ventricles, white σ 0.05", e.heart, e.r, inverse.AddNoise(e.y, 0.05, 1), e.u, true})
	sock, tank, a, us := loadSock(t)
	rb, err := forward.TransferMatrix(sock, tank, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ys mat.Dense
	ys.Mul(a, us)
	cases = append(cases,
		ruleCase{"Utah sock, stored R → own BEM", sock, rb, &ys, us, false},
		ruleCase{"Utah sock, stored R → own BEM, white 1%", sock, rb, inverse.AddNoise(&ys, 0.01*rms(&ys), 1), us, false})
	heart, tank3, leads, u3 := loadHeart337(t)
	r3, err := forward.TransferMatrix(heart, tank3, leads)
	if err != nil {
		t.Fatal(err)
	}
	var y3 mat.Dense
	y3.Mul(r3, u3)
	y3n := inverse.AddNoise(&y3, 0.01*rms(&y3), 1)
	for _, shift := range []float64{5, 10} {
		rm, err := forward.TransferMatrix(moved(heart, shift), tank3, leads)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, ruleCase{fmt.Sprintf("Utah heart, inverted %g mm off, white 1%%", shift), heart, rm, y3n, u3, false})
	}

	var table strings.Builder
	fmt.Fprintf(&table, "\n| case | GCV | RGCV | L-curve | default (guarded) | best λ | ‖U_gcv‖/‖U_corner‖ | GCV rejected | disagreement |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cases {
		re := map[string]float64{}
		var def map[string]float64
		for _, sel := range []string{SelectGCV, SelectRGCV, SelectLCurve, SelectGuarded} {
			res := tikhonov2(t, c.heart, c.r, c.y, sel)
			re[sel] = relDiff(res.U, c.truth)
			def = res.Values
		}
		best, _ := bestGridRE(t, c.r, c.heart, c.y, c.truth, 60)
		fmt.Fprintf(&table, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3g | %g | %.3g |\n", c.name, re[SelectGCV], re[SelectRGCV], re[SelectLCurve], re[SelectGuarded], best, def["gcv_norm_ratio"], def["gcv_rejected"], def["lambda_disagreement"])
		if c.white && re[SelectGuarded] != re[SelectGCV] {
			t.Errorf("%s: default RE %.4f, GCV %.4f: on white noise the default must be GCV", c.name, re[SelectGuarded], re[SelectGCV])
		}
		if re[SelectGCV] > 1 && re[SelectGuarded] > 1.5*best {
			t.Errorf("%s: GCV fails (RE %.3g) and the default RE %.4f is above 1.5× the best %.4f", c.name, re[SelectGCV], re[SelectGuarded], best)
		}
	}
	t.Log(table.String())
}
