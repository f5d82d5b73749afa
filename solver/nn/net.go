package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
)

// Net is an FNN or ARN with its input normalizer and trainable parameters.
// Parameters live in one flat slice (see the package documentation for the
// layout); optimizers update Params in place.
type Net struct {
	Config Config
	Norm   Normalizer
	Params []float64

	// Workers is the number of goroutines of Forward/Backward and the jet
	// passes; 0 means runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int

	// Precision is the arithmetic of the passes (Float64 by default). The
	// API stays float64: with Float32 the weights are rounded to float32 at
	// the start of each pass, activations and per-group gradient sums are
	// float32, and the gradient is added to grad in float64.
	Precision Precision

	layers []layer
	steps  []step
	slotW  []int // width of each activation slot; slot 0 is the input
	alphaT int   // offset of the Blocks α_T parameters in Params
}

// layer is one dense layer z = W h + b; W is out x in row-major at
// Params[w:], b at Params[b:].
type layer struct {
	in, out int
	w, b    int
	tanh    bool
}

// step is one stage of the forward pass: a dense layer reading slot src, or
// the ARN mixing x' = (1−α) h2 + α x of Eq. 11 reading slots src (h2) and
// skip (x). Step k writes slot k+1.
type step struct {
	dense bool
	layer int // dense: index into layers
	block int // mix: block index (α_T = Params[alphaT+block])
	src   int
	skip  int
	// accum marks a dense step whose input slot is also the skip input of a
	// later mix: in reverse order the mix writes that slot's adjoint first,
	// so this step adds to it instead of overwriting it.
	accum bool
}

// New builds the network of cfg with Glorot-uniform weights
// (U(−√(6/(in+out)), +√(6/(in+out)))), zero biases and α_T = 0 (α = 1/2),
// drawn deterministically from seed.
func New(cfg Config, norm Normalizer, seed uint64) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := norm.validate(); err != nil {
		return nil, err
	}
	n := &Net{Config: cfg, Norm: norm, slotW: []int{In}}
	np := 0
	addDense := func(in, out int, tanh bool) {
		n.layers = append(n.layers, layer{in: in, out: out, w: np, b: np + in*out, tanh: tanh})
		np += in*out + out
		src := len(n.slotW) - 1
		n.steps = append(n.steps, step{dense: true, layer: len(n.layers) - 1, src: src})
		n.slotW = append(n.slotW, out)
	}
	w := cfg.Width
	if cfg.Blocks == 0 {
		addDense(In, w, true)
		for l := 1; l < cfg.Layers-1; l++ {
			addDense(w, w, true)
		}
	} else {
		addDense(In, w, true)
		for b := 0; b < cfg.Blocks; b++ {
			if b > 0 {
				addDense(w, w, true)
			}
			skip := len(n.slotW) - 1
			addDense(w, w, true)
			n.steps[len(n.steps)-1].accum = true
			addDense(w, w, true)
			n.steps = append(n.steps, step{block: b, src: len(n.slotW) - 1, skip: skip})
			n.slotW = append(n.slotW, w)
		}
	}
	addDense(w, Out, false)
	n.alphaT = np
	np += cfg.Blocks
	n.Params = make([]float64, np)

	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, l := range n.layers {
		lim := math.Sqrt(6 / float64(l.in+l.out))
		for k := range l.in * l.out {
			n.Params[l.w+k] = lim * (2*rng.Float64() - 1)
		}
	}
	return n, nil
}

// NumParams returns len(Params).
func (n *Net) NumParams() int { return len(n.Params) }

// Alphas returns α = sigmoid(α_T) of each residual block (empty for an FNN).
func (n *Net) Alphas() []float64 {
	a := make([]float64, n.Config.Blocks)
	for b := range a {
		a[b] = sigmoid(n.Params[n.alphaT+b])
	}
	return a
}

// ParamName describes parameter k, e.g. "layer 3 W[2,7]", "layer 0 b[4]" or
// "block 1 alpha_T"; checkpoints and error messages use it.
func (n *Net) ParamName(k int) string {
	if k < 0 || k >= len(n.Params) {
		return fmt.Sprintf("parameter %d out of range [0,%d)", k, len(n.Params))
	}
	if k >= n.alphaT {
		return fmt.Sprintf("block %d alpha_T", k-n.alphaT)
	}
	for i, l := range n.layers {
		if k < l.b {
			return fmt.Sprintf("layer %d W[%d,%d]", i, (k-l.w)/l.in, (k-l.w)%l.in)
		}
		if k < l.b+l.out {
			return fmt.Sprintf("layer %d b[%d]", i, k-l.b)
		}
	}
	panic("unreachable")
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (n *Net) workers() int {
	if n.Workers > 0 {
		return n.Workers
	}
	return runtime.GOMAXPROCS(0)
}
