// Package pinn implements the physics-informed inverse methods of the paper:
// EAND-ARN and the EP-DL variants. A network [x, y, z, t] → [û, v̂]
// (solver/nn: FNN or ARN) is trained on
//
//	L = L_D + λ L_EP                                              (Eq. 4)
//	L_D  = 1/(m B) Σ_t Σ_l (y(l,t) − (R û(·,t))_l)²                (Eq. 5)
//	L_EP = 1/N_c Σ_k r_u(k)² + r_v(k)² + r_b(k)²                   (Eq. 9)
//
// with the Aliev-Panfilov residuals r_u, r_v (Eq. 6–7, solver/ap) and
// r_b = n·∇û (Eq. 8). The derivatives in the residuals are computed by
//
//   - ND (EAND-ARN, EP-DL_ND): the network is evaluated on whole frames (all
//     heart nodes); Δû is the Eq. 15 mesh Laplacian (mesh.Laplacian) applied
//     to a frame, û_t and v̂_t the Eq. 17–18 stencil (temporal.Weights) over
//     the network's values at the neighbouring frames;
//   - AD (EP-DL_AD): û_t, v̂_t, Δû = û_xx+û_yy+û_zz and n·∇û from the
//     network's Taylor jets (kernels.Net with jet directions) at the
//     collocation points;
//   - ΔND (EP-DL_ΔND, and EAND-ARN by default): the ND Laplacian with the
//     AD time derivative. The window pass over the batch frames carries the
//     Taylor channel along t, so one pass gives û, v̂ and û_t, v̂_t at every
//     node (no stencil frames).
//
// The ND Laplacian is Eq. 15 (Config.Operator "eq15") or the cotangent
// Laplace–Beltrami operator ("cotangent"). It may act on a subdivided copy
// of the heart mesh (Config.PhysicsRefine): the network is then evaluated
// at every node of the copy, L_D reads the heart's own nodes (the copy's
// first ones) and the residuals use them all. Config.LBInputs adds the first
// K Laplace–Beltrami eigenfunctions of the heart mesh to the inputs,
// [x, y, z, φ1 … φK, t] (geometry.go).
//
// Gradients are exact: the reverse pass applies Rᵀ, the transposed Laplacian
// and stencil, and the jets' reverse mode (kernels.Net.Backward); tests check the
// full loss against finite differences.
//
// # Mini-batches and collocation
//
// An epoch is ⌈T/B⌉ Adam steps. By default (Config.RandomFrames) each step
// takes B = 8 frames from a random permutation of all frames; otherwise
// contiguous blocks of B frames in random order (much slower to converge:
// see DefaultConfig). A step evaluates the network on every heart node of
// the batch frames plus, for the ND time derivative, the stencil frames of
// each, takes L_D over the batch frames and the residuals at N_c
// collocation points drawn without replacement from the batch's nodes ×
// frames (Config.Collocation; 0, the ND default, uses all of them: the
// frames are evaluated anyway, so every node is a collocation point at no
// extra network cost). The AD variant draws 1024 points per batch because
// its jets cost 1 + K1 + 2·K2 network passes per point.
//
// Config.TimeCurriculum draws the batches of the first epochs from a window
// of the first frames that grows to the whole recording (causal training):
// where R barely sees a part of the heart only the residuals carry the wave
// there, and they do so only if the frames before the wave arrives are
// learnt first; drawn from the whole beat at once the network leaves them
// at rest, which satisfies the residuals locally (a propagation failure).
//
// # Compute backend, precision and parallelism
//
// Every step runs on a kernels.Backend (Run.Device, "cpu" by default): the
// problem's data, the weights and Adam's moments are uploaded once and stay
// resident; a step uploads its frame and point indices, and the losses come
// back through a record buffer every Backend.SyncEvery steps (objective.eval,
// trainer.flush). Config.Precision selects the arithmetic of the network
// passes and of the data products with R ("float32", the default, or
// "float64"); the other buffers (losses, residuals, Adam) are float64 where
// the backend has float64 (the CPU) and float32 otherwise. The CPU backend runs each op on
// Run.Workers goroutines over fixed chunks of rows, points, nodes or frames
// chosen so that no two write the same value: a step's loss and gradient do
// not depend on the number of goroutines.
//
// # The pole of ε and bad initialization
//
// ε(u,v) = e0 + μ1 v/(u + μ2) has a pole at u = −μ2 = −0.3. An untrained
// network may output û < −0.3 somewhere, and then r_v and L_EP explode:
// the paper's "bad initialization" (Table II). Config.EpsDelta > 0 evaluates
// ε at max(u, −μ2 + EpsDelta) (ap.Params.EpsDelta); 0 is the paper's raw ε.
// Every run records ratio0 = λ·L_EP/L_D at its first step and bad_init =
// ratio0 > Config.BadInitRatio (default 10).
//
// # Checkpoints
//
// Run.Checkpoint is written atomically (temporary file + rename, gob)
// every Run.CheckpointEvery steps, at the end, and when the context is
// cancelled (Solve then returns an error wrapping ErrInterrupted). It holds
// the weights, Adam's moments and step, the PCG state of math/rand/v2, the
// epoch, the batch order and position, the learning-rate scale, the history
// and a hash of the configuration and the data: Run.Resume continues
// bit-identically to an uninterrupted run, and a checkpoint of another
// configuration or dataset is refused (ErrConfigMismatch).
//
// # Non-finite losses
//
// A non-finite loss or gradient rolls back to the state at the start of the
// epoch, halves the learning rate and logs a warning (log/slog); after
// Config.MaxRetries such rollbacks Solve fails with ErrNonFinite.
package pinn
