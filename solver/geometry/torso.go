package geometry

import (
	"fmt"
	"math"
	"sort"

	"github.com/eandarn/eandarn/solver/mesh"
)

// Torso dimensions (mm): an elliptic cylinder, 350 mm wide (x, left-right)
// and 250 mm deep (y, anterior-posterior), closed by half-ellipsoid caps of
// height torsoCap; 450 mm tall in all. 352 nodes (the paper's lead count)
// give a mean edge of about 40 mm.
const (
	torsoNodes  = 352
	torsoHalfX  = 175.0
	torsoHalfY  = 125.0
	torsoHeight = 450.0
	torsoCap    = 70.0
)

// heartOffset is the position of the heart's node centroid relative to the
// torso centre (LPS, mm): 40 mm to the left, 30 mm anterior, 50 mm above the
// mid-height, as in a chest.
var heartOffset = [3]float64{40, -30, 50}

// Torso returns the default torso surface around the given heart: a
// deterministic closed triangle mesh with 352 nodes and 700 triangles, in mm,
// counter-clockwise seen from outside, placed so that the heart's node
// centroid lies at heartOffset from the torso centre (left, anterior and
// superior of it), and the leads: every torso node, in order.
func Torso(heart *mesh.Mesh) (*mesh.Mesh, []int) {
	var cen [3]float64
	for _, x := range heart.Nodes {
		for d := range 3 {
			cen[d] += x[d] / float64(len(heart.Nodes))
		}
	}
	centre := sub(cen, heartOffset)
	prof := torsoProfile()
	psi := ellipseArclengthAngle(torsoHalfX, torsoHalfY)
	m, err := paramSurface(torsoNodes, func(t, phi float64) [3]float64 {
		s, z := prof(t)
		sn, cs := math.Sincos(psi(phi))
		return [3]float64{centre[0] + torsoHalfX*s*cs, centre[1] + torsoHalfY*s*sn, centre[2] + z}
	})
	if err != nil {
		panic(fmt.Sprintf("geometry: default torso: %v", err))
	}
	outward(m)
	leads := make([]int, len(m.Nodes))
	for i := range leads {
		leads[i] = i
	}
	return m, leads
}

// torsoProfile returns the meridian (s(t), z(t)) of the torso, s the scale of
// the elliptic cross-section (0 at the poles, 1 on the cylinder) and z the
// height from the centre, parametrized by normalized arclength of the
// meridian drawn at the mean semi-axis, from the bottom pole (t = 0) to the
// top pole (t = 1).
func torsoProfile() func(t float64) (s, z float64) {
	const nc, ns = 1000, 2000
	r := (torsoHalfX + torsoHalfY) / 2
	half := torsoHeight/2 - torsoCap
	var pts [][2]float64 // (r·s, z), so that the arclength is in mm
	for i := 0; i <= nc; i++ {
		a := math.Pi / 2 * float64(i) / nc
		pts = append(pts, [2]float64{r * math.Sin(a), -half - torsoCap*math.Cos(a)})
	}
	for i := 1; i <= ns; i++ {
		pts = append(pts, [2]float64{r, -half + 2*half*float64(i)/ns})
	}
	for i := 1; i <= nc; i++ {
		a := math.Pi / 2 * float64(i) / nc
		pts = append(pts, [2]float64{r * math.Cos(a), half + torsoCap*math.Sin(a)})
	}
	curve := arclengthCurve(pts)
	return func(t float64) (float64, float64) {
		rs, z := curve(t)
		return rs / r, z
	}
}

// ellipseArclengthAngle returns the map from a uniform angle φ in [0, 2π) to
// the ellipse angle ψ (x = a cos ψ, y = b sin ψ) at which the arclength from
// ψ = 0 is the fraction φ/2π of the perimeter, so that equal steps in φ are
// equal distances on the torso.
func ellipseArclengthAngle(a, b float64) func(phi float64) float64 {
	const n = 4096
	cum := make([]float64, n+1)
	for i := range n {
		psi := 2 * math.Pi * (float64(i) + 0.5) / n
		cum[i+1] = cum[i] + math.Hypot(a*math.Sin(psi), b*math.Cos(psi))*2*math.Pi/n
	}
	return func(phi float64) float64 {
		phi = math.Mod(phi, 2*math.Pi)
		if phi < 0 {
			phi += 2 * math.Pi
		}
		target := phi / (2 * math.Pi) * cum[n]
		i := sort.SearchFloat64s(cum, target)
		if i == 0 {
			return 0
		}
		if i > n {
			return 2 * math.Pi
		}
		return 2 * math.Pi * (float64(i-1) + (target-cum[i-1])/(cum[i]-cum[i-1])) / n
	}
}
