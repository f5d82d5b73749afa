package sparse

import (
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestFromTripletsSumsDuplicatesAndSorts(t *testing.T) {
	a, err := FromTriplets(3, 4, []Triplet{
		{2, 3, 1}, {0, 1, 2}, {2, 0, -1}, {0, 1, 3}, {1, 2, 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantPtr := []int{0, 1, 2, 4}
	wantCol := []int{1, 2, 0, 3}
	wantVal := []float64{5, 5, -1, 1}
	for i := range wantPtr {
		if a.RowPtr[i] != wantPtr[i] {
			t.Fatalf("RowPtr = %v, want %v", a.RowPtr, wantPtr)
		}
	}
	for k := range wantCol {
		if a.ColIdx[k] != wantCol[k] || a.Val[k] != wantVal[k] {
			t.Fatalf("ColIdx, Val = %v, %v; want %v, %v", a.ColIdx, a.Val, wantCol, wantVal)
		}
	}
	if a.At(0, 1) != 5 || a.At(0, 0) != 0 {
		t.Errorf("At: got %g, %g; want 5, 0", a.At(0, 1), a.At(0, 0))
	}
}

func TestFromTripletsRejectsOutOfShape(t *testing.T) {
	for _, tr := range []Triplet{{3, 0, 1}, {0, 4, 1}, {-1, 0, 1}} {
		_, err := FromTriplets(3, 4, []Triplet{tr})
		if err == nil || !strings.Contains(err.Error(), "outside 3x4") {
			t.Errorf("entry %v: error %v, want outside 3x4", tr, err)
		}
	}
}

func TestProductsMatchDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const r, c, k = 7, 5, 3
	var ts []Triplet
	for n := 0; n < 15; n++ {
		ts = append(ts, Triplet{rng.IntN(r), rng.IntN(c), rng.NormFloat64()})
	}
	a, err := FromTriplets(r, c, ts)
	if err != nil {
		t.Fatal(err)
	}
	d := a.Dense()
	x := make([]float64, c)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	got := make([]float64, r)
	a.MulVec(got, x)
	var want mat.VecDense
	want.MulVec(d, mat.NewVecDense(c, x))
	for i := range got {
		if diff := got[i] - want.AtVec(i); diff > 1e-14 || diff < -1e-14 {
			t.Errorf("MulVec[%d] = %g, want %g", i, got[i], want.AtVec(i))
		}
	}
	b := mat.NewDense(c, k, nil)
	for i := 0; i < c; i++ {
		for j := 0; j < k; j++ {
			b.Set(i, j, rng.NormFloat64())
		}
	}
	gotM := mat.NewDense(r, k, nil)
	a.MulDense(gotM, b)
	var wantM mat.Dense
	wantM.Mul(d, b)
	if !mat.EqualApprox(gotM, &wantM, 1e-14) {
		t.Errorf("MulDense differs from the dense product")
	}
}
