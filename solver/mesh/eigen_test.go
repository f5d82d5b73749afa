package mesh_test

import (
	"math"
	"testing"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// On a sphere of radius r the Laplace–Beltrami eigenvalues are l(l+1)/r²
// with multiplicity 2l+1: the first 8 non-constant ones are 2/r² (three
// times) and 6/r² (five times). On the 642-node icosphere the cotangent
// operator gives them to 1%; the functions are M-orthonormal, solve
// S φ = λ M φ to rounding, follow the sign convention and come out the same
// bits on a second call.
func TestEigenfunctionsSphere(t *testing.T) {
	const r = 40.0
	m := geometry.Icosphere(3, r)
	phi, lambda, err := mesh.Eigenfunctions(m, 8)
	if err != nil {
		t.Fatal(err)
	}
	for c, l := range lambda {
		want := 2 / (r * r)
		if c >= 3 {
			want = 6 / (r * r)
		}
		if math.Abs(l-want) > 0.01*want {
			t.Errorf("λ_%d = %.6g, want %.6g (l(l+1)/r²) to 1%%", c+1, l, want)
		}
	}
	s, mass := mesh.CotanStiffness(m), mesh.LumpedMass(m)
	n := len(m.Nodes)
	sphi := make([]float64, n)
	for a, fa := range phi {
		s.MulVec(sphi, fa)
		var res, scale float64
		for i := range fa {
			res = math.Max(res, math.Abs(sphi[i]-lambda[a]*mass[i]*fa[i]))
			scale = math.Max(scale, math.Abs(sphi[i]))
		}
		if res > 1e-9*scale {
			t.Errorf("φ_%d: |Sφ − λMφ| = %.3g of %.3g", a+1, res, scale)
		}
		for b, fb := range phi {
			var g float64
			for i := range fa {
				g += fa[i] * mass[i] * fb[i]
			}
			want := 0.0
			if a == b {
				want = 1
			}
			if math.Abs(g-want) > 1e-9 {
				t.Errorf("φ_%dᵀ M φ_%d = %.3g, want %g", a+1, b+1, g, want)
			}
		}
		var big float64
		for _, v := range fa {
			big = math.Max(big, math.Abs(v))
		}
		for _, v := range fa {
			if math.Abs(v) >= big/2 {
				if v < 0 {
					t.Errorf("φ_%d: first node with |φ| ≥ max/2 has φ = %g, want > 0", a+1, v)
				}
				break
			}
		}
	}
	again, _, err := mesh.Eigenfunctions(m, 8)
	if err != nil {
		t.Fatal(err)
	}
	for c := range phi {
		for i := range phi[c] {
			if again[c][i] != phi[c][i] {
				t.Fatalf("φ_%d[%d]: %v then %v", c+1, i, phi[c][i], again[c][i])
			}
		}
	}
}

func TestEigenfunctionsRefused(t *testing.T) {
	m := geometry.Icosphere(1, 10)
	for _, k := range []int{-1, len(m.Nodes)} {
		if _, _, err := mesh.Eigenfunctions(m, k); err == nil {
			t.Errorf("k = %d of %d nodes: no error", k, len(m.Nodes))
		}
	}
	if phi, _, err := mesh.Eigenfunctions(m, 0); err != nil || phi != nil {
		t.Errorf("k = 0: %v, %v; want nothing", phi, err)
	}
}

// SubdivideValues interpolates a piecewise-linear function onto the
// subdivided mesh: a coordinate comes out as the new nodes' coordinate.
func TestSubdivideValues(t *testing.T) {
	m := geometry.Heart()
	s := m.Subdivide()
	for j := range 3 {
		f := make([]float64, len(m.Nodes))
		for i, x := range m.Nodes {
			f[i] = x[j]
		}
		g := m.SubdivideValues(f)
		if len(g) != len(s.Nodes) {
			t.Fatalf("%d values for %d nodes", len(g), len(s.Nodes))
		}
		for i, x := range s.Nodes {
			if g[i] != x[j] {
				t.Fatalf("coordinate %d at node %d: %v, want %v", j, i, g[i], x[j])
			}
		}
	}
}

// BenchmarkEigenfunctionsHeart: the 16 eigenfunctions of the default heart
// (1094 nodes), as -lb-inputs 16 computes them once per run.
func BenchmarkEigenfunctionsHeart(b *testing.B) {
	m := geometry.Heart()
	for b.Loop() {
		if _, _, err := mesh.Eigenfunctions(m, 16); err != nil {
			b.Fatal(err)
		}
	}
}
