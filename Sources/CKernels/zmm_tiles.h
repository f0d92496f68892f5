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
#define TRM_ZMM_TILE(NAME, TARGET, STEP)                                                                               \
    TARGET static inline __attribute__((always_inline)) void NAME(                                                     \
        const int R, const int W, const uint32_t *a, long lda, const uint32_t *b, long kc, float *c, long ldc,         \
        long cols, const float *bias, const float *row_scale, int load_c) {                                            \
        const __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);                                    \
        const __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;             \
        const __m512 init0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();                           \
        const __m512 init1 = bias && W == 2 ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();            \
        __m512 acc[TRM_ZMM_MR][2];                                                                                     \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                              \
            acc[r][0] = init0;                                                                                         \
            acc[r][1] = init1;                                                                                         \
        }                                                                                                              \
        for (long p = 0; p < kc; p++, b += TRM_BF16_PANEL) {                                                          \
            const __m512i b0 = _mm512_loadu_si512(b);                                                                  \
            const __m512i b1 = W == 2 ? _mm512_loadu_si512(b + 16) : b0;                                               \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                          \
                const __m512i x = _mm512_set1_epi32((int)a[r * lda + p]);                                              \
                acc[r][0] = STEP(acc[r][0], x, b0);                                                                    \
                if (W == 2) acc[r][1] = STEP(acc[r][1], x, b1);                                                        \
            }                                                                                                          \
        }                                                                                                              \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                              \
            float *cr = c + r * ldc;                                                                                   \
            __m512 v0 = acc[r][0], v1 = acc[r][1];                                                                     \
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
        switch (rows) {                                                                                                \
            TRM_ZMM_CASE(NAME, 12)                                                                                     \
            TRM_ZMM_CASE(NAME, 11)                                                                                     \
            TRM_ZMM_CASE(NAME, 10)                                                                                     \
            TRM_ZMM_CASE(NAME, 9)                                                                                      \
            TRM_ZMM_CASE(NAME, 8)                                                                                      \
            TRM_ZMM_CASE(NAME, 7)                                                                                      \
            TRM_ZMM_CASE(NAME, 6)                                                                                      \
            TRM_ZMM_CASE(NAME, 5)                                                                                      \
            TRM_ZMM_CASE(NAME, 4)                                                                                      \
            TRM_ZMM_CASE(NAME, 3)                                                                                      \
            TRM_ZMM_CASE(NAME, 2)                                                                                      \
            TRM_ZMM_CASE(NAME, 1)                                                                                      \
        default: break;                                                                                                \
        }                                                                                                              \
    }

#define TRM_ZMM_CASE(NAME, R)                                                                                          \
    case R:                                                                                                            \
        if (wide) NAME(R, 2, a, lda, b, kc, c, ldc, cols, bias, row_scale, load_c);                                    \
        else NAME(R, 1, a, lda, b, kc, c, ldc, cols, bias, row_scale, load_c);                                         \
        break;

#define TRM_BF16_STEP(acc, x, b) _mm512_dpbf16_ps(acc, (__m512bh)(x), (__m512bh)(b))
#define TRM_F32_STEP(acc, x, b) _mm512_fmadd_ps(_mm512_castsi512_ps(x), _mm512_castsi512_ps(b), acc)

/// trm_bf16_tile / trm_bf16_tile_any: VDPBF16PS on bf16 pairs.
TRM_ZMM_TILE(trm_bf16_tile, BF16_TARGET, TRM_BF16_STEP)
/// trm_f32_tile / trm_f32_tile_any: fp32 FMA on floats (AVX-512F).
TRM_ZMM_TILE(trm_f32_tile, F32_TARGET, TRM_F32_STEP)
#endif

#endif
