// The AVX-512 register tiles shared by the bf16 GEMM (bf16_gemm.c) and the bf16 and fp32 attention
// kernels (attention_bf16.c, attention.c); private to the kernel files.
#ifndef TRM_CKERNELS_ZMM_TILES_H
#define TRM_CKERNELS_ZMM_TILES_H

#include "trm_bf16.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TRM_X86 1
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define F32_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

/// Rows of the register tile: 2·12 = 24 zmm accumulators, 2 panel loads and one broadcast.
enum { TRM_ZMM_MR = 12 };

// c[r, 0..cols) (+)= row_scale[r] · (Σ_p a_r[p]·b[p] + bias) for r < R: a_r = a + r·lda 32-bit words,
// b is a panel of 32 columns (32 words per step p) at the block's first step. R and W (W = 2: 32
// columns, 1: 16) are constants at every call site, so the tile lives in 2·R zmm registers. `load_c`
// adds to c instead of overwriting it; bias and row_scale may be NULL. Two kinds share the code:
// bf16 (a word is a bf16 pair, a step VDPBF16PS) and fp32 (a word is a float, a step an FMA), each
// compiled for its own target so the fp32 tile runs on AVX-512 CPUs without AVX512_BF16.
//
// The high 16 lanes read their B words `b_hi` words after the low ones (16 within one panel) and
// their bias from bias_hi. With GLU (W = 2) the low lanes are a gate g and the high lanes the up
// projection u of the same 16 output columns, usually in another panel of the same packed matrix,
// and the tile stores silu(g)·u into c[r, 0..cols), cols ≤ 16: the SwiGLU epilogue fused, so the
// product [g | u] is never written (load_c and row_scale are unused then).
#define TRM_ZMM_TILE(NAME, TARGET, STEP)                                                                               \
    TARGET static inline __attribute__((always_inline)) void NAME##_core(                                              \
        const int R, const int W, const int GLU, const uint32_t *a, long lda, const uint32_t *b, long b_hi, long kc,   \
        float *c, long ldc, long cols, const float *bias, const float *bias_hi, const float *row_scale, int load_c) {  \
        const __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);                                    \
        const __mmask16 m1 = GLU ? m0 : cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;  \
        const __m512 init0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();                           \
        const __m512 init1 = bias_hi && W == 2 ? _mm512_maskz_loadu_ps(m1, bias_hi) : _mm512_setzero_ps();           \
        __m512 acc[TRM_ZMM_MR][2];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                              \
            acc[r][0] = init0;                                                                                         \
            acc[r][1] = init1;                                                                                         \
        }                                                                                                              \
        for (long p = 0; p < kc; p++, b += TRM_BF16_PANEL) {                                                          \
            const __m512i b0 = _mm512_loadu_si512(b);                                                                  \
            const __m512i b1 = W == 2 ? _mm512_loadu_si512(b + b_hi) : b0;                                             \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                          \
                const __m512i x = _mm512_set1_epi32((int)a[r * lda + p]);                                              \
                acc[r][0] = STEP(acc[r][0], x, b0);                                                                    \
                if (W == 2) acc[r][1] = STEP(acc[r][1], x, b1);                                                        \
            }                                                                                                          \
        }                                                                                                              \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                              \
            float *cr = c + r * ldc;                                                                                   \
            __m512 v0 = acc[r][0], v1 = acc[r][1];                                                                     \
            if (GLU) {                                                                                                 \
                _mm512_mask_storeu_ps(cr, m0, _mm512_mul_ps(trm_zmm_silu(v0), v1));                                    \
                continue;                                                                                              \
            }                                                                                                          \
            if (row_scale) {                                                                                           \
                const __m512 s = _mm512_set1_ps(row_scale[r]);                                                         \
                v0 = _mm512_mul_ps(v0, s);                                                                             \
                if (W == 2) v1 = _mm512_mul_ps(v1, s);                                                                 \
            }                                                                                                          \
            if (load_c) {                                                                                              \
                v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));                                                 \
                if (W == 2) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));                                \
            }                                                                                                          \
            _mm512_mask_storeu_ps(cr, m0, v0);                                                                         \
            if (W == 2) _mm512_mask_storeu_ps(cr + 16, m1, v1);                                                        \
        }                                                                                                              \
    }                                                                                                                  \
                                                                                                                       \
    /* The tile for rows ≤ TRM_ZMM_MR and cols ≤ 32 (half width when cols ≤ 16). */                                   \
    TARGET static inline void NAME##_any(long rows, const uint32_t *a, long lda, const uint32_t *b, long kc, float *c,  \
                                         long ldc, long cols, const float *bias, const float *row_scale, int load_c) { \
        const int wide = cols > 16;                                                                                    \
        const float *bias_hi = bias ? bias + 16 : NULL;                                                                \
        switch (rows) {                                                                                                \
            TRM_ZMM_CASES(NAME, wide ? 2 : 1, 0, 16)                                                                   \
        default: break;                                                                                                \
        }                                                                                                              \
    }                                                                                                                  \
                                                                                                                       \
    /* The GLU tile for rows ≤ TRM_ZMM_MR and cols ≤ 16 outputs: gate words at b, up words at b + b_hi. */            \
    TARGET static inline void NAME##_glu_any(long rows, const uint32_t *a, long lda, const uint32_t *b, long b_hi,      \
                                             long kc, float *c, long ldc, long cols, const float *bias,                \
                                             const float *bias_hi) {                                                   \
        const float *row_scale = NULL;                                                                                 \
        const int load_c = 0;                                                                                          \
        switch (rows) {                                                                                                \
            TRM_ZMM_CASES(NAME, 2, 1, b_hi)                                                                            \
        default: break;                                                                                                \
        }                                                                                                              \
    }

