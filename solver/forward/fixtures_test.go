package forward

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/solver/mesh"
)

// fixture is the repository's testdata/forward folder (see its README).
var fixture = filepath.Join("..", "..", "testdata", "forward")

// TestFixtures runs TransferMatrix on the CSV fixtures that the command-line
// tests also use: the good pair works, the open heart and the small torso
// fail with their one-line errors.
func TestFixtures(t *testing.T) {
	load := func(nodes, faces string) *mesh.Mesh {
		t.Helper()
		m, err := csvmesh.Load(filepath.Join(fixture, nodes), filepath.Join(fixture, faces))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	heart := load("heart42_nodes.csv", "heart42_faces.csv")
	open := load("heart42_nodes.csv", "heart42_open_faces.csv")
	torso := load("torso162_nodes.csv", "torso162_faces.csv")
	small := load("torso162_small_nodes.csv", "torso162_faces.csv")
	R, err := TransferMatrix(heart, torso, nil)
	if err != nil {
		t.Fatalf("good fixture pair: %v", err)
	}
	if r, c := R.Dims(); r != 162 || c != 42 {
		t.Fatalf("R is %dx%d, want 162x42", r, c)
	}
	// Concentric spheres r1 = 30, r2 = 100: the degree-1 potential z/r
	// maps to h_1·z/r.
	h1 := sphereGain(1, 30, 100)
	var num, den float64
	for i, x := range torso.Nodes {
		var got float64
		for j, y := range heart.Nodes {
			got += R.At(i, j) * y[2] / 30
		}
		want := h1 * x[2] / 100
		num += (got - want) * (got - want)
		den += want * want
	}
	t.Logf("fixture spheres: h_1 = %.4f, relative error %.3f%%", h1, 100*math.Sqrt(num/den))
	if math.Sqrt(num/den) > 0.05 {
		t.Errorf("fixture spheres: relative error %.3g for l = 1, want < 5%%", math.Sqrt(num/den))
	}
	for _, tc := range []struct {
		name         string
		heart, torso *mesh.Mesh
		want         string
	}{
		{"open heart", open, torso, "heart mesh is not closed"},
		{"small torso", heart, small, "torso does not enclose the heart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TransferMatrix(tc.heart, tc.torso, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
}
