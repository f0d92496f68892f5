#include "ckernels.h"
#include "trm_bf16.h"
#include "simd.h"

#include <string.h>
#include <time.h>

#include "zmm_tiles.h"
#if TRM_X86
#include <cpuid.h>
#endif

// C = A·Wᵀ with A converted to bf16 per call and W packed once (trm_bf16_pack_b) into panels of 32
// output columns whose 32-bit lanes each hold one k-pair of one column: exactly VDPBF16PS's operand
// layout, where lane j accumulates a.bf16[2j]·b.bf16[2j] + a.bf16[2j+1]·b.bf16[2j+1]. Broadcasting one
// k-pair of a row of A to all lanes and dotting it with a panel row therefore adds that pair's
// contribution to 16 output columns at once.
//
// Blocking (BLIS order, one thread per call): MC rows of A at a time are converted into the
// workspace, KC k-pairs at a time (144 KiB: the block stays in L2); for each 32-column panel the
// KC-pair slice of B (KC·128 bytes = 32 KiB) stays in L1 while the microkernel walks the block's
// MR-row tiles. The C block (MC rows) stays in L2/L3 across the K steps. B is the only operand
// re-read from far away, once per MC rows, which costs nothing next to the arithmetic. KC = 256
// measured 5-8 % faster than 128 (fewer C passes) on a 48 KiB-L1 Sapphire Rapids; a 32 KiB L1
// (Zen 4) then serves part of the panel from L2, whose bandwidth is far above the 128 bytes per
// 2·MR instructions the kernel needs.
//
// The microkernel holds an MR×32 tile of C in 2·MR = 24 zmm accumulators; per k-pair it issues 2
// panel loads, MR broadcast loads of A (vbroadcastss from memory: a load, no shuffle) and 2·MR
// VDPBF16PS: far more arithmetic than loads on every AVX512_BF16 core, and enough independent
// chains to cover the instruction's latency. The kernel runs at 96-100 % of the measured VDPBF16PS
// peak on Sapphire Rapids, where that peak is only half the fp32 FMA peak (one VDPBF16PS zmm per 2
// cycles against two FMAs per cycle); Zen 4 is said to run it at twice its FMA rate (not measured).
enum { MR = TRM_ZMM_MR, NR = TRM_BF16_PANEL, KC = 256, MC = 144 };

static long round_up(long x, long m) { return (x + m - 1) / m * m; }
static long min_long(long a, long b) { return a < b ? a : b; }

// ---------------------------------------------------------------------------------------------
// CPU features

#if TRM_X86
// XCR0 bits the OS must enable before zmm code may run: SSE (1), AVX (2), opmask (5), upper
// halves of zmm0-15 (6), zmm16-31 (7).
enum { XCR0_AVX = 0x06, XCR0_AVX512 = 0xe6 };

static unsigned long long xcr0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

// Bit 0: AVX512F+BW+VL usable; bit 1: AVX512_BF16 too; bit 2: AVX2 + FMA usable.
static int detect_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) return 0; // xgetbv would fault without OSXSAVE
    const unsigned long long x = xcr0();
    if ((x & XCR0_AVX) != XCR0_AVX || __get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    int features = avx2 && fma ? 4 : 0;
    if (avx512f && avx512bw && avx512vl && (x & XCR0_AVX512) == XCR0_AVX512) {
        features |= 1;
        __cpuid_count(7, 1, a, b, c, d);
        if ((a >> 5) & 1) features |= 2;
    }
    return features;
}
#else
static int detect_features(void) { return 0; }
#endif

// cpuid traps to the hypervisor in a VM (microseconds), so it runs once.
static int features(void) {
    static _Atomic int cached = -1;
    int f = cached;
    if (f < 0) {
        f = detect_features();
        cached = f;
    }
    return f;
}

int trm_cpu_has_avx512bf16(void) { return (features() & 2) != 0; }

// ---------------------------------------------------------------------------------------------
// Conversion

