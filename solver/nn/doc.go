// Package nn implements the networks of EAND-ARN and the EP-DL variants:
// the tanh FNN (paper Eq. 10) and the adaptive residual network ARN (Eq. 11,
// Table I), mapping physical [x, y, z, t] to [u, v], with forward and reverse
// passes over many points and forward-mode Taylor jets for the AD losses.
//
// # API
//
//	cfg, _ := nn.Preset("NN6")                  // or nn.Config{Layers: 10, Width: 15, Blocks: 3}
//	norm, _ := nn.FitNormalizer(x)              // x: npts x 4 physical points (mm, AP time)
//	net, _ := nn.New(cfg, norm, seed)           // Glorot-uniform W, zero b, α_T = 0
//	var ws nn.Workspace                         // reusable; one per concurrent pass
//	net.Forward(&ws, x, y)                      // y: npts x 2 = [u, v] per point
//	net.Backward(&ws, dy, grad)                 // grad += dL/dθ given dy = dL/dy
//	net.ForwardJet(&ws, x, d1, d2, y, dy1, dy2) // + first derivatives along d1[k], second along d2[j]
//	net.BackwardJet(&ws, gy, gd1, gd2, grad)    // grad += dL/dθ given adjoints of y, dy1, dy2
//	net.Predict(x, y)                           // = Forward without keeping activations (no Workspace)
//
// All arrays are row-major float64 slices: x, d1[k], d2[j] are npts x 4
// (directions in physical units, one per point), y, dy1[k], dy2[j] and their
// adjoints npts x 2. Backward and BackwardJet ACCUMULATE into grad (zero it
// first) and use the activations that the last Forward/ForwardJet on the same
// Workspace stored. Typical AD uses: d1 = {e_t, n_p} (u_t, v_t and n·∇u with
// a per-point normal n_p), d2 = {e_x, e_y, e_z} (Δu = Σ_j dy2[j][p*2+0]).
// Derivatives are with respect to the physical inputs: the normalizer's
// factors are included.
//
// A Net may run concurrent passes on distinct Workspaces as long as nothing
// modifies Params meanwhile.
//
// Passes run over blocks of 256 points on Net.Workers goroutines (default
// GOMAXPROCS); gradients are summed per fixed group of blocks and the groups
// added in order, so results are bit-identical for any number of workers.
//
// # Architectures
//
// Config{Layers, Width, Blocks}. FNN (Blocks == 0): Layers−1 hidden layers
// h = tanh(W h + b) of Width neurons and a linear output layer [u, v] = W h + b.
// ARN (Blocks > 0, Layers = 3·Blocks + 1, Table I): one tanh layer In → Width,
// then the blocks, with one tanh layer Width → Width between consecutive
// blocks, then the linear output layer. Block b (Eq. 11):
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
// (Normalizer; FitNormalizer takes the bounding box of the data). The first
// layer sees x̃; first-derivative channels see d_j/Scale_j, so every
// derivative the package returns is with respect to physical coordinates.
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
// ForwardJet propagates Taylor channels through the layers: per point, the
// value, the first directional derivatives along d1 and along d2, and the
// second directional derivatives along d2. Dense layer: z = W h + b, ż = W ḣ,
// z̈ = W ḧ. tanh: a = tanh z, ȧ = (1−a²) ż, ä = −2a(1−a²) ż² + (1−a²) z̈.
// The ARN mixing is linear, so it applies unchanged to every channel.
// BackwardJet is reverse mode through exactly these operations (the adjoint
// of the Taylor propagation), giving dL/dθ of any loss of values and
// derivatives in one pass. Cost: 1 + K1 + 2·K2 channels per point.
//
// # Precision
//
// Net.Precision selects the arithmetic of the passes: Float64 (default; the
// gradient checks and the PyTorch float64 cross-check run in it) or Float32.
// The API is float64 either way: with Float32 each pass rounds the weights
// and the normalized inputs to float32, keeps activations, Taylor channels,
// adjoints and the per-group gradient sums in float32, and adds the
// gradient to grad in float64. Outputs, jets and gradients then agree with
// Float64 to 6e-7 relative (TestFloat32MatchesFloat64, random networks), and
// the dense products and tanh run 8 AVX2 lanes instead of 4.
//
// # Performance and memory
//
// Each block of 256 points runs all layers in turn with its activations in
// cache; the dense products and tanh use kernels.MatMul/MatMulT/OuterAcc and
// kernels.TanhBias (AVX2+FMA assembly on amd64 for float64 and float32, pure
// Go elsewhere or with -tags purego; the two builds agree to rounding, each
// is deterministic).
// The Workspace keeps (Σ slot widths)·(1+K1+2K2) values per point plus the
// tanh pre-activations of the derivative channels: NN6 Forward needs 186
// float64 (1.5 KB; half in float32) per point, so the full 1094 x 661 grid in one call takes
// 1.1 GB; mini-batches of frames keep it small. BenchmarkEpochNN6FullGrid and
// testdata/nn/torch_bench.py time the same epoch in Go and PyTorch.
package nn
