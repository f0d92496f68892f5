#include "ckernels.h"
#include "simd.h"
#include "zmm_tiles.h"

#include <string.h>

// One attention head on a 6×16 register-tiled microkernel (12 accumulators, AVX2 + FMA). K is
// packed once per head into 16-key panels and V into 16-column panels, so both products stream
// their B operand contiguously, never pay a per-call packing or beta pass, and never hold the
// S×S score matrix: queries go in tiles of ATTN_TILE rows. A head dim that is not a multiple of 16
// pads K's and V's panels with zero columns, and the last output panel is stored through a small
// tile, so every head dim takes this path (OpenBLAS would allocate per call).


enum { MR = 6, NR = 16, ATTN_TILE = 126 };

static long round_up(long x, long m) { return (x + m - 1) / m * m; }

// On AVX-512 CPUs the head runs on the 12×32 zmm tile instead (zmm_tiles.h, as the bf16 kernels):
// the same gather into 32-key and 32-column panels, half the instructions per FLOP of the 6×16
// ymm tile, which is front-end-bound on Zen 4 (measured: ~40 % of the FMA peak there).
enum { ZMM_NR = TRM_BF16_PANEL, ZMM_TILE = 11 * TRM_ZMM_MR };

static long workspace_avx2(long seq, long d) {
    const long tile = seq < ATTN_TILE ? round_up(seq, MR) : ATTN_TILE, dp = round_up(d, NR);
    return round_up(seq, MR) * d     // Q, rotated and scaled, zero rows to a multiple of MR
         + round_up(seq, NR) * d     // K panels [seq/16][d][16]
         + seq * dp                  // V panels [dp/16][seq][16], columns past d zero
         + tile * round_up(seq, NR); // scores of one query tile
}

static long workspace_zmm(long seq, long d) {
    const long tile = seq < ZMM_TILE ? round_up(seq, TRM_ZMM_MR) : ZMM_TILE, seq_k = round_up(seq, ZMM_NR);
    return seq * d                   // Q, rotated and scaled
         + seq_k * d                 // K panels [seq_k/32][d][32], keys past seq zero
         + round_up(d, ZMM_NR) * seq // V panels [⌈d/32⌉][seq][32], columns past d zero
         + tile * seq_k;             // scores of one query tile
}

long trm_attention_workspace(long seq, long d) {
    const long a = workspace_avx2(seq, d), z = workspace_zmm(seq, d);
    return a > z ? a : z;
}

// c[r, 0..16) = scale[r] · Σ_k a[r, k]·b[k, 0..16) for r < 6 (scale NULL: 1), storing rows r < rows.
// a rows are lda apart, b is a packed panel (16 floats per k).
static inline __attribute__((always_inline)) void micro_6x16(const float *a, long lda, const float *b, long kc,
                                                             float *c, long ldc, long rows, const float *scale) {
    v8f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    v8f c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda, *a5 = a + 5 * lda;
    for (long k = 0; k < kc; k++, b += NR) {
        const v8f b0 = *(const v8f *)b, b1 = *(const v8f *)(b + 8);
        v8f x;
        x = SPLAT(a0[k]); c00 += x * b0; c01 += x * b1;
        x = SPLAT(a1[k]); c10 += x * b0; c11 += x * b1;
        x = SPLAT(a2[k]); c20 += x * b0; c21 += x * b1;
        x = SPLAT(a3[k]); c30 += x * b0; c31 += x * b1;
        x = SPLAT(a4[k]); c40 += x * b0; c41 += x * b1;
        x = SPLAT(a5[k]); c50 += x * b0; c51 += x * b1;
    }
    if (scale) {
        v8f x;
        x = SPLAT(scale[0]); c00 *= x; c01 *= x;
        x = SPLAT(scale[1]); c10 *= x; c11 *= x;
        x = SPLAT(scale[2]); c20 *= x; c21 *= x;
        x = SPLAT(scale[3]); c30 *= x; c31 *= x;
        x = SPLAT(scale[4]); c40 *= x; c41 *= x;
        x = SPLAT(scale[5]); c50 *= x; c51 *= x;
    }
    v8f *row;
    switch (rows) {
    default: row = (v8f *)(c + 5 * ldc); row[0] = c50; row[1] = c51; // fall through
    case 5: row = (v8f *)(c + 4 * ldc); row[0] = c40; row[1] = c41;  // fall through
    case 4: row = (v8f *)(c + 3 * ldc); row[0] = c30; row[1] = c31;  // fall through
    case 3: row = (v8f *)(c + 2 * ldc); row[0] = c20; row[1] = c21;  // fall through
    case 2: row = (v8f *)(c + ldc); row[0] = c10; row[1] = c11;      // fall through
    case 1: row = (v8f *)c; row[0] = c00; row[1] = c01;
    }
}

