package nn

import (
	"fmt"
	"math"
)

// Normalizer maps physical inputs [x, y, z, t] (mm, AP time units) to
// [-1, 1] per coordinate:
//
//	x̃_j = (x_j − Center_j) / Scale_j
//
// It is part of the Net, so derivatives with respect to physical inputs carry
// the chain-rule factors 1/Scale_j (first) and 1/Scale_j² (second).
type Normalizer struct {
	Center [In]float64
	Scale  [In]float64 // > 0
}

// BoxNormalizer returns the normalizer of the box lo ≤ x ≤ hi: Center is
// its midpoint and Scale its half-width. A flat coordinate (hi == lo) gets
// Scale 1 so that it stays finite.
func BoxNormalizer(lo, hi [In]float64) Normalizer {
	var n Normalizer
	for j := range In {
		n.Center[j] = (lo[j] + hi[j]) / 2
		n.Scale[j] = (hi[j] - lo[j]) / 2
		if n.Scale[j] <= 0 {
			n.Scale[j] = 1
		}
	}
	return n
}

// FitNormalizer returns BoxNormalizer of the bounding box of the npts x 4
// row-major points x.
func FitNormalizer(x []float64) (Normalizer, error) {
	if len(x) == 0 || len(x)%In != 0 {
		return Normalizer{}, fmt.Errorf("nn: fit normalizer: want npts x %d points, got %d values", In, len(x))
	}
	var lo, hi [In]float64
	for j := range In {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for p := 0; p < len(x); p += In {
		for j := range In {
			v := x[p+j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Normalizer{}, fmt.Errorf("nn: fit normalizer: point %d coordinate %d is %v", p/In, j, v)
			}
			lo[j] = math.Min(lo[j], v)
			hi[j] = math.Max(hi[j], v)
		}
	}
	return BoxNormalizer(lo, hi), nil
}

func (n Normalizer) validate() error {
	for j := range In {
		if !(n.Scale[j] > 0) || math.IsInf(n.Scale[j], 0) || math.IsNaN(n.Center[j]) || math.IsInf(n.Center[j], 0) {
			return fmt.Errorf("nn: normalizer coordinate %d: center %v scale %v: want finite center, finite scale > 0",
				j, n.Center[j], n.Scale[j])
		}
	}
	return nil
}
