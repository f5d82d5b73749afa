// Package kernels is eandarn's compute seam: the Backend interface through
// which the PINN trainer (solver/pinn) runs every operation of a training
// step, a registry of backends, and the CPU backend (pure Go plus AVX2/FMA
// assembly). The trainer calls nothing else: a new backend (a GPU, say) is
// a second implementation of Backend and one registry line, and the
// conformance suite kernels/kerneltest checks it op by op. Go and
// ParallelFor, the goroutine helpers of the solvers outside the training
// step (the BEM, STRE), carry a worker's panic to the waiting goroutine, as
// the CPU backend's pool does.
//
// # Model
//
// A backend owns memory that stays resident between calls, like a device:
//
//   - Buffers have an element type (F32, F64, or I32 for indices) and are
//     addressed through Views (an offset and a length into a Buffer) and
//     Mats (a row-major Rows x Cols View). Host data crosses only through
//     Upload, UploadIndex and Download; in a training step that is the
//     step's frame and point indices (small, one way) and the read-back of
//     a few loss values every SyncEvery steps.
//   - Operators are uploaded once as plain slices (NewCSR for the Eq. 15
//     Laplacian, NewStencil for the Eq. 17–18 time derivative), so kernels
//     imports nothing from solver/.
//   - A network is one fused pass object per network and use (NewNet): a
//     forward pass over a set of points (optionally with Taylor jets, the
//     input derivatives the AD losses need), keeping its activations for the
//     reverse pass to the weight gradient. Backward does the whole network
//     in one call, not one call per layer.
//   - Losses and the non-finite check write into buffers (DataLoss,
//     APResidual, AllFinite); the caller reads them back when it chooses,
//     so a device can return them every K steps.
//
// Every op states its result as a formula or a reference loop in its doc
// comment: the CPU code is the specification of a device implementation.
// Where the CPU fixes a summation order (reductions, sparse adjoints), a
// device may use another fixed order: results must be deterministic (the same
// bits from run to run) and agree with the CPU backend to rounding, within
// the tolerances of kerneltest.
//
// Element types: within one op every floating-point operand has the same
// type (the op's type), except for the conversions of Copy, GatherRows and
// ScatterAddRows and for the network pass, whose arithmetic
// (NetOptions.Compute) may be narrower than its operands (NetOptions.IO):
// the CPU runs float32 passes and float32 data products on float64 inputs,
// outputs, losses and gradients. A backend reports the types it supports
// with Supports; a float32-only device runs the whole step in float32.
//
// Concurrency: like a device stream, a Backend executes ops in the order
// they are issued and is used from one goroutine at a time; the ops
// themselves may be internally parallel. Several networks (an ensemble)
// share a backend, its buffers and its uploaded operators by issuing their
// ops in turn.
//
// # Implementing a backend
//
// A backend implements Backend (and Net, CSR and Stencil for its objects),
// registers an opener under its name in an init function,
//
//	func init() { kernels.Register("cuda", openCUDA) }
//
// and is selected by that name: kernels.Open("cuda", kernels.Options{}),
// which is what eandarn-batch -device passes through Run.Device. Then it runs
// the conformance suite from a test in its package:
//
//	func TestConformance(t *testing.T) { kerneltest.Run(t, "cuda") }
//
// kerneltest checks every op in every supported type against float64
// reference loops on random inputs of awkward sizes (1, 7, 255, 256, 257
// points, widths 5/10/15, empty batches), the network passes against a
// reference network with complex-step derivatives, and determinism across
// worker counts and repeated runs. solver/pinn's TestStepOnBackends checks a
// full training step (loss and gradient) of every registered backend
// against the CPU backend in float64.
//
// # The CPU backend
//
// "cpu" runs the ops on Options.Workers goroutines (default GOMAXPROCS) of a
// pool started once, over fixed chunks of points, nodes, rows or frames that
// never write the same value, with partial sums added in chunk order: results
// are bit-identical for any number of workers, and a training step allocates
// nothing after its first call. The dense products and tanh of the network
// passes use hand-written AVX2+FMA kernels (simd_amd64.s) in float64 (4
// lanes) and float32 (8 lanes) when the CPU has them (detected at start-up);
// the pure-Go loops run elsewhere and under -tags purego, and agree with the
// assembly to rounding (the summation order differs; the tanh derivative and
// the ARN mixing give the same bits).
package kernels

import "fmt"

// DType is the element type of a Buffer.
type DType uint8

const (
	F32 DType = 1 + iota // float32
	F64                  // float64
	I32                  // int32 (indices)
)

