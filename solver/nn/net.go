package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/eandarn/eandarn/kernels"
)

// Net is an FNN or ARN with its input normalizer and trainable parameters:
// the description a compute backend runs (Spec) and the host copy of the
// weights. Parameters live in one flat slice (see the package documentation
// for the layout); the trainer keeps the live weights on its backend and
// copies them here when it needs them on the host.
type Net struct {
	Config Config
	Norm   Normalizer
	Params []float64

	spec *kernels.NetSpec
}

// New builds the network of cfg over len(norm.Center) inputs with
// Glorot-uniform weights (U(−√(6/(in+out)), +√(6/(in+out)))), zero biases
// and α_T = 0 (α = 1/2), drawn deterministically from seed.
func New(cfg Config, norm Normalizer, seed uint64) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(norm.Scale) != len(norm.Center) {
		return nil, fmt.Errorf("nn: normalizer of %d centers and %d scales", len(norm.Center), len(norm.Scale))
	}
	spec, err := cfg.arch(len(norm.Center)).Spec(norm.Center, norm.Scale)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	n := &Net{Config: cfg, Norm: norm, Params: make([]float64, spec.NumParams), spec: spec}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, l := range spec.Layers {
		lim := math.Sqrt(6 / float64(l.In+l.Out))
		for k := range l.In * l.Out {
			n.Params[l.W+k] = lim * (2*rng.Float64() - 1)
		}
	}
	return n, nil
}

// Spec returns the network as the compute backends take it
// (kernels.Backend.NewNet).
func (n *Net) Spec() *kernels.NetSpec { return n.spec }

// In returns the number of inputs.
func (n *Net) In() int { return n.spec.In }

// NumParams returns len(Params).
func (n *Net) NumParams() int { return len(n.Params) }

// Alphas returns α = sigmoid(α_T) of each residual block (empty for an FNN).
func (n *Net) Alphas() []float64 {
	a := make([]float64, n.Config.Blocks)
	for b := range a {
		a[b] = 1 / (1 + math.Exp(-n.Params[n.spec.AlphaT+b]))
	}
	return a
}

// ParamName describes parameter k, e.g. "layer 3 W[2,7]", "layer 0 b[4]" or
// "block 1 alpha_T"; checkpoints and error messages use it.
func (n *Net) ParamName(k int) string {
	if k < 0 || k >= len(n.Params) {
		return fmt.Sprintf("parameter %d out of range [0,%d)", k, len(n.Params))
	}
	if k >= n.spec.AlphaT {
		return fmt.Sprintf("block %d alpha_T", k-n.spec.AlphaT)
	}
	for i, l := range n.spec.Layers {
		if k < l.B {
			return fmt.Sprintf("layer %d W[%d,%d]", i, (k-l.W)/l.In, (k-l.W)%l.In)
		}
		if k < l.B+l.Out {
			return fmt.Sprintf("layer %d b[%d]", i, k-l.B)
		}
	}
	panic("unreachable")
}
