package pinn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestTorchCrossCheck compares eandarn's loss and weight gradient with an
// independent PyTorch float64 autograd implementation of the same network
// and loss (testdata/pinn/crosscheck.py rebuilds the network from the flat
// weights, Eq. 15 from the triangles, Eq. 17–18, and the AP residuals from
// the paper's formulas) for every variant, ND r_b and AD r_b included.
// It skips when /usr/bin/python3 has no torch (make deps installs it).
func TestTorchCrossCheck(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skipf("PyTorch cross-check skipped: /usr/bin/python3 cannot import torch (%v); make deps installs python3-torch", err)
	}
	p := tinyProblem(3, 12)
	rows := func(m *mat.Dense) [][]float64 {
		r, _ := m.Dims()
		out := make([][]float64, r)
		for i := range out {
			out[i] = mat.Row(nil, i, m)
		}
		return out
	}
	type result struct {
		label   string
		ld, lep float64
		grad    []float64
	}
	var cases []map[string]any
	var got []result
	for _, c := range []struct {
		name     string
		boundary bool
		frames   []int // batch frames
		nc       int
		eps      float64
	}{
		{"eandarn", false, []int{0, 1, 2, 3, 4}, 70, 0.1},
		{"eandarn", true, []int{8, 9, 10, 11}, 0, 0},
		{"epdl-nd", false, []int{1, 4, 5, 9, 11}, 0, 0.1},
		{"epdl-dnd", false, []int{2, 3, 4, 5}, 50, 0.1},
		{"epdl-ad", true, []int{0, 6, 7, 10}, 40, 0.1},
	} {
		cfg, _ := DefaultConfig(c.name)
		cfg.Boundary, cfg.EpsDelta, cfg.Seed = c.boundary, c.eps, 9
		cfg.Precision = "float64" // the cross-check is to rounding
		// The script builds the paper's inputs [x, y, z, t] on the heart
		// mesh; the eigenfunction inputs and the subdivided physics mesh
		// are checked against finite differences (TestFullLossGradient).
		cfg.LBInputs, cfg.PhysicsRefine = 0, 0
		o := setupT(t, &Method{Config: cfg}, p)
		idx := o.draw(rand.New(rand.NewPCG(4, 4)), len(c.frames), c.nc)
		ld, lep, grad := evalAt(t, o, o.net.Params, c.frames, idx)
		in := map[string]any{
			"nodes": p.Heart.Nodes, "tris": p.Heart.Tris, "times": p.Time,
			"R": rows(p.R), "Y": rows(p.BSPM),
			"layers": cfg.Layers, "width": cfg.Width, "blocks": cfg.Blocks,
			"center": o.net.Norm.Center, "scale": o.net.Norm.Scale, "params": o.net.Params,
			"lambda": cfg.Lambda, "frames": c.frames, "idx": idx,
			"lap_nd": cfg.Laplacian == ND, "time_nd": cfg.TimeDeriv == ND, "boundary": cfg.Boundary,
			"normals": p.Heart.VertexNormals(), "normal_step": cfg.NormalStep,
			"ap": map[string]float64{"a": o.ap.A, "D": o.ap.D, "k": o.ap.K, "e0": o.ap.E0,
				"mu1": o.ap.Mu1, "mu2": o.ap.Mu2, "eps_delta": o.ap.EpsDelta},
		}
		cases = append(cases, in)
		got = append(got, result{fmt.Sprintf("%s boundary=%v", c.name, c.boundary), ld, lep, grad})
	}
	buf, _ := json.Marshal(cases)
	cmd := exec.Command("/usr/bin/python3", "../../testdata/pinn/crosscheck.py")
	cmd.Stdin = bytes.NewReader(buf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("crosscheck.py: %v\n%s", err, stderr.String())
	}
	var refs []struct {
		LD, LEP float64
		Grad    []float64
	}
	if err := json.Unmarshal(outb, &refs); err != nil || len(refs) != len(got) {
		t.Fatalf("crosscheck.py output: %d results, err %v", len(refs), err)
	}
	for i, ref := range refs {
		ld, lep, grad := got[i].ld, got[i].lep, got[i].grad
		var num, den float64
		for k := range grad {
			num += (grad[k] - ref.Grad[k]) * (grad[k] - ref.Grad[k])
			den += ref.Grad[k] * ref.Grad[k]
		}
		relG := math.Sqrt(num / den)
		relD := math.Abs(ld-ref.LD) / ref.LD
		relE := math.Abs(lep-ref.LEP) / ref.LEP
		t.Logf("%s: L_D %.10g (torch %.10g)  L_EP %.10g (torch %.10g)  grad rel err %.2e", got[i].label, ld, ref.LD, lep, ref.LEP, relG)
		if relD > 1e-10 || relE > 1e-10 || relG > 1e-9 {
			t.Errorf("%s: rel errors L_D %.2e L_EP %.2e grad %.2e against PyTorch, want ≤ 1e-10, 1e-10, 1e-9", got[i].label, relD, relE, relG)
		}
	}
}
