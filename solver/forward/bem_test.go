package forward

import (
	"math"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// legendre returns P_l(c) for l = 1, 2, 3: P_l(x̂·a) is a spherical harmonic
// of degree l, zonal about the unit axis a.
func legendre(l int, c float64) float64 {
	switch l {
	case 1:
		return c
	case 2:
		return (3*c*c - 1) / 2
	default:
		return (5*c*c*c - 3*c) / 2
	}
}

// sphereGain is the exact ratio of outer to inner potential for degree l on
// concentric spheres r1 < r2 with an insulated outer sphere (DESIGN §3):
//
//	h_l = (2l+1) r1^(l+1) r2^l / ((l+1) r1^(2l+1) + l r2^(2l+1)) .
func sphereGain(l int, r1, r2 float64) float64 {
	fl := float64(l)
	return (2*fl + 1) * math.Pow(r1, fl+1) * math.Pow(r2, fl) /
		((fl+1)*math.Pow(r1, 2*fl+1) + fl*math.Pow(r2, 2*fl+1))
}

// sphereErrors returns the relative error ‖R y_l − h_l z_l‖/‖h_l z_l‖ for
// l = 1, 2, 3 (y_l, z_l: P_l(x̂·a) at the inner and outer nodes) and the
// largest |Σ_j R_ij − 1| for icospheres of the given level, r1 = 1, r2 = 2.
func sphereErrors(t *testing.T, level int) (rel [3]float64, rowSum float64) {
	t.Helper()
	inner, outer := geometry.Icosphere(level, 1), geometry.Icosphere(level, 2)
	R, err := TransferMatrix(inner, outer, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A generic axis, so that the harmonics are not aligned with the
	// icosphere's symmetry axes.
	a := scale([3]float64{0.3, -0.5, 0.81}, 1/norm([3]float64{0.3, -0.5, 0.81}))
	for l := 1; l <= 3; l++ {
		y := mat.NewVecDense(len(inner.Nodes), nil)
		for j, x := range inner.Nodes {
			y.SetVec(j, legendre(l, dot(x, a)/norm(x)))
		}
		var got mat.VecDense
		got.MulVec(R, y)
		hl := sphereGain(l, 1, 2)
		var num, den float64
		for i, x := range outer.Nodes {
			want := hl * legendre(l, dot(x, a)/norm(x))
			num += (got.AtVec(i) - want) * (got.AtVec(i) - want)
			den += want * want
		}
		rel[l-1] = math.Sqrt(num / den)
	}
	r, c := R.Dims()
	for i := range r {
		var s float64
		for j := range c {
			s += R.At(i, j)
		}
		rowSum = math.Max(rowSum, math.Abs(s-1))
	}
	return rel, rowSum
}

// TestConcentricSpheres checks the BEM against the analytic solution for
// concentric spheres r1 = 1 (potentials prescribed) and r2 = 2 (insulated):
// under 1% relative error for l = 1, 2, 3 at 642 nodes per sphere, smaller
// errors at 642 than at 162 nodes, and R·1 = 1 within 1e-9.
func TestConcentricSpheres(t *testing.T) {
	if g := sphereGain(1, 1, 2); math.Abs(g-0.6) > 1e-15 {
		t.Fatalf("h_1 = %g, want 0.6", g)
	}
	if g := sphereGain(2, 1, 2); math.Abs(g-20.0/67) > 1e-15 {
		t.Fatalf("h_2 = %g, want 20/67", g)
	}
	coarse, rsC := sphereErrors(t, 2)
	fine, rsF := sphereErrors(t, 3)
	for l := 1; l <= 3; l++ {
		t.Logf("l=%d h_l=%.6f: relative error %.4f%% at 162 nodes, %.4f%% at 642 nodes", l, sphereGain(l, 1, 2), 100*coarse[l-1], 100*fine[l-1])
		if fine[l-1] >= 0.01 {
			t.Errorf("l=%d: relative error %.3g at 642 nodes, want < 1%%", l, fine[l-1])
		}
		if fine[l-1] >= coarse[l-1] {
			t.Errorf("l=%d: error does not shrink with refinement: %.3g (162) -> %.3g (642)", l, coarse[l-1], fine[l-1])
		}
	}
	t.Logf("max |row sum − 1|: %.2g (162), %.2g (642)", rsC, rsF)
	if rsC > 1e-9 || rsF > 1e-9 {
		t.Errorf("rows of R sum to 1 within %.2g / %.2g, want 1e-9", rsC, rsF)
	}
}

func TestTransferMatrixLeads(t *testing.T) {
	inner, outer := geometry.Icosphere(1, 1), geometry.Icosphere(1, 2)
	full, err := TransferMatrix(inner, outer, nil)
	if err != nil {
		t.Fatal(err)
	}
	leads := []int{5, 0, 41}
	sub, err := TransferMatrix(inner, outer, leads)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := sub.Dims(); r != 3 || c != 42 {
		t.Fatalf("lead subset: %dx%d, want 3x42", r, c)
	}
	for l, j := range leads {
		if !mat.Equal(sub.RowView(l), full.RowView(j)) {
			t.Errorf("lead row %d differs from full row %d", l, j)
		}
	}
}

// TestTransferMatrixOrientationInvariant: an inward-wound torso (as in the
// Utah tank files) gives the same R, because the meshes are oriented first.
func TestTransferMatrixOrientationInvariant(t *testing.T) {
	inner, outer := geometry.Icosphere(1, 1), geometry.Icosphere(1, 2)
	want, err := TransferMatrix(inner, outer, nil)
	if err != nil {
		t.Fatal(err)
	}
	flipped := &mesh.Mesh{Nodes: outer.Nodes}
	for _, tr := range outer.Tris {
		flipped.Tris = append(flipped.Tris, [3]int{tr[0], tr[2], tr[1]})
	}
	before := append([][3]int(nil), flipped.Tris...)
	got, err := TransferMatrix(inner, flipped, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(got, want, 1e-12) {
		t.Error("R changed when the torso winding was reversed")
	}
	for k := range before {
		if flipped.Tris[k] != before[k] {
			t.Fatalf("TransferMatrix modified its input mesh: triangle %d %v -> %v", k, before[k], flipped.Tris[k])
		}
	}
}

func TestTransferMatrixBadInput(t *testing.T) {
	small, big := geometry.Icosphere(1, 1), geometry.Icosphere(1, 2)
	open := &mesh.Mesh{Nodes: big.Nodes, Tris: big.Tris[1:]}
	shifted := geometry.Icosphere(1, 1)
	for i := range shifted.Nodes {
		shifted.Nodes[i][0] += 1.5 // pokes out of the radius-2 torso
	}
	// A torso with one node pulled in to radius 0.5, into the unit heart: a
	// thin spike between heart nodes, so the heart nodes stay inside.
	spiked := geometry.Icosphere(3, 2)
	spiked.Nodes[100] = scale(spiked.Nodes[100], 0.25)
	// An STL-style torso: every triangle with its own three nodes.
	unmerged := &mesh.Mesh{}
	for _, tr := range big.Tris {
		k := len(unmerged.Nodes)
		unmerged.Nodes = append(unmerged.Nodes, big.Nodes[tr[0]], big.Nodes[tr[1]], big.Nodes[tr[2]])
		unmerged.Tris = append(unmerged.Tris, [3]int{k, k + 1, k + 2})
	}
	tests := []struct {
		name         string
		heart, torso *mesh.Mesh
		leads        []int
		want         string
	}{
		{"heart and torso swapped", big, small, nil, "torso does not enclose the heart: heart node 0 at (-1.051, 1.701, 0) mm is outside the torso (42 of 42 heart nodes outside); the whole torso is inside the heart: heart and torso swapped?"},
		{"torso in metres", small, scaledMesh(big, 1e-3), nil, "(42 of 42 heart nodes outside); the torso is 0.00693 mm across (bounding-box diagonal), the heart 3.46 mm: are they in different units?"},
		{"unmerged torso", small, unmerged, nil, "torso mesh is not closed: 240 boundary edges (first 0-1); the BEM needs closed surfaces; 198 nodes sit exactly on an earlier node (node 5 on node 1): unmerged vertices, as an STL export writes? merge them"},
		{"heart pokes out", shifted, big, nil, "torso does not enclose the heart"},
		{"open torso", small, open, nil, "torso mesh is not closed"},
		{"torso node inside heart", small, spiked, nil, "heart and torso intersect: torso node 100"},
		{"open heart", open, geometry.Icosphere(1, 5), nil, "heart mesh is not closed"},
		{"lead out of range", small, big, []int{0, 42}, "lead 1 is torso node 42"},
		{"empty heart", &mesh.Mesh{}, big, nil, "heart mesh is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TransferMatrix(tc.heart, tc.torso, tc.leads)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
			// CheckNesting finds the same, but for the leads.
			if err := CheckNesting(tc.heart, tc.torso); tc.leads == nil && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckNesting: %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// defaultR is the transfer matrix of the built-in dataset geometry.
func defaultR(tb testing.TB) *mat.Dense {
	tb.Helper()
	heart := geometry.Heart()
	torso, leads := geometry.Torso(heart)
	R, err := TransferMatrix(heart, torso, leads)
	if err != nil {
		tb.Fatal(err)
	}
	return R
}

// BenchmarkDefaultTransferMatrix times R for Heart() (1094 nodes) and
// Torso() (352 nodes): geometry excluded, assembly + elimination included.
func BenchmarkDefaultTransferMatrix(b *testing.B) {
	heart := geometry.Heart()
	torso, leads := geometry.Torso(heart)
	for b.Loop() {
		if _, err := TransferMatrix(heart, torso, leads); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDefaultTransferMatrix builds R for the built-in geometry (Heart():
// 1094 nodes, Torso(): 352 leads): it must pass the nesting checks, have the
// lead x heart shape, finite entries and rows summing to 1.
func TestDefaultTransferMatrix(t *testing.T) {
	start := time.Now()
	R := defaultR(t)
	t.Logf("default R (1094 + 352 nodes) in %v including geometry", time.Since(start))
	r, c := R.Dims()
	if r != 352 || c != 1094 {
		t.Fatalf("R is %dx%d, want 352x1094", r, c)
	}
	var worst float64
	for i := range r {
		var s float64
		for j := range c {
			v := R.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("R[%d][%d] = %g", i, j, v)
			}
			s += v
		}
		worst = math.Max(worst, math.Abs(s-1))
	}
	t.Logf("max |row sum − 1| = %.2g, ‖R‖_F = %.4f", worst, mat.Norm(R, 2))
	if worst > 1e-9 {
		t.Errorf("rows of R sum to 1 within %.2g, want 1e-9", worst)
	}
}

// scaledMesh returns a copy of m with every coordinate multiplied by f.
func scaledMesh(m *mesh.Mesh, f float64) *mesh.Mesh {
	c := &mesh.Mesh{Tris: m.Tris}
	for _, x := range m.Nodes {
		c.Nodes = append(c.Nodes, scale(x, f))
	}
	return c
}
