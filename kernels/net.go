package kernels

import (
	"fmt"
	"math"
)

// NetSpec describes a network for NewNet as a program over activation
// slots. Slot 0 holds the normalized inputs x̃_j = (x_j − Center_j)/Scale_j
// (In rows); step k reads earlier slots and writes slot k+1; the last slot
// is the output (Out rows). A dense step computes z = W h + b from slot Src
// with Layers[Layer] (tanh or linear); a mix step is the ARN's adaptive
// residual mixing of Eq. 11,
//
//	slot k+1 = (1 − α) · slot Src + α · slot Skip,   α = sigmoid(θ[AlphaT+Block]).
//
// The parameters θ are one flat array of NumParams values: each layer's W
// (Out x In, row-major, at W) and b (Out, at B), and the α_T of the blocks
// at AlphaT.
type NetSpec struct {
	In, Out       int
	Layers        []Layer
	Steps         []Step
	AlphaT        int
	NumParams     int
	Center, Scale []float64 // In values each; Scale > 0
}

// Layer is one dense layer z = W h + b (tanh applied when Tanh is set).
type Layer struct {
	In, Out int
	W, B    int // offsets of W and b in the parameters
	Tanh    bool
}

// Step is one stage of a NetSpec: a dense layer (Mix false: Layers[Layer]
// on slot Src) or the ARN mixing of slots Src (h2) and Skip (x) with the α
// of block Block.
type Step struct {
	Mix          bool
	Layer, Block int
	Src, Skip    int
}

// SlotWidths returns the number of rows of every slot: In for slot 0, the
// layer's Out or the mixed slots' width for the others.
func (s *NetSpec) SlotWidths() []int {
	w := make([]int, len(s.Steps)+1)
	w[0] = s.In
	for k, st := range s.Steps {
		if st.Mix {
			w[k+1] = w[st.Src]
		} else {
			w[k+1] = s.Layers[st.Layer].Out
		}
	}
	return w
}

// Validate checks that the program is well formed: slots read before they
// are written, matching widths, parameters inside NumParams, an Out-wide
// last slot, and a finite normalization.
func (s *NetSpec) Validate() error {
	switch {
	case s == nil:
		return fmt.Errorf("kernels: nil network spec")
	case s.In < 1 || s.Out < 1 || len(s.Steps) == 0:
		return fmt.Errorf("kernels: network spec: %d inputs, %d outputs, %d steps", s.In, s.Out, len(s.Steps))
	case len(s.Center) != s.In || len(s.Scale) != s.In:
		return fmt.Errorf("kernels: network spec: %d inputs but %d centers and %d scales", s.In, len(s.Center), len(s.Scale))
	}
	for j := range s.In {
		if c, sc := s.Center[j], s.Scale[j]; math.IsNaN(c) || math.IsInf(c, 0) || !(sc > 0) || math.IsInf(sc, 0) {
			return fmt.Errorf("kernels: network spec: input %d: center %v scale %v: want finite center, finite scale > 0", j, c, sc)
		}
	}
	for i, l := range s.Layers {
		if l.In < 1 || l.Out < 1 || l.W < 0 || l.B < 0 || l.W+l.In*l.Out > s.NumParams || l.B+l.Out > s.NumParams {
			return fmt.Errorf("kernels: network spec: layer %d (%dx%d at W %d, b %d) outside %d parameters", i, l.Out, l.In, l.W, l.B, s.NumParams)
		}
	}
	w := []int{s.In}
	for k, st := range s.Steps {
		if st.Src < 0 || st.Src > k {
			return fmt.Errorf("kernels: network spec: step %d reads slot %d before it is written", k, st.Src)
		}
		if st.Mix {
			if st.Skip < 0 || st.Skip > k || w[st.Skip] != w[st.Src] || st.Block < 0 || s.AlphaT+st.Block >= s.NumParams || s.AlphaT < 0 {
				return fmt.Errorf("kernels: network spec: mix step %d: slots %d, %d, block %d", k, st.Src, st.Skip, st.Block)
			}
			w = append(w, w[st.Src])
			continue
		}
		if st.Layer < 0 || st.Layer >= len(s.Layers) || s.Layers[st.Layer].In != w[st.Src] {
			return fmt.Errorf("kernels: network spec: dense step %d: layer %d on slot %d of width %d", k, st.Layer, st.Src, w[st.Src])
		}
		w = append(w, s.Layers[st.Layer].Out)
	}
	if w[len(w)-1] != s.Out {
		return fmt.Errorf("kernels: network spec: last slot has width %d, want %d outputs", w[len(w)-1], s.Out)
	}
	// The reverse pass (see accumulates) writes the adjoint of every slot
	// but the input and the output from the steps that read it: each slot
	// must be read, and a mix must be the first reader of its slots in
	// reverse order.
	read := make([]bool, len(w))
	for k := len(s.Steps) - 1; k >= 0; k-- {
		st := s.Steps[k]
		if !read[k+1] && k+1 != len(s.Steps) {
			return fmt.Errorf("kernels: network spec: slot %d is never read", k+1)
		}
		if st.Mix {
			if read[st.Src] || read[st.Skip] || st.Src == st.Skip {
				return fmt.Errorf("kernels: network spec: mix step %d: its slots %d, %d are read by later steps", k, st.Src, st.Skip)
			}
			read[st.Skip] = true
		}
		read[st.Src] = true
	}
	return nil
}

