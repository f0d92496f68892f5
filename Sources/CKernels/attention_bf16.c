#include "zmm_tiles.h"
#include "ckernels.h"
#include "simd.h"

#include <string.h>

// One attention head with both products on VDPBF16PS (bf16 operands, fp32 sums) and the softmax
// in fp32, on the bf16 GEMM's 12×32 register tile (zmm_tiles.h). Per head, once:
//   Q rows (rotated, scaled by 1/√d) become bf16 pairs along d;
//   K is packed as the B operand of Q·Kᵀ: panels of 32 keys, one k-pair of d per 32-bit lane;
//   V is packed as the B operand of P·V: panels of 32 columns of d, one pair of keys per lane.
// Per tile of TILE queries: scores = Q·Kᵀ (fp32), the unnormalised softmax in fp32 (exps ≤ 1),
// P rounded to bf16 pairs along the keys, out = (P·V) · 1/Σ. No S×S matrix is ever held. Padded
// keys (up to a multiple of 32) are zero, so they score 0 and are never read by the softmax; the
// partner of an odd last key or an odd d is zero, so it adds nothing.

enum { MR = TRM_ZMM_MR, NR = TRM_BF16_PANEL, TILE = 11 * TRM_ZMM_MR };

static long round_up(long x, long m) { return (x + m - 1) / m * m; }

long trm_attention_bf16_workspace(long seq, long d) {
    if (seq <= 0 || d <= 0) return 0;
    const long pairs_d = (d + 1) / 2, pairs_s = (seq + 1) / 2, seq_k = round_up(seq, NR);
    const long tile = seq < TILE ? round_up(seq, MR) : TILE;
    return seq * pairs_d                // Q pairs, rows pairs_d words apart
         + seq_k * pairs_d              // K panels [seq_k/32][pairs_d][32]
         + round_up(d, NR) * pairs_s    // V panels [⌈d/32⌉][pairs_s][32]
         + tile * seq_k                 // fp32 scores of one query tile
         + tile * pairs_s               // P of the tile as bf16 pairs
         + 2 * round_up(d, 2) + NR;     // one rotated row and its bf16 copy
}

