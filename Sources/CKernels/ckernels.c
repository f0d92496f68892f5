#include "ckernels.h"
#include "simd.h"

#include <stdint.h>
#include <string.h>
#include <math.h>

// Element i of the output depends on element i of the inputs only, so in-place calls are safe;
// without this clang's runtime overlap check sends out == x to the scalar loop.
#define ELEMENTWISE _Pragma("clang loop vectorize(assume_safety)")


CLONES void trm_vexp(float *x, long n) {
    for (long i = 0; i < n; i++) x[i] = trm_exp_one(x[i]);
}

CLONES void trm_vsilu(const float *x, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        float v = x[i];
        out[i] = v / (1.0f + trm_exp_one(-v));
    }
}

CLONES void trm_vsigmoid(const float *x, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) out[i] = 1.0f / (1.0f + trm_exp_one(-x[i]));
}

// Reductions keep 16 partial results (one zmm, two ymm) so they vectorise without reassociation
// flags; the exps and their sum are one pass, so the row is read twice, not three times.
// x[i] = exp(x[i] − max x); returns Σ x[i] and stores max x in *max_out.
static inline __attribute__((always_inline)) float softmax_exps(float *x, long n, float *max_out) {
    enum { L = 16 };
    float mv[L], sv[L];
    for (int k = 0; k < L; k++) mv[k] = -3.4e38f, sv[k] = 0.0f;
    long i = 0;
    for (; i + L <= n; i += L)
        for (int k = 0; k < L; k++) mv[k] = x[i + k] > mv[k] ? x[i + k] : mv[k];
    float m = mv[0];
    for (int k = 1; k < L; k++) m = mv[k] > m ? mv[k] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    float sum = 0.0f;
    for (i = 0; i + L <= n; i += L)
        for (int k = 0; k < L; k++) {
            const float e = trm_exp_one(x[i + k] - m);
            x[i + k] = e;
            sv[k] += e;
        }
    for (; i < n; i++) {
        x[i] = trm_exp_one(x[i] - m);
        sum += x[i];
    }
    for (int k = 0; k < L; k++) sum += sv[k];
    *max_out = m;
    return sum;
}

CLONES float trm_softmax_row_unnormalized(float *x, long n) {
    float m;
    return 1.0f / softmax_exps(x, n, &m);
}

CLONES float trm_softmax_row_lse(float *x, long n) {
    float m;
    const float sum = softmax_exps(x, n, &m), inv = 1.0f / sum;
    for (long i = 0; i < n; i++) x[i] *= inv;
    return m + logf(sum);
}

CLONES void trm_softmax_row(float *x, long n) {
    const float inv = trm_softmax_row_unnormalized(x, n);
    for (long i = 0; i < n; i++) x[i] *= inv;
}

CLONES void trm_swiglu(const float *g, const float *u, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        float v = g[i];
        out[i] = v / (1.0f + trm_exp_one(-v)) * u[i];
    }
}

CLONES void trm_gate(const float *y, const float *z, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        float v = z[i];
        out[i] = y[i] * (v / (1.0f + trm_exp_one(-v)));
    }
}

// Depthwise causal conv rows [t_begin, t_end). The taps are first transposed into wt ([kernel]
// [channels]) so each output row is one pass over contiguous channels with the sum in registers
// (a channel-block-outer order walks the rows with a large stride and ran 5-10× slower). The SiLU
// runs on each row as it is finished, while it is in L1: a second pass over the rows after the
// conv read them back from memory (a fused Mamba-2 layer's conv output is megabytes). Input rows are
// prefetched a few ahead: a Mamba-2 layer's rows are kilobytes apart in its in_proj output, so the
// hardware prefetcher stops at each page (measured: the layer's conv stage 12 % faster at ARC size).
CLONES void trm_conv_rows(const float *x, long x_stride, const float *w, const float *bias, float *out,
                          long out_stride, long seq, long t_begin, long t_end, long channels, long kernel,
                          int reverse, int silu, float *wt) {
    for (long c = 0; c < channels; c++)
        for (long k = 0; k < kernel; k++) wt[k * channels + c] = w[c * kernel + k];
    const long vector_channels = channels / 8 * 8;
    for (long t = t_begin; t < t_end; t++) {
        float *o = out + t * out_stride;
        // Row t reads rows t-(K-1)..t, reversed t..t+(K-1): the newest is K-1 further on.
        const long ahead = t + TRM_GATHER_PREFETCH_ROWS + (reverse ? kernel - 1 : 0);
        if (ahead < seq) trm_prefetch_row(x + ahead * x_stride, channels);
        for (long c = 0; c < vector_channels; c += 8) {
            v8f acc = *(const v8f *)(bias + c);
            for (long k = 0; k < kernel; k++) {
                // Token feeding tap k: t-(K-1)+k causal, t+(K-1)-k reversed.
                const long src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k;
                if (src >= 0 && src < seq) acc += *(const v8f *)(wt + k * channels + c) * *(const v8f *)(x + src * x_stride + c);
            }
            *(v8f *)(o + c) = acc;
        }
        for (long c = vector_channels; c < channels; c++) {
            float acc = bias[c];
            for (long k = 0; k < kernel; k++) {
                const long src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k;
                if (src >= 0 && src < seq) acc += wt[k * channels + c] * x[src * x_stride + c];
            }
            o[c] = acc;
        }
        if (silu) trm_vsilu(o, o, channels);
    }
}

