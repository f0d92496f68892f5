#include "ckernels.h"
#include "zmm_tiles.h"

// C = A·Wᵀ in fp32 on the 12×32 zmm tile (zmm_tiles.h), with W packed once (trm_f32_pack_b) into
// panels of 32 output columns, k-major: the B layout of the bf16 GEMM with one float per lane
// instead of one bf16 pair. A is read in place (rows lda floats apart): the tile broadcasts one
// float of each of its 12 rows per k, so A needs no packing, and nothing is repacked per call
// (OpenBLAS packs both operands on every call).
//
// Blocking: MC rows of A (MC·KC·4 = 96 KiB, in L2) against every panel, KC k at a time. Measured on
// Zen 4 (1 thread, m 3664, n 512-2730, k 512-1365): KC 512 beats 128 and 256 by 3-12 % (fewer passes
// over C, whose block MC·n no longer fits L2 at n = 2730), MC 48-144 within 2 %; 95 % of the FMA
// peak, 3-10 % above OpenBLAS 0.3.21's SkylakeX sgemm.
enum { MR = TRM_ZMM_MR, NR = TRM_BF16_PANEL, KC = 512, MC = 48 };

static long round_up(long x, long m) { return (x + m - 1) / m * m; }
static long min_long(long a, long b) { return a < b ? a : b; }

int trm_f32_gemm_available(void) { return trm_cpu_vector_level() == 2; }

long trm_f32_packed_size(long n, long k) { return round_up(n, NR) * k; }

void trm_f32_pack_b(const float *w, long ldw, long n, long k, float *packed) {
    trm_f32_pack_b_strided(w, ldw, 1, n, k, packed);
}

// k outer, columns inner: a transposed source (row_stride 1) is then read as one contiguous run
// of 32 floats per k.
void trm_f32_pack_b_strided(const float *w, long row_stride, long col_stride, long n, long k, float *packed) {
    for (long j0 = 0; j0 < n; j0 += NR) {
        float *panel = packed + j0 * k;
        const long cols = min_long(NR, n - j0);
        for (long p = 0; p < k; p++) {
            const float *src = w + j0 * row_stride + p * col_stride;
            float *dst = panel + p * NR;
            for (long c = 0; c < cols; c++) dst[c] = src[c * row_stride];
            for (long c = cols; c < NR; c++) dst[c] = 0.0f;
        }
    }
}

#if TRM_X86
// Whether the MR rows a tile broadcasts from would crowd one L1 set: a 32 KiB 8-way L1 maps
// addresses 4 KiB apart to the same set, so rows lda floats apart share a set whenever lda·4 is
// a multiple of a large power of two; with lda = 1024 (Mamba-2's out_proj, d_inner 1024) all 12
// rows land in one set, more than its ways, and the GEMM ran at 143 instead of ~200 GFLOP/s
// (2 threads, Zen 4; 203 with the copy). Counts the rows of one tile that share the busiest set
// (sets of 64 bytes, period 4 KiB) and says so past 6 of the 8 ways, which leaves two for the B
// panel and C. Measured: 6 rows per set (lda 512 and 1536) run as fast in place as copied.
static int a_rows_crowd_l1(long lda) {
    int count[64] = {0}, most = 0;
    for (long r = 0; r < MR; r++) {
        const long set = ((r * lda * 4) / 64) % 64;
        if (++count[set] > most) most = count[set];
    }
    return most > 6;
}

// Rows of A copied per block when they crowd L1 (a_rows_crowd_l1): MC_COPY · (KC + A_PAD) floats
// on the stack (50 KiB), rows A_PAD floats (one cache line) longer than the block so that
// consecutive rows fall into different sets.
enum { MC_COPY = 24, A_PAD = 16 };

