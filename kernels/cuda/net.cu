// net.cu: the fused network passes of an FNN or ARN (paper Eq. 10–11) over
// many points, with Taylor-mode jets: one launch for the forward pass of all
// layers, one for the reverse pass to per-block weight-gradient partials,
// which net_grad_reduce adds in block order (kernels.Net's Forward and
// Backward; the CPU backend's cpu_net.go is the reference).
//
// One thread per point; the block's threads share the current layer's
// weights in shared memory. Each thread keeps its point's activations of the
// current layer in local arrays (feature-major, channel fastest: h[j*nch+c])
// and writes every slot to the tape, which the reverse pass reads.
//
// Channels (nch = 1 + k1 + 2·k2 ≤ NET_MAXC): 0 the value; 1…k1 the first
// derivatives along the directions d1; k1+1…k1+k2 the first derivatives along
// d2; k1+k2+1…k1+2k2 the second derivatives along d2. The outputs y (and
// their adjoints gy) hold the 1 + k1 + k2 channels of kernels.Net.Forward:
// row c·out + o is channel c ≤ k1 of output o, or for c = 1+k1+j the second
// derivative along d2_j (internal channel c + k2). Per dense layer
// z = W h + b (the bias only on the value channel); per tanh a = tanh z,
// ȧ = (1−a²) ż, ä = (1−a²) z̈ − 2a(1−a²) ż²; the ARN mixing
// x' = (1−α) h2 + α x (α = sigmoid(α_T)) is linear in every channel.
//
// The program (prog, int64, built by the Go driver) describes the network:
//
//	prog[0..4]  = nsteps, in, out, nslots, totalFeatures (Σ slot widths)
//	prog[5..]   = per slot s: width, offset (features before slot s)
//	then        = per step (NET_STEP words): kind (0 dense, 1 mix), src,
//	              skip, nin, nout, woff, boff, tanh, alpha (index of α_T),
//	              preoff (features of tanh pre-activations before this step)
//
// Step k writes slot k+1; slot 0 is the normalized input. The tape holds,
// for point p, slot s feature j channel c at row (offset_s + j)·nch + c, and
// the derivative channels c ≥ 1 of a tanh step's pre-activations at row
// totalFeatures·nch + (preoff + i)·(nch−1) + c − 1; element row·npts + p.
#include "cuda.cuh"

#define NET_MAXW 32	// widest layer (and most inputs/outputs)
#define NET_MAXC 9	// most Taylor channels (k1 ≤ 2 with k2 ≤ 3)
#define NET_BS 128	// threads (points) per block: the launch must use it
#define NET_STEP 10	// words per step in prog
#define NET_OWN ((NET_MAXW * NET_MAXW + NET_MAXW + NET_BS - 1) / NET_BS)

struct NetStep {
	i64 kind, src, skip, nin, nout, woff, boff, tanh, alpha, preoff;
};

__device__ __forceinline__ NetStep net_step(const i64* prog, i64 k) {
	const i64* s = prog + 5 + 2 * prog[3] + k * NET_STEP;
	return NetStep{s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]};
}

__device__ __forceinline__ i64 net_slot_width(const i64* prog, i64 s) { return prog[5 + 2 * s]; }
__device__ __forceinline__ i64 net_slot_off(const i64* prog, i64 s) { return prog[5 + 2 * s + 1]; }

// net_alpha returns α = sigmoid(α_T), computed in double like nn's sigmoid
// and rounded.
__device__ __forceinline__ f32 net_alpha(const f32* params, i64 at) {
	return (f32)(1.0 / (1.0 + exp(-(double)params[at])));
}

// net_load_weights copies a dense step's W (nout x nin) and b into shared
// memory; every thread of the block calls it.
__device__ __forceinline__ void net_load_weights(f32* sw, const f32* params, const NetStep& st) {
	__syncthreads(); // the previous step is done with sw
	i64 nw = st.nout * st.nin;
	for (i64 q = threadIdx.x; q < nw + st.nout; q += blockDim.x) {
		sw[q] = q < nw ? params[st.woff + q] : params[st.boff + q - nw];
	}
	__syncthreads();
}