// Nearest, ties to even: adding 0x7fff plus the lowest kept bit carries into the kept half exactly
// when the dropped half is over 0x8000, or equal to it with an odd kept half. Finite values near
// the top carry into the exponent and become ±inf, as they should; NaNs would carry into the sign
// or turn into inf, so they keep their top bits and get the quiet bit instead.
static inline uint16_t f32_to_bf16_one(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t nan = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

static inline float bf16_to_f32_one(uint32_t h) {
    const uint32_t u = h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

// Integer arithmetic on purpose: VCVTNEPS2BF16 flushes denormal inputs to zero, so it would make the
// result depend on the CPU. This loop auto-vectorises (AVX2 clone: 8 lanes) and is memory-bound.
CLONES void trm_f32_to_bf16(const float *x, uint16_t *out, long n) {
    for (long i = 0; i < n; i++) out[i] = f32_to_bf16_one(x[i]);
}

CLONES void trm_bf16_to_f32(const uint16_t *x, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = bf16_to_f32_one(x[i]);
}

// ---------------------------------------------------------------------------------------------
// Packing B

long trm_bf16_packed_size(long n, long k) { return round_up(n, NR) * round_up(k, 2); }

// One 32-bit lane per (pair, column), k-pairs outer and columns inner, so that a transposed source
// (row_stride 1: the trainer's weight and input gradients) is read as two contiguous runs of 32
// floats per pair and the lane loop vectorises.
CLONES void trm_bf16_pack_b_strided(const float *w, long row_stride, long col_stride, long n, long k,
                                    uint16_t *packed) {
    const long pairs = (k + 1) / 2;
    for (long j0 = 0; j0 < n; j0 += NR) {
        uint32_t *panel = (uint32_t *)(packed + j0 * 2 * pairs); // panels are NR·2·pairs elements apart
        const long cols = min_long(NR, n - j0);
        for (long p = 0; p < pairs; p++) {
            const float *lo = w + j0 * row_stride + 2 * p * col_stride, *hi = lo + col_stride;
            uint32_t *dst = panel + p * NR;
            if (2 * p + 1 < k)
                for (long c = 0; c < cols; c++)
                    dst[c] = f32_to_bf16_one(lo[c * row_stride]) | (uint32_t)f32_to_bf16_one(hi[c * row_stride]) << 16;
            else
                for (long c = 0; c < cols; c++) dst[c] = f32_to_bf16_one(lo[c * row_stride]);
            for (long c = cols; c < NR; c++) dst[c] = 0;
        }
    }
}

void trm_bf16_pack_b(const float *w, long ldw, long n, long k, uint16_t *packed) {
    trm_bf16_pack_b_strided(w, ldw, 1, n, k, packed);
}

long trm_bf16_gemm_workspace(long m, long k) {
    (void)k; // rows of the A block are KC pairs apart whatever k is (see pack_a)
    return min_long(m > 0 ? m : 0, MC) * KC;
}

// ---------------------------------------------------------------------------------------------
// The AVX512_BF16 path

#if TRM_X86

// Row r of the block (r < rows) gets a[r, 2·p0 .. 2·(p0 + kc)) as bf16 pairs at ws + r·ldw: the
// GEMM's row stride is the constant KC so that the microkernel's twelve row addresses are one
// register plus immediate displacements. A missing partner of an odd k is zero.
BF16_TARGET static inline __attribute__((always_inline)) void pack_a(const float *a, long lda, long rows, long p0,
                                                                     long kc, long k, uint32_t *ws, long ldw) {
    const long have = min_long(2 * kc, k - 2 * p0); // floats of A in this slice
    for (long r = 0; r < rows; r++) {
        const float *src = a + r * lda + 2 * p0;
        uint16_t *dst = (uint16_t *)(ws + r * ldw);
        long i = 0;
        for (; i + 32 <= have; i += 32) {
            const __m512 lo = _mm512_loadu_ps(src + i), hi = _mm512_loadu_ps(src + i + 16);
            _mm512_storeu_si512(dst + i, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        if (i < have) {
            const long left = have - i; // 1..31 floats, stored as 2·kc - i ≤ 32 bf16 (zero-padded)
            const __mmask16 mlo = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
            const __mmask16 mhi = left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0;
            const __m512 lo = _mm512_maskz_loadu_ps(mlo, src + i), hi = _mm512_maskz_loadu_ps(mhi, src + i + 16);
            const long store = 2 * kc - i;
            const __mmask32 ms = store >= 32 ? 0xffffffffu : (__mmask32)((1u << store) - 1);
            _mm512_mask_storeu_epi16(dst + i, ms, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
    }
}

// `a_transposed`: A is given as its transpose [k, m] (element [i, p] at a[p·lda + i]); each block's
// 2·KC × MC floats are first transposed into an fp32 tile after the packed block in the workspace
// (MC·2·KC floats, in L2), then packed from there, so a weight gradient dYᵀ·x never writes dYᵀ whole.
BF16_TARGET static void gemm_avx512bf16(long m, long n, long k, const float *a, long lda, int a_transposed,
                                        const uint16_t *packed_b, float *c, long ldc, const float *bias, int accumulate,
                                        float *workspace) {
    const long pairs = (k + 1) / 2;
    uint32_t *ws = (uint32_t *)workspace;
    float *tile = workspace + MC * KC; // a_transposed only
    const uint32_t *bp = (const uint32_t *)packed_b; // one 32-bit word per (pair, column)
    for (long i0 = 0; i0 < m; i0 += MC) {
        const long mc = min_long(MC, m - i0);
        for (long p0 = 0; p0 < pairs; p0 += KC) {
            const long kc = min_long(KC, pairs - p0);
            if (a_transposed) {
                const long have = min_long(2 * kc, k - 2 * p0);
                trm_transpose(a + 2 * p0 * lda + i0, lda, have, mc, tile, 2 * KC);
                pack_a(tile, 2 * KC, mc, 0, kc, have, ws, KC);
            } else {
                pack_a(a + i0 * lda, lda, mc, p0, kc, k, ws, KC);
            }
            const float *bias_now = p0 == 0 ? bias : NULL;
            const int load_c = p0 > 0 || accumulate;
            for (long j0 = 0; j0 < n; j0 += NR) {
                const uint32_t *panel = bp + j0 * pairs + p0 * NR;
                const long cols = min_long(NR, n - j0);
                for (long r0 = 0; r0 < mc; r0 += MR)
                    trm_bf16_tile_any(min_long(MR, mc - r0), ws + r0 * KC, KC, panel, kc, c + (i0 + r0) * ldc + j0,
                                       ldc, cols, bias_now ? bias_now + j0 : NULL, NULL, load_c);
            }
        }
    }
}

// The SwiGLU product on the plain packing (as gemm_glu_zmm in f32_gemm.c): 16 output columns at a
// time, the gate's and the up projection's words `up - gate` apart, over all k-pairs at once. The
// workspace (MC·KC words) then holds MC·KC/pairs rows of A, a multiple of MR.
BF16_TARGET static void gemm_glu_avx512bf16(long m, long width, long k, const float *a, long lda,
                                            const uint16_t *packed_b, float *out, long ldo, const float *bias,
                                            float *workspace) {
    const long pairs = (k + 1) / 2, block = min_long(MC, MC * KC / pairs / MR * MR);
    uint32_t *ws = (uint32_t *)workspace;
    const uint32_t *bp = (const uint32_t *)packed_b;
    for (long i0 = 0; i0 < m; i0 += block) {
        const long mc = min_long(block, m - i0);
        pack_a(a + i0 * lda, lda, mc, 0, pairs, k, ws, pairs);
        for (long j = 0; j < width; j += 16) {
            const long gate = (j / NR) * NR * pairs + j % NR, up = ((width + j) / NR) * NR * pairs + (width + j) % NR;
            for (long r0 = 0; r0 < mc; r0 += MR)
                trm_bf16_tile_glu_any(min_long(MR, mc - r0), ws + r0 * pairs, pairs, bp + gate, up - gate, pairs,
                                      out + (i0 + r0) * ldo + j, ldo, min_long(16, width - j), bias ? bias + j : NULL,
                                      bias ? bias + width + j : NULL);
        }
    }
}
#endif

int trm_bf16_gemm_glu(long m, long width, long k, const float *a, long lda, const uint16_t *packed_b, float *out,
                      long ldo, const float *bias, float *workspace) {
    if (width % 16 != 0 || k <= 0 || (k + 1) / 2 > MC * KC / MR) return 0;
#if TRM_X86
    if (!trm_cpu_has_avx512bf16()) return 0;
    if (m > 0 && width > 0) gemm_glu_avx512bf16(m, width, k, a, lda, packed_b, out, ldo, bias, workspace);
    return 1;
#else
    (void)m, (void)a, (void)lda, (void)packed_b, (void)out, (void)ldo, (void)bias, (void)workspace;
    return 0;
#endif
}

// ---------------------------------------------------------------------------------------------
// Portable path and dispatch

// One row at a time against one panel: the pair loop broadcasts a's two values, the lane loop
// vectorises over the panel's 32 columns.
CLONES void trm_bf16_gemm_portable(long m, long n, long k, const float *a, long lda, const uint16_t *packed_b,
                                   float *c, long ldc, const float *bias, int accumulate, float *workspace) {
    (void)workspace;
    const long pairs = (k + 1) / 2;
    const uint32_t *bp = (const uint32_t *)packed_b;
    for (long i = 0; i < m; i++) {
        const float *ai = a + i * lda;
        float *ci = c + i * ldc;
        for (long j0 = 0; j0 < n; j0 += NR) {
            const uint32_t *panel = bp + j0 * pairs;
            const long cols = min_long(NR, n - j0);
            float acc[NR];
            for (long l = 0; l < NR; l++) acc[l] = 0;
            for (long p = 0; p < pairs; p++) {
                const float a0 = bf16_to_f32_one(f32_to_bf16_one(ai[2 * p]));
                const float a1 = 2 * p + 1 < k ? bf16_to_f32_one(f32_to_bf16_one(ai[2 * p + 1])) : 0.0f;
                const uint32_t *row = panel + p * NR;
                for (long l = 0; l < NR; l++) {
                    const uint32_t lo = row[l] << 16, hi = row[l] & 0xffff0000u;
                    float b0, b1;
                    memcpy(&b0, &lo, 4);
                    memcpy(&b1, &hi, 4);
                    acc[l] += a0 * b0 + a1 * b1;
                }
            }
            for (long l = 0; l < cols; l++) {
                float v = acc[l] + (bias ? bias[j0 + l] : 0.0f);
                ci[j0 + l] = accumulate ? ci[j0 + l] + v : v;
            }
        }
    }
}

void trm_bf16_gemm(long m, long n, long k, const float *a, long lda, const uint16_t *packed_b, float *c, long ldc,
                   const float *bias, int accumulate, float *workspace) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                const float v = bias ? bias[j] : 0.0f;
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + v : v;
            }
        return;
    }
#if TRM_X86
    if (trm_cpu_has_avx512bf16()) {
        gemm_avx512bf16(m, n, k, a, lda, 0, packed_b, c, ldc, bias, accumulate, workspace);
        return;
    }
#endif
    trm_bf16_gemm_portable(m, n, k, a, lda, packed_b, c, ldc, bias, accumulate, workspace);
}

long trm_bf16_gemm_at_workspace(long m, long k) {
    (void)m, (void)k; // the packed block and the fp32 tile at fixed offsets (see gemm_avx512bf16)
    return MC * KC + MC * 2 * KC;
}

int trm_bf16_gemm_at(long m, long n, long k, const float *at, long ldat, const uint16_t *packed_b, float *c, long ldc,
                     int accumulate, float *workspace) {
#if TRM_X86
    if (!trm_cpu_has_avx512bf16()) return 0;
    if (m <= 0 || n <= 0) return 1;
    if (k <= 0) {
        trm_bf16_gemm(m, n, 0, at, ldat, packed_b, c, ldc, NULL, accumulate, workspace);
        return 1;
    }
    gemm_avx512bf16(m, n, k, at, ldat, 1, packed_b, c, ldc, NULL, accumulate, workspace);
    return 1;
#else
    (void)m, (void)n, (void)k, (void)at, (void)ldat, (void)packed_b, (void)c, (void)ldc, (void)accumulate, (void)workspace;
    return 0;
#endif
}

// ---------------------------------------------------------------------------------------------
// Peaks

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// 16 independent accumulators: more than latency × throughput of VDPBF16PS and FMA on current
// cores (Zen 4, Sapphire Rapids: ≤ 10 in flight). The empty asm makes an operand opaque each round,
// so the compiler can neither hoist nor fold the loop.
enum { CHAINS = 16 };

#if TRM_X86
BF16_TARGET static double peak_bf16(long iterations) {
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80); // (1, 1)
    const __m512bh y = (__m512bh)_mm512_set1_epi32(0x33803380); // (2^-24, 2^-24): sums stay finite
    const double t0 = seconds();
    for (long it = 0; it < iterations; it++) {
        _Pragma("clang loop unroll(full)") for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_dpbf16_ps(acc[i], x, y);
        __asm__ volatile("" : "+v"(x));
    }
    const double t = seconds() - t0;
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return (double)iterations * (double)CHAINS * 64.0 / t * 1e-9;
}

__attribute__((target("avx512f"))) static double peak_fma512(long iterations) {
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    __m512 x = _mm512_set1_ps(0.999999f);
    const __m512 y = _mm512_set1_ps(1e-7f);
    const double t0 = seconds();
    for (long it = 0; it < iterations; it++) {
        _Pragma("clang loop unroll(full)") for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
        __asm__ volatile("" : "+v"(x));
    }
    const double t = seconds() - t0;
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return (double)iterations * (double)CHAINS * 32.0 / t * 1e-9;
}

__attribute__((target("avx2,fma"))) static double peak_fma256(long iterations) {
    __m256 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    __m256 x = _mm256_set1_ps(0.999999f);
    const __m256 y = _mm256_set1_ps(1e-7f);
    const double t0 = seconds();
    for (long it = 0; it < iterations; it++) {
        _Pragma("clang loop unroll(full)") for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
        __asm__ volatile("" : "+x"(x));
    }
    const double t = seconds() - t0;
    __m256 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    volatile float sink = lanes[0];
    (void)sink;
    return (double)iterations * (double)CHAINS * 16.0 / t * 1e-9;
}
#endif

double trm_peak_bf16_gflops(long iterations) {
#if TRM_X86
    if (iterations > 0 && trm_cpu_has_avx512bf16()) return peak_bf16(iterations);
#endif
    (void)iterations;
    return 0;
}

double trm_peak_fp32_fma_gflops(long iterations) {
#if TRM_X86
    if (iterations > 0 && (features() & 1)) return peak_fma512(iterations);
    if (iterations > 0 && (features() & 4)) return peak_fma256(iterations);
#endif
    (void)iterations;
    return 0;
}
