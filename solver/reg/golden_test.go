package reg

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate the golden files in testdata/reg")

// goldenPath is the fixture file, at the repository root's testdata/reg.
var goldenPath = filepath.Join("..", "..", "testdata", "reg", "selections.json")

// TestGoldenSelections pins the parameters every rule picks, and the
// resulting relative errors, on the seeded small problems, so that a change
// in the sweep, the grids or the rules shows up as a diff. Regenerate with
// go test ./solver/reg -run Golden -update after checking the new values.
func TestGoldenSelections(t *testing.T) {
	ctx := context.Background()
	got := map[string]float64{}
	r, u, y := smallProblem(40, 60, 10, 1e-3, 4)
	for order := 0; order <= 2; order++ {
		gamma := pathOperator(t, order, 60)
		for _, sel := range Selectors {
			res, err := SolveTikhonov(ctx, r, gamma, y, Options{Select: sel, Sigma: 1e-3})
			if err != nil {
				t.Fatalf("order %d %s: %v", order, sel, err)
			}
			key := fmt.Sprintf("tikhonov%d_%s", order, sel)
			got[key+"_lambda"] = res.Values["lambda"]
			got[key+"_re"] = relDiff(res.U, u)
			got[key+"_corners"] = res.Values["corners"]
			if sel == SelectGuarded {
				got[key+"_disagreement"] = res.Values["lambda_disagreement"]
				got[key+"_gcv_rejected"] = res.Values["gcv_rejected"]
			}
		}
	}
	r, u, y = smallProblem(30, 40, 40, 3e-2, 8)
	res, err := SolveSTRE(ctx, r, pathOperator(t, 2, 40), y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"lambda_s", "lambda_t", "window"} {
		got["stre_"+k] = res.Values[k]
	}
	got["stre_re"] = relDiff(res.U, u)

	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read golden file (regenerate with -update): %v", err)
	}
	want := map[string]float64{}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("golden file %s: %v", goldenPath, err)
	}
	if len(want) != len(got) {
		t.Errorf("golden file has %d values, the test computes %d", len(want), len(got))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || math.Abs(g-w) > 1e-6*math.Max(math.Abs(w), 1e-3) {
			t.Errorf("%s = %.10g, golden %.10g", k, g, w)
		}
	}
}
