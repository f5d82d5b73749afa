package vtk_test

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/vtk"
	"github.com/eandarn/eandarn/solver/mesh"
)

// ExampleWriteSeries writes two frames of a per-node field on a
// tetrahedron as a ParaView series: open series.pvd in ParaView and play it.
func ExampleWriteSeries() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	m := &mesh.Mesh{
		Nodes: [][3]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}},
		Tris:  [][3]int{{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}},
	}
	u := mat.NewDense(4, 2, []float64{ // nodes x frames
		0, 1,
		0.5, 1,
		0, 0.5,
		0, 0,
	})
	out := filepath.Join(dir, "maps")
	if err := vtk.WriteSeries(out, m, []int{0, 1}, []float64{0, 0.085}, map[string]*mat.Dense{"u": u}); err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// frame_00000.vtp
	// frame_00001.vtp
	// series.pvd
}
