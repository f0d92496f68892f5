// bf16 matrix products for inference: fp32 activations times weights packed once into bf16, with
// fp32 accumulation on AVX512_BF16 (VDPBF16PS). Every entry point runs on any x86-64 (and non-x86)
// CPU: the bf16 instructions execute only when trm_cpu_has_avx512bf16() says the CPU and the OS
// support them; elsewhere trm_bf16_gemm takes a portable path with the same results up to the
// order of the fp32 additions.
#ifndef TRM_BF16_H
#define TRM_BF16_H

#include <stdint.h>

/// 1 when the CPU has AVX512F and AVX512_BF16 and the OS saves the zmm and opmask state (XCR0),
/// else 0. Cached after the first call; safe from any thread.
int trm_cpu_has_avx512bf16(void);

/// out[i] = x[i] rounded to bf16, nearest with ties to even, on every CPU alike: denormals stay
/// denormals (bf16 has fp32's exponent range), overflow rounds to ±inf, a NaN stays a NaN of the
/// same sign with the quiet bit set. out must not overlap x.
void trm_f32_to_bf16(const float *x, uint16_t *out, long n);
/// out[i] = x[i] widened to fp32 (exact).
void trm_bf16_to_f32(const uint16_t *x, float *out, long n);

/// Output columns per packed panel of B (the microkernel's width).
enum { TRM_BF16_PANEL = 32 };

/// uint16_t elements trm_bf16_pack_b writes for a weight matrix [n, k]: ⌈n/32⌉ panels of ⌈k/2⌉
/// k-pairs of 32 columns × 2 values.
long trm_bf16_packed_size(long n, long k);
/// Packs w [n, k] (row-major fp32, rows `ldw` floats apart; y = x·wᵀ) into bf16 panels: panel j,
/// pair p, column c holds w[32j + c, 2p] in its low and w[32j + c, 2p + 1] in its high half, each
/// rounded as trm_f32_to_bf16; columns past n and the odd k's missing partner are zero.
/// `packed` holds trm_bf16_packed_size(n, k) elements.
void trm_bf16_pack_b(const float *w, long ldw, long n, long k, uint16_t *packed);
/// trm_bf16_pack_b of the matrix whose element [j, p] is w[j·row_stride + p·col_stride]: row_stride
/// 1 and col_stride ldx pack the transpose of x [k, n] (rows ldx floats apart) without a copy.
void trm_bf16_pack_b_strided(const float *w, long row_stride, long col_stride, long n, long k, uint16_t *packed);

/// Floats of workspace trm_bf16_gemm needs for m rows of depth k (at most 144 × 256 floats).
long trm_bf16_gemm_workspace(long m, long k);
/// c[i, j] = (accumulate ? c[i, j] : 0) + bias[j] + Σ_p bf16(a[i, p]) · w[j, p] for i < m, j < n,
/// where packed_b is w [n, k] packed by trm_bf16_pack_b; sums are fp32. Rows of a and c are `lda`
/// and `ldc` floats apart; bias may be NULL. `workspace` holds trm_bf16_gemm_workspace(m, k) floats
/// (any alignment) and is this call's alone: calls on disjoint rows of c with their own workspaces
/// may run concurrently. With AVX512_BF16 denormal inputs count as zero (VDPBF16PS flushes them);
/// k = 0 leaves c + bias (or 0 + bias).
void trm_bf16_gemm(long m, long n, long k, const float *a, long lda, const uint16_t *packed_b, float *c, long ldc,
                   const float *bias, int accumulate, float *workspace);
/// Floats of workspace trm_bf16_gemm_at needs: trm_bf16_gemm_workspace's plus an fp32 tile of the
/// transposed block (144 × 256 + 144 × 512 floats).
long trm_bf16_gemm_at_workspace(long m, long k);
/// trm_bf16_gemm with A given transposed and no bias: c[i, j] = (accumulate ? c[i, j] : 0) +
/// Σ_p bf16(at[p·ldat + i])·w[j, p] for i < m, j < n (at is [k, m], rows ldat floats apart; the
/// weight gradient dYᵀ·x without writing dYᵀ); `workspace` holds trm_bf16_gemm_at_workspace(m, k)
/// floats. Returns 0, doing nothing, without AVX512_BF16 (the caller transposes A itself), else 1.
int trm_bf16_gemm_at(long m, long n, long k, const float *at, long ldat, const uint16_t *packed_b, float *c, long ldc,
                     int accumulate, float *workspace);
/// The SwiGLU epilogue fused into trm_bf16_gemm: out[i, c] = silu(g)·u for c < width, with g and u
/// the bf16 products of a_i with rows c and width + c of w [2·width, k] (packed by trm_bf16_pack_b)
/// plus bias[c], bias[width + c] (bias may be NULL); rows of out are ldo floats apart; `workspace`
/// as trm_bf16_gemm's. Returns 0, doing nothing, where the fused form does not run (no AVX512_BF16,
/// width not a multiple of 16, k ≤ 0, or k over 6144, where 12 rows of A no longer fit the
/// workspace): the caller computes the product and the epilogue apart. Else 1.
int trm_bf16_gemm_glu(long m, long width, long k, const float *a, long lda, const uint16_t *packed_b, float *out,
                      long ldo, const float *bias, float *workspace);
/// The same product without bf16 instructions (the path trm_bf16_gemm takes on other CPUs; callable
/// anywhere, for tests). Denormals are kept; fp32 sums in a different order.
void trm_bf16_gemm_portable(long m, long n, long k, const float *a, long lda, const uint16_t *packed_b, float *c,
                            long ldc, const float *bias, int accumulate, float *workspace);

/// Single-thread GFLOP/s of `iterations` rounds of 16 independent VDPBF16PS zmm chains (64 FLOP
/// each: 32 bf16 pair products, two operations per product); 0 without AVX512_BF16.
double trm_peak_bf16_gflops(long iterations);
/// Single-thread GFLOP/s of `iterations` rounds of 16 independent fp32 FMA chains: zmm with
/// AVX512F, else ymm with AVX2 + FMA (2 FLOP per lane); 0 without either.
double trm_peak_fp32_fma_gflops(long iterations);

#endif