// net_forward_body is the forward pass of one point (valid) or of none
// (threads past npts still meet every barrier).
template <int MAXC>
__device__ void net_forward_body(const i64* prog, const f32* params, const double* norm, const f32* x, i64 npts,
				 const f32* const* dirs, i64 k1, i64 k2, f32* y, f32* tape) {
	__shared__ f32 sw[NET_MAXW * NET_MAXW + NET_MAXW];
	f32 h[NET_MAXW * MAXC], z[NET_MAXW * MAXC];
	const i64 nsteps = prog[0], in = prog[1], out = prog[2], nslots = prog[3], tf = prog[4];
	const i64 nch = 1 + k1 + 2 * k2;
	const i64 p = (i64)blockIdx.x * blockDim.x + threadIdx.x;
	const bool valid = p < npts;
	if (valid) {
		// x̃ = (x − c)/s in double, then rounded; directions scale by 1/s;
		// the second-derivative channels of the input are zero.
		for (i64 j = 0; j < in; j++) {
			double c = norm[j], s = norm[in + j];
			h[j * nch] = (f32)(((double)x[j * npts + p] - c) / s);
			for (i64 d = 0; d < k1 + k2; d++) {
				h[j * nch + 1 + d] = (f32)((double)dirs[d][j * npts + p] / s);
			}
			for (i64 d = 0; d < k2; d++) {
				h[j * nch + 1 + k1 + k2 + d] = 0;
			}
		}
		for (i64 r = 0; r < in * nch; r++) {
			tape[(net_slot_off(prog, 0) * nch + r) * npts + p] = h[r];
		}
	}
	for (i64 k = 0; k < nsteps; k++) {
		const NetStep st = net_step(prog, k);
		const i64 w = net_slot_width(prog, k + 1), off = net_slot_off(prog, k + 1);
		if (st.kind == 1) {
			// ARN mixing; the skip slot is read back from this thread's
			// own tape rows.
			if (valid) {
				f32 a = net_alpha(params, st.alpha), b = 1 - a;
				i64 soff = net_slot_off(prog, st.skip);
				for (i64 r = 0; r < w * nch; r++) {
					h[r] = b * h[r] + a * tape[(soff * nch + r) * npts + p];
				}
			}
		} else {
			net_load_weights(sw, params, st);
			if (valid) {
				for (i64 i = 0; i < st.nout; i++) {
					for (i64 c = 0; c < nch; c++) {
						f32 s = 0;
						for (i64 j = 0; j < st.nin; j++) {
							s += sw[i * st.nin + j] * h[j * nch + c];
						}
						z[i * nch + c] = s;
					}
					f32 bias = sw[st.nout * st.nin + i];
					if (!st.tanh) {
						z[i * nch] += bias;
						continue;
					}
					f32* zi = z + i * nch;
					f32* pre = tape + (tf * nch + (st.preoff + i) * (nch - 1)) * npts + p;
					for (i64 c = 1; c < nch; c++) {
						pre[(c - 1) * npts] = zi[c];
					}
					f32 a = tanhf(zi[0] + bias), s = 1 - a * a;
					zi[0] = a;
					for (i64 f = 1; f <= k1 + k2; f++) {
						zi[f] *= s;
					}
					for (i64 j = 0; j < k2; j++) {
						f32 zf = pre[(k1 + j) * npts]; // ż along d2_j before the activation
						i64 q = 1 + k1 + k2 + j;
						zi[q] = s * zi[q] - 2 * a * s * zf * zf;
					}
				}
				for (i64 r = 0; r < st.nout * nch; r++) {
					h[r] = z[r];
				}
			}
		}
		if (valid) {
			for (i64 r = 0; r < w * nch; r++) {
				tape[(off * nch + r) * npts + p] = h[r];
			}
		}
	}
	if (valid) {
		for (i64 c = 0; c < 1 + k1 + k2; c++) {
			i64 ci = c <= k1 ? c : c + k2;
			for (i64 o = 0; o < out; o++) {
				y[(c * out + o) * npts + p] = h[o * nch + ci];
			}
		}
	}
	(void)nslots;
}

// net_forward evaluates the network at npts points (values only). x holds
// the physical inputs (in x npts, input j of point p at x[j·npts + p]); norm
// the normalizer (center[in], then scale[in]); y receives output o of point p
// at y[o·npts + p]; tape the activations for net_backward. Block size NET_BS.
extern "C" __global__ void net_forward(const i64* prog, const f32* params, const double* norm, const f32* x, i64 npts,
				       f32* y, f32* tape) {
	net_forward_body<1>(prog, params, norm, x, npts, nullptr, 0, 0, y, tape);
}

