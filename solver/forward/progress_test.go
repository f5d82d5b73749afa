package forward

import (
	"slices"
	"testing"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/progress"
)

// TestTransferMatrixProgress: one update per assembled row (from the
// parallel workers, so in any order) and a last one after the elimination,
// N + 1 units in all; the result does not depend on reporting.
func TestTransferMatrixProgress(t *testing.T) {
	inner, outer := geometry.Icosphere(1, 1), geometry.Icosphere(1, 2)
	rec := &progress.Record{}
	got, err := TransferMatrix(inner, outer, nil, WithProgress(rec))
	if err != nil {
		t.Fatal(err)
	}
	want, err := TransferMatrix(inner, outer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.RawMatrix().Data, want.RawMatrix().Data) {
		t.Error("reporting changed the transfer matrix")
	}
	N := len(inner.Nodes) + len(outer.Nodes)
	if len(rec.Updates) != N+1 {
		t.Fatalf("%d updates, want %d rows + 1", len(rec.Updates), N)
	}
	seen := make([]bool, N+2)
	for _, u := range rec.Updates {
		if u.Stage != "bem" || u.Total != int64(N+1) || u.Done < 1 || u.Done > int64(N+1) || seen[u.Done] {
			t.Fatalf("update %+v: want each count 1..%d once, of %d", u, N+1, N+1)
		}
		seen[u.Done] = true
	}
	if last := rec.Updates[N]; last.Done != int64(N+1) {
		t.Errorf("last update %+v, want the elimination's %d", last, N+1)
	}
}
