package nn

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is the interpreter with Debian's torch (ENVIRONMENT.md: the first
// python3 on PATH may lack it).
const python = "/usr/bin/python3"

// requireTorch skips the test when python3 with torch is missing.
func requireTorch(t testing.TB) {
	t.Helper()
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("skipping: %s with torch not available (%v); `make deps` installs python3-torch", python, err)
	}
}

// TestTorchCrossCheck compares outputs, input derivatives and the weight
// gradient of L = Σ cy·y² + Σ_k Σ c1k·dy1k² + Σ_j Σ c2j·dy2j (a nonlinear
// loss of values and jets) with PyTorch float64 autograd
// (testdata/nn/torch_check.py), for an FNN and the ARN NN6.
func TestTorchCrossCheck(t *testing.T) {
	requireTorch(t)
	script := filepath.Join("..", "..", "testdata", "nn", "torch_check.py")
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"FNN 5x10", Config{Layers: 5, Width: 10}},
		{"ARN NN6", Config{Layers: 10, Width: 15, Blocks: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := randomNet(t, tc.cfg, 81)
			const npts = 260
			x := randomPoints(npts, 82)
			d1 := [][]float64{axis(npts, 3), randomVec(npts*In, 83)}
			d2 := [][]float64{axis(npts, 0), axis(npts, 1), axis(npts, 2)}
			cy := randomVec(npts*Out, 84)
			c1 := [][]float64{randomVec(npts*Out, 85), randomVec(npts*Out, 86)}
			c2 := [][]float64{randomVec(npts*Out, 87), randomVec(npts*Out, 88), randomVec(npts*Out, 89)}

			jc := newJetCase(npts, d1, d2, x)
			var ws Workspace
			if err := n.ForwardJet(&ws, x, d1, d2, jc.y, jc.dy1, jc.dy2); err != nil {
				t.Fatal(err)
			}
			var loss float64
			gy := make([]float64, npts*Out)
			for i, v := range jc.y {
				loss += cy[i] * v * v
				gy[i] = 2 * cy[i] * v
			}
			gd1 := make([][]float64, len(d1))
			for k := range d1 {
				gd1[k] = make([]float64, npts*Out)
				for i, v := range jc.dy1[k] {
					loss += c1[k][i] * v * v
					gd1[k][i] = 2 * c1[k][i] * v
				}
			}
			for j := range d2 {
				loss += dot(c2[j], jc.dy2[j])
			}
			grad := make([]float64, n.NumParams())
			if err := n.BackwardJet(&ws, gy, gd1, c2, grad); err != nil {
				t.Fatal(err)
			}

			dir := t.TempDir()
			in := map[string]any{
				"config": tc.cfg, "center": n.Norm.Center[:], "scale": n.Norm.Scale[:],
				"params": n.Params, "x": x, "d1": d1, "d2": d2, "cy": cy, "c1": c1, "c2": c2,
			}
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			inPath, outPath := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
			if err := os.WriteFile(inPath, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(python, script, inPath, outPath)
			if msg, err := cmd.CombinedOutput(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("%s: %v\n%s", script, err, msg)
				}
				t.Skipf("skipping: cannot run %s: %v", python, err)
			}
			var ref struct {
				Y, Grad  []float64
				Dy1, Dy2 [][]float64
				Loss     float64
			}
			raw, err = os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &ref); err != nil {
				t.Fatalf("%s: %v", outPath, err)
			}
			check := func(what string, got, want []float64) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, torch %d", what, len(got), len(want))
				}
				e := relErr(got, want)
				t.Logf("%s: relative error %.2g", what, e)
				if e > 1e-9 {
					t.Errorf("%s: relative error %g against torch", what, e)
				}
			}
			check("y", jc.y, ref.Y)
			for k := range d1 {
				check("dy1", jc.dy1[k], ref.Dy1[k])
			}
			for j := range d2 {
				check("dy2", jc.dy2[j], ref.Dy2[j])
			}
			check("loss", []float64{loss}, []float64{ref.Loss})
			check("grad", grad, ref.Grad)
		})
	}
}
