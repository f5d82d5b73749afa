// Package nn describes the networks of EAND-ARN and the EP-DL variants: the
// tanh FNN (paper Eq. 10) and the adaptive residual network ARN (Eq. 11,
// Table I), mapping physical inputs [x, y, z, t] (or any number of per-point
// features, the time last) to [u, v]. It holds the architecture, the input
// normalization, the parameter layout and the initialization; the passes
// (forward over many points, Taylor jets for the AD losses, the reverse pass
// to the weight gradient) run on a compute backend (kernels.Backend.NewNet,
// one fused pass object per network and use).
//
// # API
//
//	cfg, _ := nn.Preset("NN6")                        // or nn.Config{Layers: 10, Width: 15, Blocks: 3}
//	norm := nn.BoxNormalizer(lo, hi)                  // the inputs' bounding box; len(lo) inputs
//	net, _ := nn.New(cfg, norm, seed)                 // Glorot-uniform W, zero b, α_T = 0
//	be, _ := kernels.Open("cpu", kernels.Options{})   // a compute backend
//	pass, _ := be.NewNet(net.Spec(), kernels.NetOptions{Compute: kernels.F32, IO: kernels.F64,
//	        First: 1, Second: 3, MaxPoints: npts, Tape: true})
//	pass.Forward(params, x, dirs, y)                  // y: values and jets, u and v as separate rows
//	pass.Backward(params, gy, grad)                   // grad += dL/dθ given gy = dL/dy
//
// params, x, dirs, y, gy and grad are backend buffers (kernels.View/Mat):
// params holds net.Params uploaded; x is In x npts (one input per row, one
// point per column); y is (1+K1+K2)·2 x npts, rows c·2 (u) and c·2+1 (v)
// for channel c: the values, the K1 first derivatives along dirs[0…K1−1]
// (u_t, v_t along e_t; n·∇u along a per-point normal) and the K2 second
// derivatives along dirs[K1…] (e_x, e_y, e_z: Δu = their sum). Derivatives
// are with respect to the physical inputs: the normalizer's factors are
// included.
//
// # Architectures
//
// Config{Layers, Width, Blocks} (kernels.Arch). FNN (Blocks == 0): Layers−1
// hidden layers h = tanh(W h + b) of Width neurons and a linear output layer
// [u, v] = W h + b. ARN (Blocks > 0, Layers = 3·Blocks + 1, Table I): one
// tanh layer In → Width, then the blocks, with one tanh layer Width → Width
// between consecutive blocks, then the linear output layer. Block b (Eq. 11):
//
//	h1 = tanh(W1 x + b1); h2 = tanh(W2 h1 + b2); x' = (1 − α_b) h2 + α_b x,  α_b = sigmoid(α_T,b)
//
// α_T is trainable and initialised to 0 (α = 1/2: the paper does not give
// the initial value). Presets NN1 … NN6: 4/15/0, 4/15/1, 7/15/0, 7/15/2,
// 10/15/0, 10/15/3 (layers/width/blocks); EAND-ARN uses NN6.
//
// # Normalization
//
// Inputs are mapped to [-1, 1] per coordinate, x̃_j = (x_j − Center_j)/Scale_j
// (Normalizer; BoxNormalizer takes the bounding box of the data). The first
// layer sees x̃; first-derivative channels see d_j/Scale_j, so every
// derivative is with respect to physical coordinates.
//
// # Parameter layout
//
// Params is one flat slice: for every dense layer in forward order (input
// layer, block layers and between-block layers in order, output layer last),
// W (out x in, row-major: W[i][j] at w+i·in+j) followed by b (out); then α_T
// of blocks 0 … Blocks−1. ParamName(k) names parameter k. NN6 has
// 4·15+15 + 8·(15·15+15) + 15·2+2 + 3 = 2030 parameters.
//
// # Automatic differentiation
//
// The jets propagate Taylor channels through the layers: per point, the
// value, the first directional derivatives along every direction and the
// second directional derivatives along the second-order ones. Dense layer:
// z = W h + b, ż = W ḣ, z̈ = W ḧ. tanh: a = tanh z, ȧ = (1−a²) ż,
// ä = −2a(1−a²) ż² + (1−a²) z̈. The ARN mixing is linear, so it applies
// unchanged to every channel. The reverse pass is reverse mode through
// exactly these operations, giving dL/dθ of any loss of values and
// derivatives in one pass. Cost: 1 + K1 + 2·K2 channels per point.
//
// # Precision
//
// kernels.NetOptions.Compute selects the arithmetic of the passes: float64
// (the gradient checks and the PyTorch float64 cross-check run in it) or
// float32, with float64 inputs, outputs and gradient (the trainer's
// default): the weights and normalized inputs are rounded to float32,
// activations, Taylor channels, adjoints and the per-group gradient sums
// stay in float32, and the gradient is added in float64. Outputs, jets and
// gradients then agree with float64 to about 1e-6 relative (kerneltest
// checks them against a float64 reference), and on the CPU the dense
// products and tanh run 8 AVX2 lanes instead of 4.
//
// Tests here check the passes on the CPU backend against the paper's
// equations (a per-point reference written from Eq. 10–11), finite
// differences in the inputs (jets) and in the weights (gradients), and
// PyTorch autograd (testdata/nn/torch_check.py). BenchmarkEpochNN6FullGrid
// and testdata/nn/torch_bench.py time the same network epoch in Go and
// PyTorch.
package nn