#if TRM_X86
// dst[0..⌈n/2⌉) = bf16 pairs of x[0..n) (nearest even; a missing partner is zero).
BF16_TARGET static void to_pairs(const float *x, long n, uint32_t *dst) {
    uint16_t *h = (uint16_t *)dst;
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 lo = _mm512_loadu_ps(x + i), hi = _mm512_loadu_ps(x + i + 16);
        _mm512_storeu_si512(h + i, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    if (i < n) {
        const long left = n - i; // 1..31
        const __mmask16 mlo = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
        const __mmask16 mhi = left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0;
        const __m512 lo = _mm512_maskz_loadu_ps(mlo, x + i), hi = _mm512_maskz_loadu_ps(mhi, x + i + 16);
        const long store = round_up(left, 2);
        _mm512_mask_storeu_epi16(h + i, (__mmask32)((1ull << store) - 1), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
}

BF16_TARGET static int head_bf16(const float *q, const float *k, const float *v, long stride, const float *cos,
                                 const float *sin, float *out, long out_stride, long seq, long d, float *workspace) {
    const long pairs_d = (d + 1) / 2, pairs_s = (seq + 1) / 2, seq_k = round_up(seq, NR), dp = round_up(d, NR);
    const long tile = seq < TILE ? round_up(seq, MR) : TILE;
    uint32_t *qs = (uint32_t *)workspace, *kp = qs + seq * pairs_d, *vp = kp + seq_k * pairs_d;
    float *scores = (float *)(vp + dp * pairs_s);
    uint32_t *pb = (uint32_t *)(scores + tile * seq_k);
    float *row = (float *)(pb + tile * pairs_s);
    uint32_t *row_pairs = (uint32_t *)(row + round_up(d, 2));
    const float scale = 1.0f / __builtin_sqrtf((float)d);

    memset(kp, 0, (size_t)(seq_k * pairs_d) * 4);
    for (long t = 0; t < seq; t++) {
        const float *qt = q + t * stride, *kt = k + t * stride;
        if (t + TRM_GATHER_PREFETCH_ROWS < seq) {
            trm_prefetch_row(qt + TRM_GATHER_PREFETCH_ROWS * stride, d);
            trm_prefetch_row(kt + TRM_GATHER_PREFETCH_ROWS * stride, d);
        }
        if (cos) trm_rotate_row(qt, row, cos + t * d, sin + t * d, d, scale);
        else
            for (long i = 0; i < d; i++) row[i] = qt[i] * scale;
        to_pairs(row, d, qs + t * pairs_d);
        if (cos) trm_rotate_row(kt, row, cos + t * d, sin + t * d, d, 1.0f);
        else memcpy(row, kt, (size_t)d * 4);
        to_pairs(row, d, row_pairs);
        uint32_t *kdst = kp + (t / NR) * pairs_d * NR + t % NR;
        for (long p = 0; p < pairs_d; p++) kdst[p * NR] = row_pairs[p];
    }
    // V: column c of keys 2p, 2p+1 goes to panel c/32, pair p, lane c%32 (low half 2p, high 2p+1):
    // 16 columns of both rows are rounded together and interleaved by one permute. Lanes past d are
    // left as they are: P·V's stores mask them out.
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                                6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (long p = 0; p < pairs_s; p++) {
        const float *v0 = v + 2 * p * stride, *v1 = 2 * p + 1 < seq ? v0 + stride : NULL;
        if (2 * p + TRM_GATHER_PREFETCH_ROWS + 1 < seq) {
            trm_prefetch_row(v0 + TRM_GATHER_PREFETCH_ROWS * stride, d);
            trm_prefetch_row(v0 + (TRM_GATHER_PREFETCH_ROWS + 1) * stride, d);
        }
        for (long c = 0; c < d; c += 16) {
            const __mmask16 m = d - c >= 16 ? 0xffff : (__mmask16)((1u << (d - c)) - 1);
            const __m512 lo = _mm512_maskz_loadu_ps(m, v0 + c), hi = v1 ? _mm512_maskz_loadu_ps(m, v1 + c) : _mm512_setzero_ps();
            const __m512i words = _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
            _mm512_mask_storeu_epi32(vp + ((c / NR) * pairs_s + p) * NR + c % NR, m, words);
        }
    }

    float inv_sum[TILE];
    for (long t0 = 0; t0 < seq; t0 += tile) {
        const long rows = seq - t0 < tile ? seq - t0 : tile;
        // scores[rows, seq_k] = Q_tile · Kᵀ, one key panel against every row group of the tile.
        for (long j = 0; j < seq_k; j += NR) {
            const uint32_t *panel = kp + (j / NR) * pairs_d * NR;
            for (long i = 0; i < rows; i += MR)
                trm_bf16_tile_any(rows - i < MR ? rows - i : MR, qs + (t0 + i) * pairs_d, pairs_d, panel, pairs_d,
                                   scores + i * seq_k + j, seq_k, NR, NULL, NULL, 0);
        }
        for (long r = 0; r < rows; r++) {
            inv_sum[r] = trm_softmax_row_unnormalized(scores + r * seq_k, seq);
            to_pairs(scores + r * seq_k, seq, pb + r * pairs_s);
        }
        // out[rows, d] = (P · V) · 1/Σ, the last panel narrower than 32 stored through masks.
        for (long i = 0; i < rows; i += MR) {
            const long mr = rows - i < MR ? rows - i : MR;
            for (long j = 0; j < d; j += NR)
                trm_bf16_tile_any(mr, pb + i * pairs_s, pairs_s, vp + (j / NR) * pairs_s * NR, pairs_s,
                                   out + (t0 + i) * out_stride + j, out_stride, d - j < NR ? d - j : NR, NULL,
                                   inv_sum + i, 0);
        }
    }
    return 1;
}
#endif

int trm_attention_head_bf16(const float *q, const float *k, const float *v, long stride, const float *cos,
                            const float *sin, float *out, long out_stride, long seq, long d, float *workspace) {
    if (d < 1 || d > 8192 || (cos && d % 2 != 0) || seq <= 0) return 0;
#if TRM_X86
    if (trm_cpu_has_avx512bf16()) return head_bf16(q, k, v, stride, cos, sin, out, out_stride, seq, d, workspace);
#endif
    (void)q, (void)k, (void)v, (void)stride, (void)cos, (void)sin, (void)out, (void)out_stride, (void)workspace;
    return 0;
}
