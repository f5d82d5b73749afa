package geometry

import (
	"fmt"
	"math"
	"sort"

	"github.com/eandarn/eandarn/solver/mesh"
)

// Heart dimensions (mm). The shape is a surface of revolution about the
// long axis: a lateral wall ρ(z) = heartRadius·sin(π z / (1.6 heartWall))
// for z in [0, heartWall] — a cone of half-angle ≈ 35° at the apex (z = 0),
// widest (60 mm across) at 80% of the wall height, narrowing slightly to the
// base ring — closed by a shallow dome of height heartDome over the base.
// Total length 93 mm; area ≈ 1.45·10⁴ mm², so 1094 nodes give a mean edge of 4.0 mm.
const (
	heartNodes  = 1094
	heartRadius = 30.0
	heartWall   = 85.0
	heartDome   = 8.0
)

// heartAxis is the apex-to-base direction in the body frame, which is the
// patient frame of DICOM (LPS: x towards the patient's left, y posterior,
// z superior). The base lies right, posterior and superior of the apex, as
// in a chest (long axis ≈ 45° from every body axis).
var heartAxis = [3]float64{-1, 0.8, 0.9}

// Heart returns the default heart surface of the built-in dataset: a
// deterministic closed genus-0 triangle mesh with 1094 nodes and 2184
// triangles (F = 2V − 4, the paper's size), in mm, counter-clockwise seen
// from outside, centred at its node centroid, long axis along heartAxis.
// Node 0 is the apex (see Apex).
func Heart() *mesh.Mesh {
	prof := heartProfile()
	m, err := paramSurface(heartNodes, func(t, phi float64) [3]float64 {
		rho, z := prof(t)
		s, c := math.Sincos(phi)
		return [3]float64{rho * c, rho * s, z}
	})
	if err != nil {
		// The construction is fixed: failing here is a programming error.
		panic(fmt.Sprintf("geometry: default heart: %v", err))
	}
	rot := frameTo(heartAxis)
	var cen [3]float64
	for i, x := range m.Nodes {
		m.Nodes[i] = rot(x)
		for d := range 3 {
			cen[d] += m.Nodes[i][d] / float64(len(m.Nodes))
		}
	}
	for i := range m.Nodes {
		m.Nodes[i] = sub(m.Nodes[i], cen)
	}
	outward(m)
	return m
}

// heartProfile returns the meridian (ρ(t), z(t)) of the heart, parametrized
// by normalized arclength t from the apex (t = 0) to the centre of the base
// dome (t = 1), tabulated and linearly interpolated.
func heartProfile() func(t float64) (rho, z float64) {
	const nw, nd = 3000, 1000
	var pts [][2]float64
	for i := 0; i <= nw; i++ {
		u := float64(i) / nw
		pts = append(pts, [2]float64{heartRadius * math.Sin(math.Pi*u/1.6), heartWall * u})
	}
	rb := pts[nw][0]
	for i := 1; i <= nd; i++ {
		r := rb * (1 - float64(i)/nd)
		pts = append(pts, [2]float64{r, heartWall + heartDome*(1-(r/rb)*(r/rb))})
	}
	return arclengthCurve(pts)
}

// arclengthCurve returns the polyline pts parametrized by normalized
// arclength t in [0, 1].
func arclengthCurve(pts [][2]float64) func(t float64) (float64, float64) {
	s := make([]float64, len(pts))
	for i := 1; i < len(pts); i++ {
		s[i] = s[i-1] + math.Hypot(pts[i][0]-pts[i-1][0], pts[i][1]-pts[i-1][1])
	}
	total := s[len(s)-1]
	return func(t float64) (float64, float64) {
		a := math.Min(math.Max(t, 0), 1) * total
		i := sort.SearchFloat64s(s, a)
		if i == 0 {
			return pts[0][0], pts[0][1]
		}
		w := (a - s[i-1]) / (s[i] - s[i-1])
		return pts[i-1][0] + w*(pts[i][0]-pts[i-1][0]), pts[i-1][1] + w*(pts[i][1]-pts[i-1][1])
	}
}

// frameTo returns the rotation taking the z axis to the direction of a
// (x to the unit vector of a × z's complement in the plane, deterministic).
func frameTo(a [3]float64) func([3]float64) [3]float64 {
	ez := scaleTo(a, 1)
	ref := [3]float64{0, 0, 1}
	if math.Abs(ez[2]) > 0.9 {
		ref = [3]float64{1, 0, 0}
	}
	ex := scaleTo(cross(ref, ez), 1)
	ey := cross(ez, ex)
	return func(x [3]float64) [3]float64 {
		var y [3]float64
		for d := range 3 {
			y[d] = x[0]*ex[d] + x[1]*ey[d] + x[2]*ez[d]
		}
		return y
	}
}

// outward reverses every triangle of the closed mesh m when its signed
// volume is negative.
func outward(m *mesh.Mesh) {
	if m.SignedVolume() < 0 {
		for k, t := range m.Tris {
			m.Tris[k] = [3]int{t[0], t[2], t[1]}
		}
	}
}

// Apex returns the apex node of a heart surface: the node farthest from the
// centroid of the nodes. For Heart() this is node 0, the tip of the cone,
// about 12% farther out than any node of the base.
func Apex(heart *mesh.Mesh) int {
	var cen [3]float64
	for _, x := range heart.Nodes {
		for d := range 3 {
			cen[d] += x[d] / float64(len(heart.Nodes))
		}
	}
	best, bd := 0, -1.0
	for i, x := range heart.Nodes {
		if d := dist2(x, cen); d > bd {
			best, bd = i, d
		}
	}
	return best
}