// The backward of trm_conv_rows over one whole sequence, for the trainer, with the taps in the
// same transposed [kernel][channels] layout so every loop runs over contiguous channels: dwt and db
// accumulate, dx is overwritten.
CLONES void trm_conv_rows_backward(const float *x, long x_stride, const float *gpre, long g_stride, const float *w,
                                   float *dx, long dx_stride, float *dwt, float *db, long seq, long channels,
                                   long kernel, int reverse, float *wt) {
    for (long c = 0; c < channels; c++)
        for (long k = 0; k < kernel; k++) wt[k * channels + c] = w[c * kernel + k];
    for (long t = 0; t < seq; t++)
        for (long c = 0; c < channels; c++) dx[t * dx_stride + c] = 0.0f;
    for (long t = 0; t < seq; t++) {
        const float *g = gpre + t * g_stride;
        for (long c = 0; c < channels; c++) db[c] += g[c];
        for (long k = 0; k < kernel; k++) {
            const long src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k;
            if (src < 0 || src >= seq) continue;
            const float *xs = x + src * x_stride, *wk = wt + k * channels;
            float *dxs = dx + src * dx_stride, *dwk = dwt + k * channels;
            for (long c = 0; c < channels; c++) {
                dwk[c] += g[c] * xs[c];
                dxs[c] += wk[c] * g[c];
            }
        }
    }
}

// Σ a[i]·b[i] over n floats, eight lanes at a time (the lanes' order fixed, so results do not depend
// on the caller's split).
static inline float dot8(const float *a, const float *b, long n) {
    v8f acc = SPLAT(0.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) acc += *(const v8f *)(a + i) * *(const v8f *)(b + i);
    float s = 0.0f;
    for (int l = 0; l < 8; l++) s += acc[l];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

// Mamba-2's gated RMSNorm (norm_before_gate = False) for the trainer: v = y·silu(z); each group of
// `group` columns of a row is scaled by its 1/rms (written to inv) and by w.
CLONES void trm_gated_rmsnorm_rows(const float *y, const float *z, const float *w, float *out, float *inv, long rows,
                                   long cols, long group, float eps) {
    const long groups = cols / group;
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * cols;
        float *o = out + r * cols;
        trm_vsilu(z + r * cols, o, cols);
        for (long c = 0; c < cols; c++) o[c] *= yr[c];
        for (long g = 0; g < groups; g++) {
            float *og = o + g * group;
            const float ir = 1.0f / sqrtf(dot8(og, og, group) / (float)group + eps);
            inv[r * groups + g] = ir;
            for (long c = 0; c < group; c++) og[c] *= ir * w[g * group + c];
        }
    }
}

// Its backward: with gw = gout·w, ∂v = r·(gw − v·r²·mean(gw·v)), ∂w += gout·v·r, ∂y = ∂v·silu(z),
// ∂z = ∂v·y·silu′(z), silu′(z) = σ(z)(1 + z(1 − σ(z))). `scratch` holds 2·cols floats.
CLONES void trm_gated_rmsnorm_backward_rows(const float *gout, const float *y, const float *z, const float *w,
                                            const float *inv, float *dy, float *dz, float *dw, long rows, long cols,
                                            long group, float *scratch) {
    const long groups = cols / group;
    float *sig = scratch, *gv = scratch + cols;
    for (long r = 0; r < rows; r++) {
        const float *g = gout + r * cols, *yr = y + r * cols, *zr = z + r * cols;
        float *dyr = dy + r * cols, *dzr = dz + r * cols;
        trm_vsigmoid(zr, sig, cols);
        for (long c = 0; c < cols; c++) gv[c] = yr[c] * zr[c] * sig[c]; // v
        for (long q = 0; q < groups; q++) {
            const long lo = q * group;
            const float ir = inv[r * groups + q];
            float dot = 0.0f; // Σ gw·v over the group
            {
                v8f acc = SPLAT(0.0f);
                long i = 0;
                for (; i + 8 <= group; i += 8)
                    acc += *(const v8f *)(g + lo + i) * *(const v8f *)(w + lo + i) * *(const v8f *)(gv + lo + i);
                for (int l = 0; l < 8; l++) dot += acc[l];
                for (; i < group; i++) dot += g[lo + i] * w[lo + i] * gv[lo + i];
            }
            const float k = ir * ir * dot / (float)group;
            for (long c = lo; c < lo + group; c++) {
                const float sg = sig[c], sz = zr[c] * sg, v = gv[c];
                dw[c] += g[c] * v * ir;
                const float dv = ir * (g[c] * w[c] - v * k);
                dyr[c] = dv * sz;
                dzr[c] = dv * yr[c] * sg * (1.0f + zr[c] * (1.0f - sg));
            }
        }
    }
}

