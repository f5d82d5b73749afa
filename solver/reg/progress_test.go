package reg

import (
	"context"
	"testing"

	"github.com/eandarn/eandarn/solver/progress"
)

// TestSTREProgress: the automatic search reports each (λs, w) pair's λt
// sweep to the context's Reporter, skipped windows included, with
// increasing counts that end at the grid size.
func TestSTREProgress(t *testing.T) {
	r, _, y := smallProblem(20, 24, 30, 1e-2, 3)
	rec := &progress.Record{}
	ctx := progress.NewContext(context.Background(), rec)
	if _, err := SolveSTRE(ctx, r, pathOperator(t, 2, 24), y, Options{Windows: []int{1, 3, 40}}); err != nil {
		t.Fatal(err)
	}
	const total = 7 * 3 * 10 // λs × windows (40 does not fit 30 frames) × λt
	if len(rec.Updates) != 7*3 {
		t.Fatalf("%d updates, want one per (λs, w): %d", len(rec.Updates), 7*3)
	}
	for i, u := range rec.Updates {
		if u.Stage != "stre search" || u.Total != total || u.Done != int64(10*(i+1)) {
			t.Errorf("update %d: %+v, want done %d of %d", i, u, 10*(i+1), total)
		}
	}
}