// accumulates reports, for every step, whether its reverse pass adds to
// the adjoint of its input slot (another step that reads the slot, later in
// forward order, has written it first in reverse order) instead of
// overwriting it. The ARN's first layer of a block reads the block input x
// that the block's mixing also reads, so it adds.
func (s *NetSpec) accumulates() []bool {
	acc := make([]bool, len(s.Steps))
	written := make([]bool, len(s.Steps)+1)
	for k := len(s.Steps) - 1; k >= 0; k-- {
		st := s.Steps[k]
		if st.Mix {
			written[st.Skip] = true
		} else {
			acc[k] = written[st.Src]
		}
		written[st.Src] = true
	}
	return acc
}

// Arch is a network of the paper: an FNN (Blocks = 0, Eq. 10): Layers−1
// tanh layers of Width neurons and a linear output layer; or an ARN
// (Blocks > 0, Eq. 11, Table I): one tanh layer In → Width, then Blocks
// adaptive residual blocks (two tanh layers h1, h2 and the mixing
// (1−α) h2 + α x of the block's input x) with one tanh layer between
// consecutive blocks, then the linear output layer; Layers = 3·Blocks + 1.
// In (the number of inputs, e.g. x, y, z, t) and Out are free.
type Arch struct {
	In, Out, Layers, Width, Blocks int
}

// Validate reports whether a describes a network.
func (a Arch) Validate() error {
	switch {
	case a.In < 1 || a.Out < 1:
		return fmt.Errorf("kernels: network with %d inputs and %d outputs", a.In, a.Out)
	case a.Width < 1:
		return fmt.Errorf("kernels: network %dx%d/%d: width must be ≥ 1", a.Layers, a.Width, a.Blocks)
	case a.Blocks < 0:
		return fmt.Errorf("kernels: network %dx%d/%d: blocks must be ≥ 0", a.Layers, a.Width, a.Blocks)
	case a.Blocks == 0 && a.Layers < 2:
		return fmt.Errorf("kernels: network %dx%d/%d: an FNN needs ≥ 2 layers (hidden + output)", a.Layers, a.Width, a.Blocks)
	case a.Blocks > 0 && a.Layers != 3*a.Blocks+1:
		return fmt.Errorf("kernels: network %dx%d/%d: an ARN with %d blocks has 3·blocks+1 = %d layers, got %d",
			a.Layers, a.Width, a.Blocks, a.Blocks, 3*a.Blocks+1, a.Layers)
	}
	return nil
}

// Spec returns the program of a with the input normalization (center,
// scale): dense layers in forward order (input layer, block and
// between-block layers, output layer), each W then b in the parameters,
// then the α_T of the blocks.
func (a Arch) Spec(center, scale []float64) (*NetSpec, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	s := &NetSpec{In: a.In, Out: a.Out, Center: center, Scale: scale}
	np, slot := 0, 0
	dense := func(in, out int, tanh bool) {
		s.Layers = append(s.Layers, Layer{In: in, Out: out, W: np, B: np + in*out, Tanh: tanh})
		np += in*out + out
		s.Steps = append(s.Steps, Step{Layer: len(s.Layers) - 1, Src: slot})
		slot = len(s.Steps)
	}
	w := a.Width
	dense(a.In, w, true)
	if a.Blocks == 0 {
		for l := 1; l < a.Layers-1; l++ {
			dense(w, w, true)
		}
	}
	for b := range a.Blocks {
		if b > 0 {
			dense(w, w, true)
		}
		skip := slot
		dense(w, w, true)
		dense(w, w, true)
		s.Steps = append(s.Steps, Step{Mix: true, Block: b, Src: slot, Skip: skip})
		slot = len(s.Steps)
	}
	dense(w, a.Out, false)
	s.AlphaT = np
	s.NumParams = np + a.Blocks
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