#define TRM_ZMM_CASES(NAME, W, GLU, B_HI)                                                                              \
    TRM_ZMM_CASE(NAME, 12, W, GLU, B_HI)                                                                               \
    TRM_ZMM_CASE(NAME, 11, W, GLU, B_HI)                                                                               \
    TRM_ZMM_CASE(NAME, 10, W, GLU, B_HI)                                                                               \
    TRM_ZMM_CASE(NAME, 9, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 8, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 7, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 6, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 5, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 4, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 3, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 2, W, GLU, B_HI)                                                                                \
    TRM_ZMM_CASE(NAME, 1, W, GLU, B_HI)

// W is 1 or 2 at run time for the plain tile: each case branches once to a constant-W body.
#define TRM_ZMM_CASE(NAME, R, W, GLU, B_HI)                                                                            \
    case R:                                                                                                            \
        if ((W) == 2) NAME##_core(R, 2, GLU, a, lda, b, B_HI, kc, c, ldc, cols, bias, bias_hi, row_scale, load_c);     \
        else NAME##_core(R, 1, GLU, a, lda, b, B_HI, kc, c, ldc, cols, bias, bias_hi, row_scale, load_c);              \
        break;

/// silu(x) = x / (1 + e^-x) on 16 lanes, with the exp of ckernels.c's exp_one (range reduction by
/// ln 2 in two parts, a degree-6 polynomial, 2^n built in the exponent bits): what the unfused
/// SwiGLU computes, to rounding.
F32_TARGET static inline __attribute__((always_inline)) __m512 trm_zmm_silu(__m512 x) {
    __m512 t = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), x), _mm512_set1_ps(-87.33654f)),
                             _mm512_set1_ps(88.37626f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), t);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    const __m512 ex = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), ex));
}

#define TRM_BF16_STEP(acc, x, b) _mm512_dpbf16_ps(acc, (__m512bh)(x), (__m512bh)(b))
#define TRM_F32_STEP(acc, x, b) _mm512_fmadd_ps(_mm512_castsi512_ps(x), _mm512_castsi512_ps(b), acc)

/// trm_bf16_tile / trm_bf16_tile_any: VDPBF16PS on bf16 pairs.
TRM_ZMM_TILE(trm_bf16_tile, BF16_TARGET, TRM_BF16_STEP)
/// trm_f32_tile / trm_f32_tile_any: fp32 FMA on floats (AVX-512F).
TRM_ZMM_TILE(trm_f32_tile, F32_TARGET, TRM_F32_STEP)
#endif

#endif