// out[c][r] = a[r][c] for one full 8×8 block, in registers: three rounds of two-source shuffles
// (pairs, then quads, then halves), as the unpack/shuffle transpose of SSE/AVX code.
static inline __attribute__((always_inline)) void transpose8x8(const float *a, long lda, float *out, long ldo) {
    v8f r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = *(const v8f *)(a + i * lda);
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int c = 0; c < 4; c++) {
        *(v8f *)(out + c * ldo) = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(v8f *)(out + (c + 4) * ldo) = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// 16×16 tiles (both the rows read and the rows written stay in L1 across a tile), each of full
// 8×8 blocks in registers and the edges element by element.
CLONES void trm_transpose(const float *a, long lda, long rows, long cols, float *out, long ldo) {
    enum { T = 16 };
    for (long r0 = 0; r0 < rows; r0 += T)
        for (long c0 = 0; c0 < cols; c0 += T) {
            const long r1 = r0 + T < rows ? r0 + T : rows, c1 = c0 + T < cols ? c0 + T : cols;
            const long r8 = r0 + (r1 - r0) / 8 * 8, c8 = c0 + (c1 - c0) / 8 * 8;
            for (long r = r0; r < r8; r += 8)
                for (long c = c0; c < c8; c += 8) transpose8x8(a + r * lda + c, lda, out + c * ldo + r, ldo);
            for (long c = c0; c < c1; c++)
                for (long r = (c < c8 ? r8 : r0); r < r1; r++) out[c * ldo + r] = a[r * lda + c];
        }
}

int trm_cpu_vector_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int trm_retain_freed_memory(long mmap_threshold, long trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, (int)trim_threshold) == 1;
#else
    (void)mmap_threshold, (void)trim_threshold;
    return 0;
#endif
}

// atan2(y, x) on fp32 without libm, so the loop below vectorises: the octant reduction of atan2
// (t = min(|y|, |x|) / max(|y|, |x|) in [0, 1], then t > tan(π/8) maps to (t − 1)/(t + 1) around
// π/4) and Cephes' atanf polynomial on |t| ≤ tan(π/8) (relative error ≈ 2e-7), then the octant put
// back. Zeros, infinities and NaN as libm's atan2f.
static inline __attribute__((always_inline)) float atan2_one(float y, float x) {
    const float ay = fabsf(y), ax = fabsf(x), hi = ay > ax ? ay : ax, lo = ay > ax ? ax : ay;
    float t = hi == lo ? (hi > 0.0f ? 1.0f : 0.0f) : lo / hi; // |y| = |x|, both ±∞ included: π/4 (or 0 at 0, 0)
    const int far = t > 0.41421356f;
    const float base = far ? 0.78539816f : 0.0f;
    t = far ? (t - 1.0f) / (t + 1.0f) : t;
    const float z = t * t;
    float r = (((8.05374449538e-2f * z - 1.38776856032e-1f) * z + 1.99777106478e-1f) * z - 3.33329491539e-1f) * z * t + t;
    r += base;
    r = ay > ax ? 1.57079633f - r : r;
    r = signbit(x) ? 3.14159265f - r : r;
    r = copysignf(r, y);
    return x != x || y != y ? x + y : r;
}

float trm_atan2f(float y, float x) { return atan2_one(y, x); }

CLONES void trm_adam_atan2(float *p, float *m, float *v, const float *g, long n, float beta1, float beta2, float c2,
                           float decay, float step_size) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        const float gi = g[i];
        const float mi = m[i] + (1.0f - beta1) * (gi - m[i]);
        const float vi = v[i] + (1.0f - beta2) * (gi * gi - v[i]);
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step_size * atan2_one(mi, sqrtf(vi) / c2);
    }
}
