package geometry

import (
	"math"
	"testing"
)

func TestIcosphereCountsAndOrientation(t *testing.T) {
	for level := 0; level <= 4; level++ {
		m := Icosphere(level, 2)
		wantN := 10*(1<<(2*level)) + 2
		if len(m.Nodes) != wantN || len(m.Tris) != 2*wantN-4 {
			t.Fatalf("level %d: %d nodes, %d tris; want %d, %d", level, len(m.Nodes), len(m.Tris), wantN, 2*wantN-4)
		}
		// Signed volume by the divergence theorem: positive when outward.
		var vol float64
		for _, tr := range m.Tris {
			a, b, c := m.Nodes[tr[0]], m.Nodes[tr[1]], m.Nodes[tr[2]]
			vol += (a[0]*(b[1]*c[2]-b[2]*c[1]) - a[1]*(b[0]*c[2]-b[2]*c[0]) + a[2]*(b[0]*c[1]-b[1]*c[0])) / 6
		}
		exact := 4 * math.Pi * 8 / 3
		if vol <= 0 || vol > exact {
			t.Errorf("level %d: signed volume %g, want in (0, %g]", level, vol, exact)
		}
	}
}
