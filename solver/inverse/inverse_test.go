package inverse

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestAddNoise(t *testing.T) {
	y := mat.NewDense(200, 300, nil)
	a, b := AddNoise(y, 0.1, 5), AddNoise(y, 0.1, 5)
	if !mat.Equal(a, b) {
		t.Error("same seed gave different noise")
	}
	if mat.Equal(a, AddNoise(y, 0.1, 6)) {
		t.Error("different seeds gave the same noise")
	}
	if sd := stat.StdDev(a.RawMatrix().Data, nil); math.Abs(sd-0.1) > 0.002 {
		t.Errorf("noise std %g, want 0.1 ± 0.002 (60000 draws)", sd)
	}
	if AddNoise(y, 0, 5) != y {
		t.Error("σ = 0 must leave the BSPM as it is")
	}
	if y.At(3, 4) != 0 {
		t.Error("AddNoise modified its input")
	}
}

func TestInputError(t *testing.T) {
	base := errors.New("window 9 needs more than 5 frames")
	err := fmt.Errorf("stre: %w", InputError(base))
	if !errors.Is(err, ErrInput) || !errors.Is(err, base) || err.Error() != "stre: window 9 needs more than 5 frames" {
		t.Errorf("InputError: %v (is ErrInput %v, is base %v)", err, errors.Is(err, ErrInput), errors.Is(err, base))
	}
	if InputError(nil) != nil || errors.Is(base, ErrInput) {
		t.Error("InputError(nil) != nil, or a plain error matches ErrInput")
	}
}
