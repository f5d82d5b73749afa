package geometry

import (
	"math"
	"reflect"
	"testing"

	"github.com/eandarn/eandarn/solver/mesh"
)

// quality returns the smallest triangle angle (degrees), the largest aspect
// ratio (longest edge² / (2·area): 1.15 for an equilateral triangle) and the
// mean edge length (each edge counted once per triangle side).
func quality(m *mesh.Mesh) (minAngle, maxAspect, meanEdge float64) {
	minAngle = 180
	var sum float64
	for _, t := range m.Tris {
		longest := 0.0
		for s := range 3 {
			p, q, r := m.Nodes[t[s]], m.Nodes[t[(s+1)%3]], m.Nodes[t[(s+2)%3]]
			minAngle = math.Min(minAngle, angle(p, q, r)*180/math.Pi)
			l := norm(sub(q, p))
			sum += l
			longest = math.Max(longest, l)
		}
		area := norm(cross(sub(m.Nodes[t[1]], m.Nodes[t[0]]), sub(m.Nodes[t[2]], m.Nodes[t[0]]))) / 2
		maxAspect = math.Max(maxAspect, longest*longest/(2*area))
	}
	return minAngle, maxAspect, sum / float64(3*len(m.Tris))
}

// checkClosedOutward asserts a valid closed genus-0 surface (Euler
// characteristic V − E + F = 2), every node used, consistently wound and
// outward (positive signed volume, and mesh.Orient changes nothing).
func checkClosedOutward(t *testing.T, name string, m *mesh.Mesh) {
	t.Helper()
	rep, err := m.Validate()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !rep.Closed || len(rep.Isolated) > 0 {
		t.Errorf("%s: closed %v, isolated nodes %v", name, rep.Closed, rep.Isolated)
	}
	edges := map[[2]int]bool{}
	for _, tr := range m.Tris {
		for s := range 3 {
			a, b := tr[s], tr[(s+1)%3]
			edges[[2]int{min(a, b), max(a, b)}] = true
		}
	}
	if chi := len(m.Nodes) - len(edges) + len(m.Tris); chi != 2 {
		t.Errorf("%s: Euler characteristic %d, want 2 (genus 0)", name, chi)
	}
	if v := m.SignedVolume(); v <= 0 {
		t.Errorf("%s: signed volume %g, want > 0 (outward)", name, v)
	}
	c := &mesh.Mesh{Nodes: m.Nodes, Tris: append([][3]int(nil), m.Tris...)}
	if err := c.Orient(); err != nil || !reflect.DeepEqual(c.Tris, m.Tris) {
		t.Errorf("%s: mesh.Orient rewound triangles (err %v): not outward-consistent", name, err)
	}
}

func TestHeart(t *testing.T) {
	m := Heart()
	if len(m.Nodes) != 1094 || len(m.Tris) != 2184 {
		t.Fatalf("heart: %d nodes, %d triangles; want 1094, 2184", len(m.Nodes), len(m.Tris))
	}
	checkClosedOutward(t, "heart", m)
	minA, maxAsp, mean := quality(m)
	t.Logf("heart: min angle %.1f°, max aspect %.2f, mean edge %.2f mm, volume %.0f mm³", minA, maxAsp, mean, m.SignedVolume())
	if minA < 20 || maxAsp > 5 || mean < 3.5 || mean > 4.5 {
		t.Errorf("heart quality: min angle %.1f° (want ≥ 20), max aspect %.2f (≤ 5), mean edge %.2f mm (3.5..4.5)", minA, maxAsp, mean)
	}
	// Size along and across the long axis.
	ax := scaleTo(heartAxis, 1)
	lo, hi, width := math.Inf(1), math.Inf(-1), 0.0
	for _, x := range m.Nodes {
		a := dot(x, ax)
		lo, hi = math.Min(lo, a), math.Max(hi, a)
	}
	for _, x := range m.Nodes {
		a := dot(x, ax)
		width = math.Max(width, 2*norm(sub(x, scaleTo(ax, a))))
	}
	t.Logf("heart: length %.1f mm, width %.1f mm", hi-lo, width)
	if hi-lo < 90 || hi-lo > 100 || width < 55 || width > 62 {
		t.Errorf("heart: length %.1f mm (want 90..100), width %.1f mm (want 55..62)", hi-lo, width)
	}
	apex := Apex(m)
	if apex != 0 || dot(m.Nodes[0], ax) != lo {
		t.Errorf("Apex = %d (axial position %.2f), want node 0 at the lowest axial position %.2f", apex, dot(m.Nodes[apex], ax), lo)
	}
	// The apex points left (+x), anterior (−y) and inferior (−z) in LPS.
	if a := m.Nodes[0]; a[0] <= 0 || a[1] >= 0 || a[2] >= 0 {
		t.Errorf("apex at %v, want left, anterior, inferior of the centroid", a)
	}
}