// Query row t rotated (with a RoPE row cos/sin, else not) and scaled into qdst; key row t rotated
// into its panel column kdst (rows `panel` floats apart); krow is scratch of d floats.
static inline __attribute__((always_inline)) void gather_qk(const float *qt, const float *kt, const float *cos,
                                                            const float *sin, long d, float scale, float *qdst,
                                                            float *kdst, long panel, float *krow) {
    if (cos) {
        trm_rotate_row(qt, qdst, cos, sin, d, scale);
        trm_rotate_row(kt, krow, cos, sin, d, 1.0f);
        for (long i = 0; i < d; i++) kdst[i * panel] = krow[i];
    } else {
        for (long i = 0; i < d; i++) { qdst[i] = qt[i] * scale; kdst[i * panel] = kt[i]; }
    }
}

#if TRM_X86
F32_TARGET static void head_zmm(const float *q, const float *k, const float *v, long stride, const float *cos,
                                const float *sin, float *out, long out_stride, long seq, long d, float *workspace) {
    const long seq_k = round_up(seq, ZMM_NR), dp = round_up(d, ZMM_NR);
    const long tile = seq < ZMM_TILE ? round_up(seq, TRM_ZMM_MR) : ZMM_TILE;
    float *qs = workspace, *kp = qs + seq * d, *vp = kp + seq_k * d, *scores = vp + dp * seq;
    const float scale = 1.0f / __builtin_sqrtf((float)d);
    float krow[d], inv_sum[ZMM_TILE];
    memset(kp + (seq / ZMM_NR) * d * ZMM_NR, 0, (size_t)((seq_k - seq / ZMM_NR * ZMM_NR) * d) * 4);
    if (dp != d) memset(vp + (d / ZMM_NR) * seq * ZMM_NR, 0, (size_t)(seq * ZMM_NR) * 4);
    for (long t = 0; t < seq; t++) {
        const float *qt = q + t * stride, *kt = k + t * stride, *vt = v + t * stride;
        if (t + TRM_GATHER_PREFETCH_ROWS < seq) {
            const long ahead = TRM_GATHER_PREFETCH_ROWS * stride;
            trm_prefetch_row(qt + ahead, d);
            trm_prefetch_row(kt + ahead, d);
            trm_prefetch_row(vt + ahead, d);
        }
        gather_qk(qt, kt, cos ? cos + t * d : NULL, sin ? sin + t * d : NULL, d, scale, qs + t * d,
                  kp + (t / ZMM_NR) * d * ZMM_NR + t % ZMM_NR, ZMM_NR, krow);
        for (long j = 0; j < d; j += 16) {
            const __mmask16 m = d - j >= 16 ? 0xffff : (__mmask16)((1u << (d - j)) - 1);
            _mm512_mask_storeu_ps(vp + (j / ZMM_NR) * seq * ZMM_NR + t * ZMM_NR + j % ZMM_NR, m, _mm512_maskz_loadu_ps(m, vt + j));
        }
    }
    const uint32_t *qw = (const uint32_t *)qs, *kw = (const uint32_t *)kp, *vw = (const uint32_t *)vp;
    for (long t0 = 0; t0 < seq; t0 += tile) {
        const long rows = seq - t0 < tile ? seq - t0 : tile;
        const uint32_t *sw = (const uint32_t *)scores;
        for (long j = 0; j < seq_k; j += ZMM_NR)
            for (long i = 0; i < rows; i += TRM_ZMM_MR)
                trm_f32_tile_any(rows - i < TRM_ZMM_MR ? rows - i : TRM_ZMM_MR, qw + (t0 + i) * d, d, kw + j * d, d,
                                 scores + i * seq_k + j, seq_k, ZMM_NR, NULL, NULL, 0);
        for (long r = 0; r < rows; r++) inv_sum[r] = trm_softmax_row_unnormalized(scores + r * seq_k, seq);
        for (long i = 0; i < rows; i += TRM_ZMM_MR)
            for (long j = 0; j < d; j += ZMM_NR)
                trm_f32_tile_any(rows - i < TRM_ZMM_MR ? rows - i : TRM_ZMM_MR, sw + i * seq_k, seq_k, vw + j * seq,
                                 seq, out + (t0 + i) * out_stride + j, out_stride, d - j < ZMM_NR ? d - j : ZMM_NR, NULL,
                                 inv_sum + i, 0);
    }
}
#endif

