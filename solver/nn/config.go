package nn

import (
	"fmt"
	"strings"

	"github.com/eandarn/eandarn/kernels"
)

// Out is the network's output size: [u, v].
const Out = 2

// Config selects an architecture. Blocks == 0 is an FNN (paper Eq. 10):
// Layers−1 hidden tanh layers of Width neurons and one linear output layer.
// Blocks > 0 is an ARN (paper Eq. 11, Table I): one tanh layer before the
// first adaptive residual block, two tanh layers per block, one tanh layer
// between consecutive blocks and one linear output layer, so Layers must be
// 3·Blocks + 1.
type Config struct {
	Layers int // dense layers, the output layer included
	Width  int // neurons of every hidden layer
	Blocks int // adaptive residual blocks; 0 for an FNN
}

// presets are the configurations of the paper's Table I.
var presets = map[string]Config{
	"NN1": {Layers: 4, Width: 15, Blocks: 0},
	"NN2": {Layers: 4, Width: 15, Blocks: 1},
	"NN3": {Layers: 7, Width: 15, Blocks: 0},
	"NN4": {Layers: 7, Width: 15, Blocks: 2},
	"NN5": {Layers: 10, Width: 15, Blocks: 0},
	"NN6": {Layers: 10, Width: 15, Blocks: 3},
}

// Preset returns the Table I configuration NN1 … NN6 (case-insensitive).
// NN6 (10 layers x 15, 3 blocks) is EAND-ARN's network.
func Preset(name string) (Config, error) {
	c, ok := presets[strings.ToUpper(name)]
	if !ok {
		return Config{}, fmt.Errorf("nn: unknown preset %q (want NN1 … NN6)", name)
	}
	return c, nil
}

// arch returns the kernels architecture of c with in inputs.
func (c Config) arch(in int) kernels.Arch {
	return kernels.Arch{In: in, Out: Out, Layers: c.Layers, Width: c.Width, Blocks: c.Blocks}
}

// Validate reports whether the configuration describes a network.
func (c Config) Validate() error {
	if err := c.arch(1).Validate(); err != nil {
		return fmt.Errorf("nn: config %v: %w", c, err)
	}
	return nil
}

// String formats the configuration as "layers x width / blocks".
func (c Config) String() string {
	return fmt.Sprintf("%dx%d/%d", c.Layers, c.Width, c.Blocks)
}
