package nn

import (
	"fmt"
	"strings"
)

// In and Out are the network's input and output sizes: [x, y, z, t] -> [u, v].
const (
	In  = 4
	Out = 2
)

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

// Validate reports whether the configuration describes a network.
func (c Config) Validate() error {
	switch {
	case c.Width < 1:
		return fmt.Errorf("nn: config %v: width must be ≥ 1", c)
	case c.Blocks < 0:
		return fmt.Errorf("nn: config %v: blocks must be ≥ 0", c)
	case c.Blocks == 0 && c.Layers < 2:
		return fmt.Errorf("nn: config %v: an FNN needs ≥ 2 layers (hidden + output)", c)
	case c.Blocks > 0 && c.Layers != 3*c.Blocks+1:
		return fmt.Errorf("nn: config %v: an ARN with %d blocks has 3·blocks+1 = %d layers, got %d",
			c, c.Blocks, 3*c.Blocks+1, c.Layers)
	}
	return nil
}

// String formats the configuration as "layers x width / blocks".
func (c Config) String() string {
	return fmt.Sprintf("%dx%d/%d", c.Layers, c.Width, c.Blocks)
}

// Precision selects the floating-point type of the network passes.
type Precision int

const (
	Float64 Precision = iota // float64 throughout (the gradient checks' precision)
	Float32                  // float32 activations and products, 8 AVX2 lanes instead of 4
)

// String returns "float64" or "float32".
func (p Precision) String() string {
	if p == Float32 {
		return "float32"
	}
	return "float64"
}

// ParsePrecision parses "float64" or "float32".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "float64":
		return Float64, nil
	case "float32":
		return Float32, nil
	}
	return 0, fmt.Errorf("nn: unknown precision %q (want float64 or float32)", s)
}
