// The VDPBF16PS register tile shared by the bf16 GEMM (bf16_gemm.c) and bf16 attention
// (attention_bf16.c); private to the kernel files.
#ifndef TRM_CKERNELS_BF16_MICRO_H
#define TRM_CKERNELS_BF16_MICRO_H

#include "trm_bf16.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TRM_X86 1
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/// Rows of the register tile: 2·12 = 24 zmm accumulators, 2 panel loads and one broadcast.
enum { TRM_BF16_MR = 12 };

// c[r, 0..cols) (+)= row_scale[r] · (Σ_p a_r[p]·b[p] + bias) for r < R: a_r = a + r·lda (32-bit
// words, each one bf16 pair), b is a panel of 32 columns (16 words per pair and half-panel) at the
// block's first pair. R and W are constants at every call site, so the tile lives in registers.
// `load_c`: add to c instead of overwriting it; bias and row_scale may be NULL.
BF16_TARGET static inline __attribute__((always_inline)) void trm_bf16_micro(
    const int R, const int W, const uint32_t *a, long lda, const uint32_t *b, long kc, float *c, long ldc, long cols,
    const float *bias, const float *row_scale, int load_c) {
    const __mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
    const __m512 init0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
    const __m512 init1 = bias && W == 2 ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
    __m512 acc[TRM_BF16_MR][2];
    _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {
        acc[r][0] = init0;
        acc[r][1] = init1;
    }
    for (long p = 0; p < kc; p++, b += TRM_BF16_PANEL) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        const __m512bh b1 = W == 2 ? (__m512bh)_mm512_loadu_si512(b + 16) : b0;
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[r * lda + p]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, b0);
            if (W == 2) acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, b1);
        }
    }
    _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {
        float *cr = c + r * ldc;
        __m512 v0 = acc[r][0], v1 = acc[r][1];
        if (row_scale) {
            const __m512 s = _mm512_set1_ps(row_scale[r]);
            v0 = _mm512_mul_ps(v0, s);
            if (W == 2) v1 = _mm512_mul_ps(v1, s);
        }
        if (load_c) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
            if (W == 2) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, v0);
        if (W == 2) _mm512_mask_storeu_ps(cr + 16, m1, v1);
    }
}

#define TRM_BF16_MICRO_CASE(R)                                                                                         \
    case R:                                                                                                            \
        if (wide) trm_bf16_micro(R, 2, a, lda, b, kc, c, ldc, cols, bias, row_scale, load_c);                          \
        else trm_bf16_micro(R, 1, a, lda, b, kc, c, ldc, cols, bias, row_scale, load_c);                               \
        break;

// The tile for rows ≤ TRM_BF16_MR and cols ≤ 32 (a half-width tile when cols ≤ 16).
BF16_TARGET static inline void trm_bf16_micro_any(long rows, const uint32_t *a, long lda, const uint32_t *b, long kc,
                                                  float *c, long ldc, long cols, const float *bias,
                                                  const float *row_scale, int load_c) {
    const int wide = cols > 16;
    switch (rows) {
        TRM_BF16_MICRO_CASE(12)
        TRM_BF16_MICRO_CASE(11)
        TRM_BF16_MICRO_CASE(10)
        TRM_BF16_MICRO_CASE(9)
        TRM_BF16_MICRO_CASE(8)
        TRM_BF16_MICRO_CASE(7)
        TRM_BF16_MICRO_CASE(6)
        TRM_BF16_MICRO_CASE(5)
        TRM_BF16_MICRO_CASE(4)
        TRM_BF16_MICRO_CASE(3)
        TRM_BF16_MICRO_CASE(2)
        TRM_BF16_MICRO_CASE(1)
    default: break;
    }
}
#endif

#endif
