package geometry

import (
	"fmt"
	"math/rand/v2"
)

// sphereHull triangulates points on the unit sphere by their convex hull:
// for points on a sphere that hull is the spherical Delaunay triangulation,
// a closed genus-0 surface using every point, with F = 2V − 4 triangles,
// counter-clockwise seen from outside. It is the incremental algorithm
// (insert a point, delete the faces it sees, cone the horizon to it) with a
// fixed pseudo-random insertion order, which keeps it O(n²) in the worst case
// and makes near-cocircular quadruples harmless. Points must be distinct.
func sphereHull(pts [][3]float64) ([][3]int, error) {
	n := len(pts)
	if n < 4 {
		return nil, fmt.Errorf("sphere hull: %d points, want at least 4", n)
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	// Seed tetrahedron: the first point, the point farthest from it, the
	// point farthest from their line, the point farthest from their plane.
	a := order[0]
	b := argmax(order, func(i int) float64 { return dist2(pts[i], pts[a]) })
	c := argmax(order, func(i int) float64 { return norm2(cross(sub(pts[b], pts[a]), sub(pts[i], pts[a]))) })
	d := argmax(order, func(i int) float64 { return abs(orient(pts[a], pts[b], pts[c], pts[i])) })
	if orient(pts[a], pts[b], pts[c], pts[d]) > 0 {
		b, c = c, b // d must lie behind (a, b, c)
	}
	faces := [][3]int{{a, b, c}, {a, d, b}, {b, d, c}, {c, d, a}}
	alive := []bool{true, true, true, true}
	edge := map[[2]int]int{} // directed edge -> face holding it
	addFace := func(f [3]int) {
		faces = append(faces, f)
		alive = append(alive, true)
		for k := range 3 {
			edge[[2]int{f[k], f[(k+1)%3]}] = len(faces) - 1
		}
	}
	for k, f := range faces {
		for s := range 3 {
			edge[[2]int{f[s], f[(s+1)%3]}] = k
		}
	}
	const eps = 1e-13
	for _, p := range order {
		if p == a || p == b || p == c || p == d {
			continue
		}
		visible := map[int]bool{}
		for k, f := range faces {
			if alive[k] && orient(pts[f[0]], pts[f[1]], pts[f[2]], pts[p]) > eps {
				visible[k] = true
			}
		}
		if len(visible) == 0 {
			return nil, fmt.Errorf("sphere hull: point %d is not extreme (duplicate or not on a sphere)", p)
		}
		var horizon [][2]int
		for k := range faces {
			if !visible[k] {
				continue
			}
			f := faces[k]
			for s := range 3 {
				u, v := f[s], f[(s+1)%3]
				if !visible[edge[[2]int{v, u}]] {
					horizon = append(horizon, [2]int{u, v})
				}
			}
			alive[k] = false
		}
		for _, h := range horizon {
			addFace([3]int{h[0], h[1], p})
		}
	}
	var out [][3]int
	for k, f := range faces {
		if alive[k] {
			out = append(out, f)
		}
	}
	if len(out) != 2*n-4 {
		return nil, fmt.Errorf("sphere hull: %d triangles for %d points, want %d (points not in convex position)", len(out), n, 2*n-4)
	}
	return out, nil
}

func argmax(idx []int, f func(int) float64) int {
	best, bv := idx[0], f(idx[0])
	for _, i := range idx[1:] {
		if v := f(i); v > bv {
			best, bv = i, v
		}
	}
	return best
}

// orient is (b−a)×(c−a)·(p−a): positive when p is in front of (a, b, c),
// i.e. on the side its right-hand normal points to.
func orient(a, b, c, p [3]float64) float64 {
	return dot(cross(sub(b, a), sub(c, a)), sub(p, a))
}