// `a_transposed`: A is given as its transpose at [k, m] (element [i, p] at a[p·lda + i]), and each
// block is transposed into the copy as it is needed, so the weight gradient dYᵀ·x never writes dYᵀ
// out whole (the block is 50 KiB, in L2, where a whole dYᵀ of a layer is megabytes).
F32_TARGET static void gemm_zmm(long m, long n, long k, const float *a, long lda, int a_transposed,
                                const float *packed_b, float *c, long ldc, const float *bias, int accumulate) {
    const uint32_t *bw = (const uint32_t *)packed_b;
    const int copy_a = a_transposed || a_rows_crowd_l1(lda);
    const long mc_max = copy_a ? MC_COPY : MC;
    float a_copy[copy_a ? MC_COPY * (KC + A_PAD) : 1];
    for (long i0 = 0; i0 < m; i0 += mc_max) {
        const long mc = min_long(mc_max, m - i0);
        for (long p0 = 0; p0 < k; p0 += KC) {
            const long kc = min_long(KC, k - p0);
            const int load_c = p0 > 0 || accumulate;
            const uint32_t *block = (const uint32_t *)(a + i0 * lda + p0);
            long ld_block = lda;
            if (a_transposed) {
                trm_transpose(a + p0 * lda + i0, lda, kc, mc, a_copy, KC + A_PAD);
                block = (const uint32_t *)a_copy;
                ld_block = KC + A_PAD;
            } else if (copy_a) {
                for (long r = 0; r < mc; r++)
                    for (long p = 0; p < kc; p++) a_copy[r * (KC + A_PAD) + p] = a[(i0 + r) * lda + p0 + p];
                block = (const uint32_t *)a_copy;
                ld_block = KC + A_PAD;
            }
            for (long j0 = 0; j0 < n; j0 += NR) {
                const uint32_t *panel = bw + j0 * k + p0 * NR;
                const long cols = min_long(NR, n - j0);
                const float *bias_now = p0 == 0 && bias ? bias + j0 : NULL;
                for (long r0 = 0; r0 < mc; r0 += MR)
                    trm_f32_tile_any(min_long(MR, mc - r0), block + r0 * ld_block, ld_block, panel, kc,
                                     c + (i0 + r0) * ldc + j0, ldc, cols, bias_now, NULL, load_c);
            }
        }
    }
}

// The SwiGLU product: out[i, c] = silu(g)·u with g = a_i·w[c] + bias[c], u = a_i·w[width + c] + bias[width + c],
// from the plain packing of w [2·width, k]. Output columns go 16 at a time; with width a multiple of 16
// the gate's and the up projection's 16 columns each sit in one half of a panel, k·32 words apart times
// their panel distance, so one GLU tile walks both over the whole k (no K blocks: g and u must be complete
// before the epilogue; the MC·k block of A still stays in L2 for the k of our models).
F32_TARGET static void gemm_glu_zmm(long m, long width, long k, const float *a, long lda, const float *packed_b,
                                    float *out, long ldo, const float *bias) {
    const uint32_t *aw = (const uint32_t *)a, *bw = (const uint32_t *)packed_b;
    for (long i0 = 0; i0 < m; i0 += MC) {
        const long mc = min_long(MC, m - i0);
        for (long j = 0; j < width; j += 16) {
            const long gate = (j / NR) * NR * k + j % NR, up = ((width + j) / NR) * NR * k + (width + j) % NR;
            for (long r0 = 0; r0 < mc; r0 += MR)
                trm_f32_tile_glu_any(min_long(MR, mc - r0), aw + (i0 + r0) * lda, lda, bw + gate, up - gate, k,
                                     out + (i0 + r0) * ldo + j, ldo, min_long(16, width - j), bias ? bias + j : NULL,
                                     bias ? bias + width + j : NULL);
        }
    }
}
#endif

int trm_f32_gemm_glu(long m, long width, long k, const float *a, long lda, const float *packed_b, float *out, long ldo,
                     const float *bias) {
    if (!trm_f32_gemm_available() || width % 16 != 0 || k <= 0) return 0;
    if (m <= 0 || width <= 0) return 1;
#if TRM_X86
    gemm_glu_zmm(m, width, k, a, lda, packed_b, out, ldo, bias);
    return 1;
#else
    (void)a, (void)lda, (void)packed_b, (void)out, (void)ldo, (void)bias;
    return 0;
#endif
}

int trm_f32_gemm(long m, long n, long k, const float *a, long lda, const float *packed_b, float *c, long ldc,
                 const float *bias, int accumulate) {
    if (!trm_f32_gemm_available()) return 0;
    if (m <= 0 || n <= 0) return 1;
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                const float v = bias ? bias[j] : 0.0f;
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + v : v;
            }
        return 1;
    }
#if TRM_X86
    gemm_zmm(m, n, k, a, lda, 0, packed_b, c, ldc, bias, accumulate);
    return 1;
#else
    (void)a, (void)lda, (void)packed_b;
    return 0;
#endif
}

int trm_f32_gemm_at(long m, long n, long k, const float *at, long ldat, const float *packed_b, float *c, long ldc,
                    int accumulate) {
    if (!trm_f32_gemm_available()) return 0;
    if (m <= 0 || n <= 0) return 1;
    if (k <= 0) return trm_f32_gemm(m, n, 0, at, ldat, packed_b, c, ldc, NULL, accumulate);
#if TRM_X86
    gemm_zmm(m, n, k, at, ldat, 1, packed_b, c, ldc, NULL, accumulate);
    return 1;
#else
    (void)at, (void)ldat, (void)packed_b, (void)c, (void)ldc, (void)accumulate;
    return 0;
#endif
}
