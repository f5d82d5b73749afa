package reg_test

import (
	"context"
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/reg"
)

// Tikhonov-2 (the paper's Tikh_2nd) with λ by GCV, on a sphere "heart" of
// 162 nodes inside a sphere "torso" whose 642 nodes are all leads, for a
// potential that varies smoothly over the heart and in time.
func ExampleNewTikhonov() {
	heart, torso := geometry.Icosphere(2, 40), geometry.Icosphere(3, 120)
	leads := make([]int, len(torso.Nodes))
	for i := range leads {
		leads[i] = i
	}
	r, err := forward.TransferMatrix(heart, torso, leads)
	if err != nil {
		log.Fatal(err)
	}
	const frames = 5
	u := mat.NewDense(len(heart.Nodes), frames, nil)
	for i, p := range heart.Nodes {
		for t := 0; t < frames; t++ {
			u.Set(i, t, p[2]/40*float64(t+1)+p[0]/40)
		}
	}
	var y mat.Dense
	y.Mul(r, u)

	method, err := reg.NewTikhonov(2, reg.Options{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := method.Solve(context.Background(), &inverse.Problem{Heart: heart, R: r, BSPM: &y})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d λ values swept, RE below 0.05: %v\n", len(res.Series["lambda_grid"]), metrics.RE(res.U, u) < 0.05)
	// Output: 200 λ values swept, RE below 0.05: true
}
