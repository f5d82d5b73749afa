package mesh

import "fmt"

// NodeLabels turns a label per triangle (face regions, as ECGSim's
// epicardium / LV / RV endocardium) into a label per node: each node takes
// the label whose triangles around it have the largest total area, i.e.
// the region holding most of the node's lumped mass (area/3 of each of its
// triangles), which is the surface the node's value stands for in the
// metrics. Where regions meet (the base, where endocardium turns into
// epicardium) a node thus goes to the region it mostly borders; ties go to
// the smaller label. A node in no triangle gets −1. face must have one
// label per triangle.
func (m *Mesh) NodeLabels(face []int) ([]int, error) {
	if len(face) != len(m.Tris) {
		return nil, fmt.Errorf("mesh: node labels: %d face labels for %d triangles", len(face), len(m.Tris))
	}
	area := make([]map[int]float64, len(m.Nodes))
	for k, a := range m.TriangleAreas() {
		for _, v := range m.Tris[k] {
			if area[v] == nil {
				area[v] = map[int]float64{}
			}
			area[v][face[k]] += a
		}
	}
	out := make([]int, len(m.Nodes))
	for i, byLabel := range area {
		out[i] = -1
		for l, a := range byLabel {
			if b := byLabel[out[i]]; out[i] < 0 || a > b || a == b && l < out[i] {
				out[i] = l
			}
		}
	}
	return out, nil
}
