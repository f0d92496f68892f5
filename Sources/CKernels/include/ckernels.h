// Vectorised transcendental loops for the runtime's kernels, in C so that the compiler
// auto-vectorises min/max, rounding and integer conversion (Swift's generic SIMD operations on
// those run per lane). Each function is compiled for AVX2 and for the baseline and picked at load
// time (target_clones), so the library stays portable.
#ifndef TRM_CKERNELS_H
#define TRM_CKERNELS_H

/// x[i] = exp(x[i]) for i < n (relative error < 3e-7; inputs clamped to [-87.3, 88.3]).
void trm_vexp(float *x, long n);
/// out[i] = x[i] * sigmoid(x[i]); out may alias x.
void trm_vsilu(const float *x, float *out, long n);
/// out[i] = 1 / (1 + exp(-x[i])); out may alias x.
void trm_vsigmoid(const float *x, float *out, long n);
/// In-place softmax of one row.
void trm_softmax_row(float *x, long n);
/// out[i] = silu(g[i]) * u[i]; out may alias g or u.
void trm_swiglu(const float *g, const float *u, float *out, long n);

/// out[i] = y[i] * silu(z[i]); out may alias y or z.
void trm_gate(const float *y, const float *z, float *out, long n);

#endif
