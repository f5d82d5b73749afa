package mesh_test

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// A tetrahedron read with inward winding: Validate accepts it (consistent),
// Orient turns it outward.
func ExampleMesh_Orient() {
	m := &mesh.Mesh{
		Nodes: [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
		Tris:  [][3]int{{0, 1, 2}, {0, 3, 1}, {0, 2, 3}, {1, 3, 2}},
	}
	rep, err := m.Validate()
	fmt.Println(rep.Closed, err, m.SignedVolume() < 0)
	if err := m.Orient(); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%.4f %v\n", m.SignedVolume(), m.Tris[0])
	// Output:
	// true <nil> true
	// 0.1667 [0 2 1]
}

// The cotangent Laplace–Beltrami operator on a 642-node sphere of radius 40 mm
// reproduces Δ_S Y = −6/r² Y for the harmonic Y = xy to about 2%.
func ExampleLaplaceBeltrami() {
	const r = 40.0
	m := geometry.Icosphere(3, r)
	y := make([]float64, len(m.Nodes))
	for i, p := range m.Nodes {
		y[i] = p[0] * p[1]
	}
	ly := make([]float64, len(y))
	mesh.LaplaceBeltrami(m).MulVec(ly, y)
	var num, den float64
	for i := range y {
		want := -6 / (r * r) * y[i]
		num += (ly[i] - want) * (ly[i] - want)
		den += want * want
	}
	fmt.Printf("relative RMS error %.1f%%\n", 100*math.Sqrt(num/den))
	// Output: relative RMS error 2.3%
}
