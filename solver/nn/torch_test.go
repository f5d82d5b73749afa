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
			const npts, k1, k2 = 260, 2, 3
			x := randomPoints(npts, 82)
			dirs := [][]float64{axis(npts, 3), randomVec(in*npts, 83), axis(npts, 0), axis(npts, 1), axis(npts, 2)}
			cy := randomVec(npts*Out, 84)
			c1 := [][]float64{randomVec(npts*Out, 85), randomVec(npts*Out, 86)}
			c2 := [][]float64{randomVec(npts*Out, 87), randomVec(npts*Out, 88), randomVec(npts*Out, 89)}

			hp := newHostPass(t, n, k1, k2, npts)
			y := hp.forward(x, dirs)
			// Channel c of the outputs, point-major (npts x 2) as the
			// script takes and returns them.
			channel := func(v []float64, c int) []float64 {
				out := make([]float64, npts*Out)
				for o := range Out {
					for p := range npts {
						out[p*Out+o] = v[(c*Out+o)*npts+p]
					}
				}
				return out
			}
			var loss float64
			gy := make([]float64, len(y))
			setChannel := func(c int, g []float64) {
				for o := range Out {
					for p := range npts {
						gy[(c*Out+o)*npts+p] = g[p*Out+o]
					}
				}
			}
			val := channel(y, 0)
			g := make([]float64, npts*Out)
			for i, v := range val {
				loss += cy[i] * v * v
				g[i] = 2 * cy[i] * v
			}
			setChannel(0, g)
			for k := range k1 {
				v1 := channel(y, 1+k)
				g := make([]float64, npts*Out)
				for i, v := range v1 {
					loss += c1[k][i] * v * v
					g[i] = 2 * c1[k][i] * v
				}
				setChannel(1+k, g)
			}
			for j := range k2 {
				loss += dot(c2[j], channel(y, 1+k1+j))
				setChannel(1+k1+j, c2[j])
			}
			grad := hp.backward(gy)

			// The script takes points and directions point-major (npts x 4).
			pointMajor := func(v []float64) []float64 {
				out := make([]float64, len(v))
				for j := range in {
					for p := range npts {
						out[p*in+j] = v[j*npts+p]
					}
				}
				return out
			}
			d1 := [][]float64{pointMajor(dirs[0]), pointMajor(dirs[1])}
			d2 := [][]float64{pointMajor(dirs[2]), pointMajor(dirs[3]), pointMajor(dirs[4])}

			dir := t.TempDir()
			in := map[string]any{
				"config": tc.cfg, "center": n.Norm.Center[:], "scale": n.Norm.Scale[:],
				"params": n.Params, "x": pointMajor(x), "d1": d1, "d2": d2, "cy": cy, "c1": c1, "c2": c2,
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
			check("y", channel(y, 0), ref.Y)
			for k := range k1 {
				check("dy1", channel(y, 1+k), ref.Dy1[k])
			}
			for j := range k2 {
				check("dy2", channel(y, 1+k1+j), ref.Dy2[j])
			}
			check("loss", []float64{loss}, []float64{ref.Loss})
			check("grad", grad, ref.Grad)
		})
	}
}
