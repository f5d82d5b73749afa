// loss.cu: the pointwise parts of the losses: the Aliev–Panfilov residuals of
// Eq. 6–8 with their derivatives, and the data misfit of Eq. 5. The squares
// go to a double array that reduce.cu's deterministic sums add up.
// References: kernels.Backend's APResidual and DataLoss.
#include "cuda.cuh"

// ap_residual_f32: for every point k < npts, in double,
//
//	ε = e0 + μ1 v/(ũ + μ2),  ũ = max(u, −μ2 + delta) when delta > 0 else u
//	r_u = u_t − D Δu − (k u(1−u)(u−a) − u v)                           (Eq. 6)
//	r_v = v_t − ε h,  h = −v − k u(u−a−1)                              (Eq. 7)
//	sq[k] = r_u² + r_v² (+ dn² with the boundary term r_b = n·∇u, Eq. 8)
//
// and, with α = coef·r_u, β = coef·r_v (coef = 2·scale/N_c),
//
//	gu = α(−k(−3u² + 2(1+a)u − a) + v) + β(−∂ε/∂u h + ε k(2u−a−1))
//	gv = α u + β(−∂ε/∂v h + ε),  gut = α,  glap = −D α,  gvt = β,  gdn = coef·dn
//
// (∂ε/∂u = 0 where the guard clamps). dn and gdn may be null.
extern "C" __global__ void ap_residual_f32(const f32* u, const f32* v, const f32* ut, const f32* vt, const f32* lap,
					   const f32* dn, f32* gu, f32* gv, f32* gut, f32* gvt, f32* glap, f32* gdn,
					   double* sq, i64 npts, double A, double D, double K, double E0, double MU1,
					   double MU2, double delta, double coef) {
	for (i64 q = grid_index(); q < npts; q += grid_stride()) {
		double x = u[q], y = v[q];
		double xe = x;
		bool clamped = false;
		if (delta > 0 && x < -MU2 + delta) {
			xe = -MU2 + delta;
			clamped = true;
		}
		double wi = 1 / (xe + MU2);
		double eps = E0 + MU1 * y * wi, dEdv = MU1 * wi, dEdu = clamped ? 0 : -MU1 * y * wi * wi;
		double ru = ut[q] - D * lap[q] - (K * x * (1 - x) * (x - A) - x * y);
		double h = -y - K * x * (x - A - 1);
		double rv = vt[q] - eps * h;
		double s = ru * ru + rv * rv;
		double a = coef * ru, b = coef * rv;
		gu[q] = (f32)(a * (-K * (-3 * x * x + 2 * (1 + A) * x - A) + y) + b * (-dEdu * h + eps * K * (2 * x - A - 1)));
		gv[q] = (f32)(a * x + b * (-dEdv * h + eps));
		gut[q] = (f32)a;
		glap[q] = (f32)(-D * a);
		gvt[q] = (f32)b;
		if (dn) {
			double d = dn[q];
			s += d * d;
			gdn[q] = (f32)(coef * d);
		}
		sq[q] = s;
	}
}

// data_loss_f32: with et = R Ûᵀ (m x B) and the measurements y (T x m, one
// frame per row), for k < B, i < m, in double,
//
//	d = et[i·B + k] − y[frames[k]·m + i];  sq[k·m + i] = d²;  e[k·m + i] = coef·d
//
// (coef = 2·scale/(m·B): e is the adjoint of Ŷ for L_D of Eq. 5).
extern "C" __global__ void data_loss_f32(f32* e, const f32* et, const f32* y, const i32* frames, i64 B, i64 m,
					 double coef, double* sq) {
	for (i64 q = grid_index(); q < B * m; q += grid_stride()) {
		i64 k = q / m, i = q % m;
		double d = (double)et[i * B + k] - (double)y[(i64)frames[k] * m + i];
		sq[q] = d * d;
		e[q] = (f32)(coef * d);
	}
}