func TestTorso(t *testing.T) {
	heart := Heart()
	m, leads := Torso(heart)
	if len(m.Nodes) != 352 || len(m.Tris) != 700 || len(leads) != 352 {
		t.Fatalf("torso: %d nodes, %d triangles, %d leads; want 352, 700, 352", len(m.Nodes), len(m.Tris), len(leads))
	}
	for i, l := range leads {
		if l != i {
			t.Fatalf("lead %d is node %d, want every node in order", i, l)
		}
	}
	checkClosedOutward(t, "torso", m)
	minA, maxAsp, mean := quality(m)
	t.Logf("torso: min angle %.1f°, max aspect %.2f, mean edge %.1f mm", minA, maxAsp, mean)
	if minA < 18 || maxAsp > 5 {
		t.Errorf("torso quality: min angle %.1f° (want ≥ 18), max aspect %.2f (≤ 5)", minA, maxAsp)
	}
	lo, hi := m.Nodes[0], m.Nodes[0]
	for _, x := range m.Nodes {
		for d := range 3 {
			lo[d], hi[d] = math.Min(lo[d], x[d]), math.Max(hi[d], x[d])
		}
	}
	size := sub(hi, lo)
	for d, want := range []float64{350, 250, 450} {
		if math.Abs(size[d]-want) > 0.02*want {
			t.Errorf("torso extent along axis %d: %.1f mm, want %.0f ± 2%%", d, size[d], want)
		}
	}
	// The heart sits inside the elliptic cylinder part with clearance: every
	// heart node at most 70% of the way from the torso axis to the wall in
	// its cross-section (≥ 37 mm from the analytic wall, more than the 2 mm a
	// 41-mm chord cuts into it), and within the cylinder's height.
	centre := [3]float64{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2}
	for i, x := range heart.Nodes {
		d := sub(x, centre)
		s := math.Hypot(d[0]/torsoHalfX, d[1]/torsoHalfY)
		if s > 0.7 || math.Abs(d[2]) > torsoHeight/2-torsoCap {
			t.Fatalf("heart node %d at %v: %.2f of the way to the torso wall, height %.1f: not well inside", i, x, s, d[2])
		}
	}
	// Off-centre as in a chest: the heart centroid is left and anterior.
	var hc [3]float64
	for _, x := range heart.Nodes {
		hc = [3]float64{hc[0] + x[0]/1094, hc[1] + x[1]/1094, hc[2] + x[2]/1094}
	}
	if off := sub(hc, centre); off[0] < 30 || off[1] > -20 {
		t.Errorf("heart centroid offset %v from the torso centre, want left (x > 30) and anterior (y < −20)", off)
	}
}

func TestGeometryDeterministic(t *testing.T) {
	h1, h2 := Heart(), Heart()
	if !reflect.DeepEqual(h1, h2) {
		t.Error("Heart() differs between calls")
	}
	t1, l1 := Torso(h1)
	t2, l2 := Torso(h2)
	if !reflect.DeepEqual(t1, t2) || !reflect.DeepEqual(l1, l2) {
		t.Error("Torso() differs between calls")
	}
}

func TestSphereHull(t *testing.T) {
	for _, n := range []int{4, 12, 100, 1000} {
		m, err := paramSurface(n, func(tt, phi float64) [3]float64 {
			st, ct := math.Sincos(math.Pi * tt)
			sp, cp := math.Sincos(phi)
			return [3]float64{st * cp, st * sp, ct}
		})
		if n < 6 {
			if err == nil {
				t.Errorf("n=%d: want an error", n)
			}
			continue
		}
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		outward(m)
		checkClosedOutward(t, "unit sphere", m)
		if len(m.Tris) != 2*n-4 {
			t.Errorf("n=%d: %d triangles, want %d", n, len(m.Tris), 2*n-4)
		}
	}
	if _, err := sphereHull([][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}); err == nil {
		t.Error("3 points: want an error")
	}
}
