package mesh_test

import (
	"path/filepath"
	"testing"

	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/io/shareddata"
	"github.com/eandarn/eandarn/solver/mesh"
)

// A unit cube (12 triangles, 8 corners) with the two triangles of the top
// face labelled 2 and the rest 1: every corner touches three faces; a top
// corner borders the top face with area 1/2 or 1 and the sides with up to
// 1, so the larger wins by area, ties to the smaller label. An isolated
// node gets −1.
func TestNodeLabels(t *testing.T) {
	cube := loadFixtures(t)["cube"]
	m := &mesh.Mesh{Nodes: append(append([][3]float64(nil), cube.Nodes...), [3]float64{9, 9, 9}), Tris: cube.Tris}
	face := make([]int, len(m.Tris))
	areaByNode := make([]map[int]float64, len(m.Nodes))
	for k, tr := range m.Tris {
		face[k] = 1
		if m.Nodes[tr[0]][2] == 1 && m.Nodes[tr[1]][2] == 1 && m.Nodes[tr[2]][2] == 1 {
			face[k] = 2
		}
		for _, v := range tr {
			if areaByNode[v] == nil {
				areaByNode[v] = map[int]float64{}
			}
			areaByNode[v][face[k]] += 0.5
		}
	}
	got, err := m.NodeLabels(face)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range areaByNode {
		want := -1
		switch {
		case a == nil:
		case a[2] > a[1]:
			want = 2
		default:
			want = 1
		}
		if got[i] != want {
			t.Errorf("node %d (areas %v): label %d, want %d", i, a, got[i], want)
		}
	}
	if _, err := m.NodeLabels(face[1:]); err == nil {
		t.Error("too few face labels accepted")
	}
}

// The ECGSim ventricles' face regions (1 LV cavity, 2 RV cavity, 3
// epicardium) become node labels with every region present; the nodes
// where regions meet are counted and logged.
func TestNodeLabelsECGSim(t *testing.T) {
	dir := shareddata.Dir(t, "ecgsim_normal_male")
	m, err := csvmesh.LoadScaled(filepath.Join(dir, "heart_nodes.csv"), filepath.Join(dir, "heart_faces.csv"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	face, err := csvmesh.ReadIndices(filepath.Join(dir, "heart_face_region.csv"), 4)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := m.NodeLabels(face)
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]int{}
	for _, l := range labels {
		count[l]++
	}
	touch := make([]map[int]bool, len(m.Nodes))
	for k, tr := range m.Tris {
		for _, v := range tr {
			if touch[v] == nil {
				touch[v] = map[int]bool{}
			}
			touch[v][face[k]] = true
		}
	}
	shared := 0
	for _, s := range touch {
		if len(s) > 1 {
			shared++
		}
	}
	t.Logf("node labels: %d LV cavity, %d RV cavity, %d epicardium; %d nodes border two or more regions", count[1], count[2], count[3], shared)
	if count[1] == 0 || count[2] == 0 || count[3] == 0 || count[-1] != 0 || count[1]+count[2]+count[3] != 257 {
		t.Errorf("label counts %v, want every node in one of regions 1, 2, 3", count)
	}
}