// net_forward_jet is net_forward with Taylor channels along k1 first and k2
// second directions: dirs[d] (d < k1+k2, a device array of pointers) is
// direction d laid out like x (physical units; the first k1 are d1, the next
// k2 d2); y receives the 1+k1+k2 channels of every output.
extern "C" __global__ void net_forward_jet(const i64* prog, const f32* params, const double* norm, const f32* x,
					   i64 npts, const f32* const* dirs, i64 k1, i64 k2, f32* y, f32* tape) {
	net_forward_body<NET_MAXC>(prog, params, norm, x, npts, dirs, k1, k2, y, tape);
}

// net_backward_body is the reverse pass of one point (or of none, past
// npts). Per block it writes the sum over its points of every parameter's
// gradient to part[blockIdx.x·np + k].
template <int MAXC>
__device__ void net_backward_body(const i64* prog, const f32* params, const f32* tape, i64 npts, i64 k1, i64 k2,
				  const f32* gy, f32* part, i64 np) {
	__shared__ f32 sw[NET_MAXW * NET_MAXW + NET_MAXW];
	__shared__ f32 sgz[NET_MAXW * NET_BS], sh[NET_MAXW * NET_BS];
	__shared__ f32 sred[NET_BS];
	f32 g[NET_MAXW * MAXC], pend[NET_MAXW * MAXC];
	const i64 nsteps = prog[0], out = prog[2], tf = prog[4];
	const i64 nch = 1 + k1 + 2 * k2;
	const unsigned t = threadIdx.x;
	const i64 p = (i64)blockIdx.x * blockDim.x + t;
	const bool valid = p < npts;
	f32* bpart = part + (i64)blockIdx.x * np;
	i64 pendSlot = -1; // the slot whose adjoint waits in pend (an ARN skip input)
	for (i64 o = 0; o < out; o++) {
		for (i64 c = 0; c < nch; c++) {
			g[o * nch + c] = 0; // the first derivatives along d2 are not outputs
		}
		for (i64 c = 0; valid && c < 1 + k1 + k2; c++) {
			g[o * nch + (c <= k1 ? c : c + k2)] = gy[(c * out + o) * npts + p];
		}
	}
	for (i64 k = nsteps - 1; k >= 0; k--) {
		const NetStep st = net_step(prog, k);
		if (st.kind == 1) {
			// Mix: dL/dα_T = α(1−α) Σ_p Σ g·(x − h2); g splits into
			// (1−α) g for h2 and α g for the skip input.
			f32 a = net_alpha(params, st.alpha), b = 1 - a;
			i64 w = net_slot_width(prog, k + 1);
			i64 hoff = net_slot_off(prog, st.src), soff = net_slot_off(prog, st.skip);
			f32 s = 0;
			if (valid) {
				for (i64 r = 0; r < w * nch; r++) {
					f32 xs = tape[(soff * nch + r) * npts + p], h2 = tape[(hoff * nch + r) * npts + p];
					s += g[r] * (xs - h2);
					pend[r] = a * g[r];
					g[r] *= b;
				}
			}
			pendSlot = st.skip;
			sred[t] = s;
			__syncthreads();
			if (t == 0) {
				f32 sum = 0;
				for (unsigned q = 0; q < blockDim.x; q++) {
					sum += sred[q];
				}
				bpart[st.alpha] = a * b * sum;
			}
			__syncthreads();
			continue;
		}
		net_load_weights(sw, params, st);
		const i64 nin = st.nin, nout = st.nout;
		const i64 ooff = net_slot_off(prog, k + 1), ioff = net_slot_off(prog, st.src);
		if (valid && st.tanh) {
			// The adjoint through the tanh jet rules (tanhJetBackward):
			// with s = 1 − a², ȧ = s ż and ä = s z̈ − 2as ż_f², s
			// depending on z through a.
			for (i64 i = 0; i < nout; i++) {
				f32* gi = g + i * nch;
				const f32* pre = tape + (tf * nch + (st.preoff + i) * (nch - 1)) * npts + p;
				f32 a = tape[((ooff + i) * nch) * npts + p], s = 1 - a * a;
				if (nch == 1) {
					gi[0] *= s;
					continue;
				}
				f32 gs = 0, ga = gi[0];
				for (i64 f = 1; f <= k1 + k2; f++) {
					gs += gi[f] * pre[(f - 1) * npts];
					gi[f] *= s;
				}
				for (i64 j = 0; j < k2; j++) {
					i64 f = 1 + k1 + j, q = 1 + k1 + k2 + j;
					f32 zf = pre[(f - 1) * npts], zq = pre[(q - 1) * npts], gq = gi[q];
					gs += gq * (zq - 2 * a * zf * zf);
					ga -= 2 * s * zf * zf * gq;
					gi[f] -= 4 * a * s * zf * gq;
					gi[q] = gq * s;
				}
				ga -= 2 * a * gs;
				gi[0] = ga * s;
			}
		}
		// Weight and bias partials, channel by channel through shared
		// tiles: owner thread of parameter q sums over the block's points
		// in order.
		const i64 nw = nout * nin, nq = nw + nout;
		f32 acc[NET_OWN];
		for (int r = 0; r < NET_OWN; r++) {
			acc[r] = 0;
		}
		for (i64 c = 0; c < nch; c++) {
			for (i64 i = 0; i < nout; i++) {
				sgz[i * NET_BS + t] = valid ? g[i * nch + c] : 0;
			}
			for (i64 j = 0; j < nin; j++) {
				sh[j * NET_BS + t] = valid ? tape[((ioff + j) * nch + c) * npts + p] : 0;
			}
			__syncthreads();
			for (int r = 0; r < NET_OWN; r++) {
				i64 q = t + (i64)r * NET_BS;
				if (q >= nq || (q >= nw && c > 0)) {
					continue;
				}
				const f32* gz = sgz + (q < nw ? q / nin : q - nw) * NET_BS;
				f32 s = 0;
				if (q < nw) {
					const f32* hx = sh + (q % nin) * NET_BS;
					for (int pp = 0; pp < NET_BS; pp++) {
						s += gz[pp] * hx[pp];
					}
				} else {
					for (int pp = 0; pp < NET_BS; pp++) {
						s += gz[pp];
					}
				}
				acc[r] += s;
			}
			__syncthreads();
		}
		for (int r = 0; r < NET_OWN; r++) {
			i64 q = t + (i64)r * NET_BS;
			if (q < nq) {
				bpart[q < nw ? st.woff + q : st.boff + q - nw] = acc[r];
			}
		}
		if (st.src == 0 || !valid) {
			continue; // no adjoint of the inputs is needed
		}
		// gh = Wᵀ gz, plus the pending skip adjoint when this step reads
		// the skip slot.
		f32 gh[NET_MAXW * MAXC];
		for (i64 j = 0; j < nin; j++) {
			for (i64 c = 0; c < nch; c++) {
				f32 s = 0;
				for (i64 i = 0; i < nout; i++) {
					s += sw[i * nin + j] * g[i * nch + c];
				}
				gh[j * nch + c] = s;
			}
		}
		bool addPend = pendSlot == st.src;
		for (i64 r = 0; r < nin * nch; r++) {
			g[r] = addPend ? gh[r] + pend[r] : gh[r];
		}
		if (addPend) {
			pendSlot = -1;
		}
	}
}

