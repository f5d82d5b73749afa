package ap_test

import (
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Simulate one paced beat on a sphere of radius 30 mm with the cotangent
// Laplace–Beltrami operator and read off the activation span.
func ExampleSimulate() {
	heart := geometry.Icosphere(3, 30)
	cfg := ap.DefaultConfig()
	cfg.Heart = heart
	cfg.Stim.Pacing = ap.Pacing{Kind: ap.PaceNode, Node: 0}
	cfg.Stim.Radius = 6
	sol, err := ap.Simulate(mesh.LaplaceBeltrami(heart), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	act := ap.ActivationTimes(sol, 0.5)
	fmt.Printf("%d nodes x %d frames, activation %.1f to %.1f AP units\n",
		len(act), len(sol.Time), floats.Min(act), floats.Max(act))

	cfg.Dt = 1
	_, err = ap.Simulate(mesh.LaplaceBeltrami(heart), cfg)
	fmt.Println(err != nil)
	// Output:
	// 642 nodes x 661 frames, activation 0.4 to 19.4 AP units
	// true
}
