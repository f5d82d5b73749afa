// Package geometry generates the deterministic test surfaces: icospheres and
// concentric spheres for operator and BEM checks, and the default heart-like
// and torso surfaces of the built-in dataset.
package geometry

import (
	"math"

	"github.com/eandarn/eandarn/solver/mesh"
)

// Icosphere returns a sphere of the given radius centred at the origin, made
// by subdividing an icosahedron level times and projecting the new nodes onto
// the sphere. Level 0, 1, 2, 3, 4 give 12, 42, 162, 642, 2562 nodes
// (10·4^level + 2). Triangles are counter-clockwise seen from outside.
func Icosphere(level int, radius float64) *mesh.Mesh {
	p := (1 + math.Sqrt(5)) / 2
	nodes := [][3]float64{
		{-1, p, 0}, {1, p, 0}, {-1, -p, 0}, {1, -p, 0},
		{0, -1, p}, {0, 1, p}, {0, -1, -p}, {0, 1, -p},
		{p, 0, -1}, {p, 0, 1}, {-p, 0, -1}, {-p, 0, 1},
	}
	tris := [][3]int{
		{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11},
		{1, 5, 9}, {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
		{3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8}, {3, 8, 9},
		{4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1},
	}
	for i := range nodes {
		nodes[i] = scaleTo(nodes[i], 1)
	}
	for l := 0; l < level; l++ {
		mid := make(map[[2]int]int)
		midpoint := func(a, b int) int {
			key := [2]int{min(a, b), max(a, b)}
			if k, ok := mid[key]; ok {
				return k
			}
			var m [3]float64
			for d := 0; d < 3; d++ {
				m[d] = (nodes[a][d] + nodes[b][d]) / 2
			}
			nodes = append(nodes, scaleTo(m, 1))
			mid[key] = len(nodes) - 1
			return len(nodes) - 1
		}
		next := make([][3]int, 0, 4*len(tris))
		for _, t := range tris {
			a := midpoint(t[0], t[1])
			b := midpoint(t[1], t[2])
			c := midpoint(t[2], t[0])
			next = append(next, [3]int{t[0], a, c}, [3]int{t[1], b, a}, [3]int{t[2], c, b}, [3]int{a, b, c})
		}
		tris = next
	}
	for i := range nodes {
		nodes[i] = scaleTo(nodes[i], radius)
	}
	return &mesh.Mesh{Nodes: nodes, Tris: tris}
}

func scaleTo(v [3]float64, r float64) [3]float64 {
	n := math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])
	return [3]float64{v[0] * r / n, v[1] * r / n, v[2] * r / n}
}