// net_backward is the reverse pass of net_forward: gy holds dL/dy (output o
// of point p at gy[o·npts + p]); it writes the per-block gradient partials
// part[b·np + k], b < ⌈npts/NET_BS⌉ (net_grad_reduce adds them).
extern "C" __global__ void net_backward(const i64* prog, const f32* params, const f32* tape, i64 npts, const f32* gy,
					f32* part, i64 np) {
	net_backward_body<1>(prog, params, tape, npts, 0, 0, gy, part, np);
}

// net_backward_jet is the reverse pass of net_forward_jet: gy holds the
// adjoints of the 1+k1+k2 output channels, laid out like its y.
extern "C" __global__ void net_backward_jet(const i64* prog, const f32* params, const f32* tape, i64 npts, i64 k1,
					    i64 k2, const f32* gy, f32* part, i64 np) {
	net_backward_body<NET_MAXC>(prog, params, tape, npts, k1, k2, gy, part, np);
}

// net_grad_reduce adds the block partials to the gradient in block order:
// for k < np, in double,
//
//	grad[k] += Σ_{b<nb} part[b·np + k]
//
// so the gradient does not depend on how the blocks were scheduled.
extern "C" __global__ void net_grad_reduce(const f32* part, i64 nb, i64 np, f32* grad) {
	for (i64 k = grid_index(); k < np; k += grid_stride()) {
		double s = 0;
		for (i64 b = 0; b < nb; b++) {
			s += part[b * np + k];
		}
		grad[k] = (f32)((double)grad[k] + s);
	}
}
