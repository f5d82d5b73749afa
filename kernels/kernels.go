// Package kernels is eandarn's compute backend: one Backend interface for
// the operations of a training step, its CPU implementation (NewCPU: gonum
// and goroutines over blocks of points, float64), and the slice-level
// reference loops (MatMul, MatMulT, OuterAcc, RowSumAcc, TanhBias,
// MulTanhDeriv, Mix, MixAdjoint, ParallelFor) that the CPU backend and solver/nn's fused
// network passes are built from. The slice-level kernels are generic over the
// element type (Float: float32 or float64).
//
// The interface is shaped for a device backend that keeps buffers resident
// between calls: buffers are handles allocated by the backend (Alloc) and
// every op takes handles, so a training step runs without host round trips;
// only Upload, Download and the scalar reductions (Sum, Dot) move data to the
// host. Sparse operators and stencils are uploaded once (NewCSR, NewStencil).
// Each method's documentation gives the formula or reference loop it
// computes: the CPU code is the specification of a device implementation.
//
// Layouts: a Mat is a row-major Rows x Cols view of a buffer. Dense-layer
// activations are feature-major: a layer with `in` inputs over npts points
// reads an in x npts Mat (feature j of point p at j·npts+p), so consecutive
// points are contiguous. Weights are row-major out x in.
//
// Reductions are deterministic: partial sums over fixed chunks (independent
// of the number of goroutines) are added in chunk order.
//
// On amd64 with AVX2 and FMA (detected at start-up) MatMul, MatMulT,
// OuterAcc, TanhBias, MulTanhDeriv, Mix and MixAdjoint run hand-written
// vector loops (simd_amd64.s) for both element types, 4 float64 or 8 float32
// per register; the pure-Go loops run elsewhere and under -tags purego. Both
// are deterministic; they agree to rounding (the summation order differs;
// MulTanhDeriv, Mix and MixAdjoint give the same bits on both). No
// CUDA backend exists yet: it would implement Backend behind the build tag
// `cuda`.
package kernels

import "github.com/eandarn/eandarn/solver/sparse"

// Buffer is a handle to an array of Len() float64 values owned by a Backend
// (host memory for the CPU backend, device memory for a GPU one). A Buffer
// must only be passed to the Backend that allocated it.
type Buffer interface {
	Len() int
}

// Mat is a row-major Rows x Cols matrix stored at the start of Buf.
type Mat struct {
	Buf        Buffer
	Rows, Cols int
}

// Activation selects the nonlinearity of a dense layer.
type Activation int

const (
	Linear  Activation = iota // a = z
	Tanh                      // a = tanh z, a' = 1 − a²
	Sigmoid                   // a = 1/(1+e^−z), a' = a(1 − a)
)

// CSR is a sparse matrix uploaded to a backend by NewCSR.
type CSR interface {
	Dims() (rows, cols int)
}

// Stencil is a banded operator along the columns (frames) of a matrix,
// uploaded by NewStencil: column t of the result is
// Σ_{k<len(w[t])} w[t][k] · column start[t]+k of the input. The temporal
// derivative of Eq. 17–18 is one (solver/temporal.Weights gives start, w).
type Stencil interface {
	Frames() int
}

// AdamConfig holds the hyperparameters of one Adam step (Kingma & Ba 2015,
// in PyTorch's formulation).
type AdamConfig struct {
	LR, Beta1, Beta2, Eps float64
}

// Backend is the set of operations a training step needs. Errors report
// shape mismatches and foreign handles; a backend does not check for NaN.
type Backend interface {
	// Name identifies the backend ("cpu", "cuda").
	Name() string

	// Alloc returns a zeroed buffer of n values.
	Alloc(n int) (Buffer, error)
	// Free releases b; using b afterwards is an error.
	Free(b Buffer)
	// Upload copies src into the first len(src) values of dst.
	Upload(dst Buffer, src []float64) error
	// Download copies the first len(dst) values of src into dst.
	Download(dst []float64, src Buffer) error

	// DenseForward computes one dense layer over npts points (feature-major):
	//
	//	y[i·npts+p] = act(Σ_{j<in} w[i·in+j]·x[j·npts+p] + b[i])   i < out, p < npts
	//
	// x is an in x npts Mat, y an out x npts Mat, w has out·in values, b out.
	DenseForward(y, x Mat, w, b Buffer, act Activation) error
	// DenseBackward is the adjoint of DenseForward given y and gy = dL/dy:
	//
	//	gz = gy ⊙ act'(y)                 (gy is overwritten by gz)
	//	gw[i·in+j] += Σ_p gz[i·npts+p]·x[j·npts+p]
	//	gb[i]      += Σ_p gz[i·npts+p]
	//	gx[j·npts+p] = Σ_i w[i·in+j]·gz[i·npts+p]   (skipped when gx.Buf is nil)
	//
	// The sums over p are deterministic.
	DenseBackward(gx, gy, x, y Mat, w, gw, gb Buffer, act Activation) error
	// Activate applies act elementwise: dst[k] = act(src[k]) for k < n.
	Activate(dst, src Buffer, n int, act Activation) error

	// NewCSR uploads a sparse matrix (e.g. the Eq. 15 mesh Laplacian).
	NewCSR(a *sparse.CSR) (CSR, error)
	// SpMM computes dst = A x for a dense x with A's column count of rows:
	//
	//	dst[i][c] = Σ_{k in row i} a.Val[k]·x[a.ColIdx[k]][c]
	//
	// (The Eq. 15 Laplacian is not symmetric: for the reverse pass upload Aᵀ
	// as a second CSR.)
	SpMM(dst Mat, a CSR, x Mat) error

	// NewStencil uploads a banded stencil along frames: frame t of the
	// result combines frames start[t] … start[t]+len(w[t])−1.
	NewStencil(start []int, w [][5]float64) (Stencil, error)
	// ApplyStencil computes, along the columns (frames) of u (rows x T),
	//
	//	dst[i][t] = scale · Σ_{k<5} w[t][k]·u[i][start[t]+k]
	//
	// (scale = 1/τ turns the Eq. 17–18 weights into u_t).
	ApplyStencil(dst, u Mat, s Stencil, scale float64) error
	// ApplyStencilT is the adjoint of ApplyStencil (the reverse pass of a
	// loss on u_t): for every row i, starting from dst[i][·] = 0, for t in
	// increasing order and k < 5,
	//
	//	dst[i][start[t]+k] += scale · w[t][k]·g[i][t]
	ApplyStencilT(dst, g Mat, s Stencil, scale float64) error

	// Gemm computes c = alpha·op(a)·op(b) + beta·c with op(m) = mᵀ when the
	// matching trans flag is set (e.g. the data term Ŷ = R Û of Eq. 5).
	Gemm(transA, transB bool, alpha float64, a, b Mat, beta float64, c Mat) error

	// Sum returns Σ_{k<n} x[k], Dot returns Σ_{k<n} x[k]·y[k]; both
	// deterministic (fixed chunks added in order).
	Sum(x Buffer, n int) (float64, error)
	Dot(x, y Buffer, n int) (float64, error)

	// Adam performs step t (t ≥ 1) of Adam on n parameters, in place:
	//
	//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
	//	p −= (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)
	Adam(p, g, m, v Buffer, n, t int, cfg AdamConfig) error
}