CLONES int trm_attention_head(const float *q, const float *k, const float *v, long stride, const float *cos,
                              const float *sin, float *out, long out_stride, long seq, long d, float *workspace) {
    if (d < 1 || d > 8192 || (cos && d % 2 != 0) || seq <= 0) return 0;
#if TRM_X86
    if (trm_cpu_vector_level() == 2) {
        head_zmm(q, k, v, stride, cos, sin, out, out_stride, seq, d, workspace);
        return 1;
    }
#endif
    const long seq_q = round_up(seq, MR), seq_k = round_up(seq, NR), dp = round_up(d, NR);
    const long tile = seq < ATTN_TILE ? seq_q : ATTN_TILE;
    float *qs = workspace, *kp = qs + seq_q * d, *vp = kp + seq_k * d, *scores = vp + seq * dp;
    const float scale = 1.0f / __builtin_sqrtf((float)d);

    // Gather: Q rows (rotated, scaled), K into 16-key panels (rotated), V into 16-column panels.
    float krow[d], inv_sum[ATTN_TILE];
    for (long t = 0; t < seq; t++) {
        const float *qt = q + t * stride, *kt = k + t * stride, *vt = v + t * stride;
        gather_qk(qt, kt, cos ? cos + t * d : NULL, sin ? sin + t * d : NULL, d, scale, qs + t * d,
                  kp + (t / NR) * d * NR + t % NR, NR, krow);
        for (long j = 0; j < dp; j += NR)
            for (long l = 0; l < NR; l++) vp[(j / NR) * seq * NR + t * NR + l] = j + l < d ? vt[j + l] : 0.0f;
    }
    for (long t = seq; t < seq_q; t++)
        for (long i = 0; i < d; i++) qs[t * d + i] = 0.0f;
    for (long t = seq; t < seq_k; t++)
        for (long i = 0; i < d; i++) kp[(t / NR) * d * NR + i * NR + t % NR] = 0.0f;

    for (long t0 = 0; t0 < seq; t0 += tile) {
        const long rows = seq - t0 < tile ? seq - t0 : tile;
        // scores[rows, seq_k] = Q_tile · Kᵀ (the padded key columns score 0 and are never read).
        for (long j = 0; j < seq_k; j += NR)
            for (long i = 0; i < rows; i += MR)
                micro_6x16(qs + (t0 + i) * d, d, kp + j * d, d, scores + i * seq_k + j, seq_k, MR, 0);
        // Unnormalised: the 1/Σ of each row scales the P·V tile instead of the row.
        for (long r = 0; r < rows; r++) inv_sum[r] = trm_softmax_row_unnormalized(scores + r * seq_k, seq);
        for (long r = rows; r < round_up(rows, MR); r++) inv_sum[r] = 0.0f;
        // out[rows, d] = P · V; a last panel narrower than 16 goes through `edge`.
        for (long i = 0; i < rows; i += MR) {
            const long mr = rows - i < MR ? rows - i : MR;
            for (long j = 0; j < dp; j += NR) {
                float *dst = out + (t0 + i) * out_stride + j;
                if (j + NR <= d) {
                    micro_6x16(scores + i * seq_k, seq_k, vp + j * seq, seq, dst, out_stride, mr, inv_sum + i);
                    continue;
                }
                float edge[MR * NR] __attribute__((aligned(32)));
                micro_6x16(scores + i * seq_k, seq_k, vp + j * seq, seq, edge, NR, mr, inv_sum + i);
                for (long r = 0; r < mr; r++)
                    for (long c = 0; c < d - j; c++) dst[r * out_stride + c] = edge[r * NR + c];
            }
        }
    }
    return 1;
}
