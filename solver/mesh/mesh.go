// Package mesh holds the triangle surface meshes of the heart and the torso,
// their validation, and the differential operators built on them.
package mesh

// Mesh is a triangle surface mesh. Nodes are in mm; Tris index Nodes
// (0-based) and are oriented counter-clockwise seen from outside for a closed
// mesh once Orient has run.
type Mesh struct {
	Nodes [][3]float64
	Tris  [][3]int
}