// String returns "float32", "float64" or "int32".
func (d DType) String() string {
	switch d {
	case F32:
		return "float32"
	case F64:
		return "float64"
	case I32:
		return "int32"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// ParseFloat parses "float32" or "float64" (the floating-point types).
func ParseFloat(s string) (DType, error) {
	switch s {
	case "float32":
		return F32, nil
	case "float64":
		return F64, nil
	}
	return 0, fmt.Errorf("kernels: unknown precision %q (want float32 or float64)", s)
}

// Buffer is an array of Len() elements of type DType() owned by the Backend
// that allocated it (host memory for the CPU backend, device memory for a
// GPU one). A Buffer must only be passed to that Backend.
type Buffer interface {
	DType() DType
	Len() int
}

// View is the N elements Off … Off+N−1 of Buf.
type View struct {
	Buf    Buffer
	Off, N int
}

// Whole returns the view of all of b.
func Whole(b Buffer) View { return View{Buf: b, N: b.Len()} }

// DType returns the element type of the view's buffer.
func (v View) DType() DType { return v.Buf.DType() }

// Slice returns the elements lo … hi−1 of v. It panics when 0 ≤ lo ≤ hi ≤ N
// does not hold.
func (v View) Slice(lo, hi int) View {
	if lo < 0 || hi < lo || hi > v.N {
		panic(fmt.Sprintf("kernels: view slice [%d:%d] of %d elements", lo, hi, v.N))
	}
	return View{Buf: v.Buf, Off: v.Off + lo, N: hi - lo}
}

// Mat returns the first rows·cols elements of v as a row-major rows x cols
// matrix. It panics when v is too short.
func (v View) Mat(rows, cols int) Mat {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels: matrix %dx%d", rows, cols))
	}
	return Mat{View: v.Slice(0, rows*cols), Rows: rows, Cols: cols}
}

// Mat is a row-major Rows x Cols matrix: element (i, j) is element
// Off + i·Cols + j of Buf, and N = Rows·Cols.
type Mat struct {
	View
	Rows, Cols int
}

// Row returns row i.
func (m Mat) Row(i int) View { return m.View.Slice(i*m.Cols, (i+1)*m.Cols) }

// CSRData is a sparse matrix in compressed sparse row form, as plain slices:
// row i holds Val[RowPtr[i]:RowPtr[i+1]] at the columns ColIdx[…] of the
// same range.
type CSRData struct {
	Rows, Cols int
	RowPtr     []int32
	ColIdx     []int32
	Val        []float64
}

// CSR is a sparse matrix uploaded by NewCSR.
type CSR interface {
	Dims() (rows, cols int)
}

// Stencil is a banded operator along frames uploaded by NewStencil: frame t
// of its result combines frames start[t] … start[t]+4 of its input with the
// weights w[t][0…4] (the Eq. 17–18 time derivative: solver/temporal.Weights).
type Stencil interface {
	Frames() int
}

// APParams are the Aliev–Panfilov parameters of Eq. 1–3 and the guard of the
// pole of ε (solver/ap.Params).
type APParams struct {
	A, D, K, E0, Mu1, Mu2 float64
	// EpsDelta > 0 evaluates ε at max(u, −μ2 + EpsDelta); 0 is the raw ε.
	EpsDelta float64
}

// APPoints are the per-point quantities of the Aliev–Panfilov residuals
// (APResidual): û, v̂, û_t, v̂_t, Δû and n·∇û (Dn; N = 0 without r_b), or
// the loss's derivatives with respect to each. Every non-empty view has the
// same length and type.
type APPoints struct {
	U, V, Ut, Vt, Lap, Dn View
}

// AdamConfig holds the hyperparameters of one Adam step (Kingma & Ba 2015,
// in PyTorch's formulation).
type AdamConfig struct {
	LR, Beta1, Beta2, Eps float64
}

// Backend is the set of operations a training step needs. Errors report
// shape and type mismatches, foreign and freed buffers and bad options; a
// backend does not check values (NaN passes through; AllFinite tests them).
// In the formulas, x[k] is element k of a View, m[i][j] element (i, j) of a
// Mat, and index Views hold I32.
type Backend interface {
	// Name identifies the backend ("cpu", "cuda"): the name it is
	// registered under.
	Name() string
	// Supports reports whether buffers and ops of type d are available.
	Supports(d DType) bool
	// SyncEvery is how many training steps the caller may issue between
	// reads of their losses (1 on the CPU, where reading is free).
	SyncEvery() int
	// Close releases the backend's resources (goroutines, device memory);
	// the backend and its objects must not be used afterwards.
	Close() error

	// Alloc returns a zeroed buffer of n elements of type d.
	Alloc(d DType, n int) (Buffer, error)
	// Free releases b; using b afterwards is an error.
	Free(b Buffer)
	// Upload copies src into dst (len(src) == dst.N), rounded to dst's
	// floating-point type.
	Upload(dst View, src []float64) error
	// UploadIndex copies src into the I32 view dst (len(src) == dst.N).
	UploadIndex(dst View, src []int32) error
	// Download copies src into dst (len(dst) == src.N), converted to float64.
	Download(dst []float64, src View) error

	// Fill sets dst[k] = v for k < dst.N (v rounded to dst's type).
	Fill(dst View, v float64) error
	// Copy sets dst[k] = src[k] for k < dst.N (= src.N), converted to dst's
	// type (float32 ↔ float64).
	Copy(dst, src View) error
	// Add sets dst[k] = a[k] + b[k]; dst may be a or b.
	Add(dst, a, b View) error
	// Diff sets dst[k] = (a[k] − b[k]) / d (e.g. a central difference).
	Diff(dst, a, b View, d float64) error
	// AllFinite sets dst[0] = 1 when every x[k] is finite (no NaN, no ±Inf)
	// and 0 otherwise; dst has x's type.
	AllFinite(dst, x View) error

	// Inputs assembles network inputs (x is In x npts) at points of a grid
	// of nodes x frames: with n = feat.Cols and F = feat.Rows = In − 1, for
	// k < npts, q = pts[k] (or q = k when pts.N == 0), node i = q mod n and
	// frame f = frames[q div n],
	//
	//	x[j][k] = feat[j][i]  (j < F),   x[F][k] = times[f]
	//
	// feat holds per-node features (the heart coordinates x, y, z; shifted
	// nodes; normals with times = 0 for a direction), times per-frame times.
	Inputs(x, feat Mat, times, frames, pts View) error
	// Gather sets dst[k] = src[idx[k]] for k < dst.N.
	Gather(dst, src, idx View) error
	// ScatterAdd adds src[k] into dst[idx[k]] for k < src.N in increasing
	// k; the indices must be distinct (a device may add them in any order).
	ScatterAdd(dst, src, idx View) error
	// GatherRows sets row k of dst to row rows[k] of src (dst.Cols =
	// src.Cols), converted to dst's type.
	GatherRows(dst, src Mat, rows View) error
	// ScatterAddRows adds row k of src, converted to dst's type, into row
	// rows[k] of dst, element by element; the rows must be distinct.
	ScatterAddRows(dst, src Mat, rows View) error

	// MulABt sets c = a bᵀ: c[i][k] = Σ_j a[i][j]·b[k][j] (Ŷᵀ = R Ûᵀ of
	// Eq. 5; a is the transfer matrix R, m x n, b the batch's û, B x n).
	MulABt(c, a, b Mat) error
	// MulAB sets c = a b: c[k][j] = Σ_i a[k][i]·b[i][j] (the adjoint E R of
	// the data term).
	MulAB(c, a, b Mat) error
	// DataLoss is L_D of Eq. 5 and its adjoint: with et = R Ûᵀ (m x B), the
	// measurements y (T x m, one frame per row), the B batch frames and
	// N = m·B,
	//
	//	s = Σ_{k<B} Σ_{i<m} (et[i][k] − y[frames[k]][i])²   (k outer, i inner)
	//	e[k][i] = (2·scale/N)·(et[i][k] − y[frames[k]][i])
	//	loss[0] = s / N   (0 when N = 0)
	DataLoss(e, et, y Mat, frames View, scale float64, loss View) error

	// NewNet builds the fused pass object of a network (see Net).
	NewNet(spec *NetSpec, opt NetOptions) (Net, error)

	// NewCSR uploads a sparse matrix with values of type d. A backend may
	// also keep its transpose for SpMMRowsAdjoint.
	NewCSR(a CSRData, d DType) (CSR, error)
	// NewStencil uploads the stencil of T = len(start) frames (start[t] + 4
	// < T) with weights of type d.
	NewStencil(start []int32, w [][5]float64, d DType) (Stencil, error)
	// SpMMRows applies A (n x n) to rows of src, one frame per row: for
	// b < dst.Rows and i < n,
	//
	//	dst[b][i] = Σ_{e in row i, in order} A.val[e]·src[rows[b]][A.col[e]]
	//
	// (the Eq. 15 Laplacian Δû of batch frame b).
	SpMMRows(dst Mat, a CSR, src Mat, rows View) error
	// SpMMRowsAdjoint adds the transpose: for b < g.Rows, i < n in
	// increasing order and e in row i in order,
	//
	//	dst[rows[b]][A.col[e]] += A.val[e]·g[b][i]
	//
	// (rows distinct). A device may sum each element's terms from Aᵀ in
	// another fixed order.
	SpMMRowsAdjoint(dst Mat, a CSR, g Mat, rows View) error
	// TimeDeriv applies the stencil at the batch frames: for b < dst.Rows,
	// t = frames[b], i < dst.Cols,
	//
	//	s = Σ_{j<5, in order} w[t][j]·src[srcRows[b·5+j]][i];  dst[b][i] = s / tau
	//
	// where srcRows[b·5+j] is the row of src holding frame start[t]+j
	// (û_t of Eq. 17–18 from the window frames).
	TimeDeriv(dst Mat, s Stencil, src Mat, frames, srcRows View, tau float64) error
	// TimeDerivAdjoint adds the transpose of TimeDeriv: for b < g.Rows in
	// order, i < g.Cols, x = g[b][i] / tau and j < 5 in order,
	//
	//	dst[srcRows[b·5+j]][i] += w[frames[b]][j]·x
	TimeDerivAdjoint(dst Mat, s Stencil, g Mat, frames, srcRows View, tau float64) error

	// APResidual is L_EP of Eq. 9 with the residuals of Eq. 6–8 and its
	// adjoint. For k < N_c = q.U.N:
	//
	//	r_u = u_t − D Δu − (k u (1−u)(u−a) − u v)                   (Eq. 6)
	//	ε = e0 + μ1 v/(ũ + μ2),  ũ = max(u, −μ2+δ) if δ > 0 else u
	//	h = −v − k u (u−a−1);  r_v = v_t − ε h                        (Eq. 7)
	//	r_b = n·∇u = q.Dn[k]  (only when q.Dn.N > 0)                   (Eq. 8)
	//	α = 2·scale·r_u/N_c,  β = 2·scale·r_v/N_c
	//	g.U = α (−k(−3u² + 2(1+a)u − a) + v) + β (−∂ε/∂u h + ε k (2u−a−1))
	//	g.V = α u + β (−∂ε/∂v h + ε),  g.Ut = α,  g.Lap = α (−D),  g.Vt = β
	//	g.Dn = 2·scale·r_b/N_c
	//
	// with ∂ε/∂v = μ1/(ũ+μ2), ∂ε/∂u = −μ1 v/(ũ+μ2)² (0 where the guard
	// clamps). loss[0] = (1/N_c) Σ_k (r_u² + r_v² + r_b²), the sum taken over
	// fixed chunks of 1024 points, the chunk sums added in order.
	APResidual(p APParams, q, g APPoints, scale float64, loss View) error

	// Adam performs step t ≥ 1 of Adam on the parameters p in place, given
	// the gradient g and the moments m, v:
	//
	//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
	//	p −= (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
	Adam(p, g, m, v View, t int, cfg AdamConfig) error
}

// NetOptions configures a network pass object.
type NetOptions struct {
	// Compute is the arithmetic of the pass (F32 or F64); IO the type of
	// its inputs, directions, outputs, adjoints, parameters and gradient.
	// With Compute narrower than IO, the inputs are normalized in float64
	// and rounded, the weights rounded at the start of each Forward, and
	// the gradient summed in Compute per fixed group of points and added to
	// the IO gradient.
	Compute, IO DType
	// First and Second are the numbers K1, K2 of first- and second-order
	// input directions of the Taylor jets (0, 0: values only).
	First, Second int
	// MaxPoints bounds the points of one Forward when Tape is set.
	MaxPoints int
	// Tape keeps the activations of the last Forward for Backward; without
	// it Forward only evaluates (e.g. the final prediction).
	Tape bool
}

// Net is the fused pass of one network (NewNet): the whole FNN or ARN over
// a set of points in one call, its Taylor-jet variant and its reverse pass.
// It is used from one goroutine at a time; one network may have several
// Nets (a training window, the jets at the collocation points, a
// prediction pass), and one Backend several networks.
type Net interface {
	// Forward evaluates the network with parameters params at the npts =
	// x.Cols points x (In x npts, physical units, one feature per row) and
	// writes y, (1+K1+K2)·Out x npts: rows c·Out+o hold channel c of output
	// o, channel 0 the values f(x_p), channel 1+k the first derivative
	// d/dε f(x_p + ε d_k) along dirs[k] (k < K1), channel 1+K1+j the second
	// derivative d²/dε² f(x_p + ε d_{K1+j}) along dirs[K1+j] (j < K2), at
	// ε = 0. dirs holds K1+K2 In x npts matrices in physical units (the
	// normalization's factors enter the channels). Forward-mode Taylor
	// rules: dense z = W h + b, ż = W ḣ, z̈ = W ḧ; tanh a = tanh z,
	// ȧ = (1−a²) ż, ä = (1−a²) z̈ − 2a(1−a²) ż²; the ARN mixing is linear in
	// every channel.
	Forward(params View, x Mat, dirs []Mat, y Mat) error
	// Backward adds to grad (NumParams) the gradient dL/dθ of a loss L
	// given gy = dL/dy, laid out like y, at the points of the last Forward
	// (Tape): reverse mode through exactly the Forward's operations. params
	// must be the Forward's.
	Backward(params View, gy Mat, grad View) error
	// Free releases the pass's storage.
	Free()
}
