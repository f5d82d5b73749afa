package nn

// Normalizer maps the physical inputs (e.g. [x, y, z, t] in mm and AP time
// units) to [-1, 1] per coordinate,
//
//	x̃_j = (x_j − Center_j) / Scale_j,
//
// inside the network, so derivatives with respect to the physical inputs
// carry the chain-rule factors 1/Scale_j (first) and 1/Scale_j² (second).
// Its length is the number of network inputs.
type Normalizer struct {
	Center []float64
	Scale  []float64 // > 0
}

// BoxNormalizer returns the normalizer of the box lo ≤ x ≤ hi: Center is
// its midpoint and Scale its half-width. A flat coordinate (hi == lo) gets
// Scale 1 so that it stays finite.
func BoxNormalizer(lo, hi []float64) Normalizer {
	n := Normalizer{Center: make([]float64, len(lo)), Scale: make([]float64, len(lo))}
	for j := range lo {
		n.Center[j] = (lo[j] + hi[j]) / 2
		n.Scale[j] = (hi[j] - lo[j]) / 2
		if n.Scale[j] <= 0 {
			n.Scale[j] = 1
		}
	}
	return n
}
