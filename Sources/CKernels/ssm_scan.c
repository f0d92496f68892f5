#include "ckernels.h"
#include "simd.h"

// The selective scan of one head (docs/mamba2.md §2): S_t = exp(dt_t·a)·S_{t-1} + (dt_t·x_t)⊗B_t,
// y_t = S_t·C_t + d·x_t, from a zero state, tokens in order or from the end (`reverse`).
//
// Tiled path (P a multiple of 8, N of 8): a tile of 8 state rows × W head columns (W = 16 on
// AVX-512 when P allows, else 8) lives in registers while the scan walks a chunk of up to
// SCAN_CHUNK tokens, so the inner loop stores nothing but one y vector per token (a state row in
// memory would be loaded and stored every token, and those stores 4K-alias the B/C loads). Per
// chunk, the scaled dt·x is first packed contiguously and B|C come packed (below), so the inner
// loop streams from L1; the tiles' state is saved between chunks.
//
// The decay is taken out of the inner loop. With D_i the product of the chunk's decays after its
// first token up to token i (D_0 = 1), S_i = D_i·S'_i where S'_i = S'_{i-1} + B_i⊗((dt·x)_i/D_i)
// and y_i = D_i·(C_i·S'_i): two FMAs per state vector and token instead of a multiply and two FMAs
// (measured 1.45-1.5× on Zen 4, P 64, N 128). The first token's decay scales the state as the chunk
// starts, D_last scales it back as it ends. D is the running product of the decays, as the plain
// recurrence forms it, so D_i/D_j carries the same few roundings; a chunk ends early where D would
// leave [e^-40, e^40], which keeps 1/D and the scaled state far inside fp32's range (e^±88).
//
// 1/D scales the head's dt·x and D its y rows (P values per token) rather than B and C (2N), so
// B|C stay unscaled: the same for every head of a group. The fused Mamba-2 layer packs them once
// per sample and group over the whole sequence (trm_ssm_pack_bc) and every head's scan streams
// from that (trm_ssm_scan_packed); packing them per head and chunk took 13-15 % of the scan at
// P 64, N 128, 16 heads per group. trm_ssm_scan packs each chunk into its workspace instead.

enum { SCAN_CHUNK = 64 };
static const float SCAN_D_MIN = 4.2483543e-18f, SCAN_D_MAX = 2.3538526e17f; // e^-40, e^40

// The last SCAN_CHUNK floats held the per-token decays before they left the inner loop; they stay in
// the size because compiled plans record the workspace and the loader requires it to match.
long trm_ssm_scan_workspace(long p, long n) { return p * n + SCAN_CHUNK * (2 * p + 2 * n + 1); }

int trm_ssm_scan_tiled(long p, long n) { return p % 8 == 0 && n % 8 == 0; }

long trm_ssm_bc_packed_floats(long seq, long n) { return 2 * n * seq; }

// Writes B|C of scan positions [pos0, pos1) to dst ([n/8][qstride/16][16]: 8 of B, then 8 of C),
// position pos at dst + (pos - pos0)·16 of each block. Position i is token i, or seq-1-i reversed.
static void pack_positions(const float *b, const float *c, long bcs, long seq, long n, int reverse, long pos0,
                           long pos1, float *dst, long qstride) {
    for (long i = pos0; i < pos1; i++) {
        const long t = reverse ? seq - 1 - i : i;
        const float *bt = b + t * bcs, *ct = c + t * bcs;
        float *o = dst + (i - pos0) * 16;
        for (long q = 0; q < n / 8; q++) {
            *(v8f *)(o + q * qstride) = *(const v8f *)(bt + 8 * q);
            *(v8f *)(o + q * qstride + 8) = *(const v8f *)(ct + 8 * q);
        }
    }
}

void trm_ssm_pack_bc(const float *b, const float *c, long bc_stride, long seq, long n, int reverse, long t_begin,
                     long t_end, float *packed) {
    // Rows [t_begin, t_end) are positions [seq - t_end, seq - t_begin) reversed.
    const long pos0 = reverse ? seq - t_end : t_begin, pos1 = reverse ? seq - t_begin : t_end;
    pack_positions(b, c, bc_stride, seq, n, reverse, pos0, pos1, packed + pos0 * 16, seq * 16);
}

// The decays of up to SCAN_CHUNK tokens from position step0: dts_out = dt, dinv = 1/D, dfwd = D.
// Returns the chunk's length; *enter is the first token's decay.
static inline __attribute__((always_inline)) long scan_decays(const float *dt, long dts, float a, long seq,
                                                              long step0, int reverse, float *dts_out,
                                                              float *dinv, float *dfwd, float *enter) {
    float prod = 1.0f;
    long len = 0;
    for (; len < SCAN_CHUNK && step0 + len < seq; len++) {
        const long i = len, t = reverse ? seq - 1 - (step0 + i) : step0 + i;
        const float dtv = dt[t * dts], decay = trm_exp_one(dtv * a);
        if (i == 0) {
            *enter = decay;
        } else {
            const float next = prod * decay;
            if (!(next >= SCAN_D_MIN && next <= SCAN_D_MAX)) break;
            prod = next;
        }
        dts_out[i] = dtv;
        dinv[i] = 1.0f / prod;
        dfwd[i] = prod;
    }
    return len;
}

// The tiled scan for head columns VW at a time in vectors VF (SPLATV broadcasts a float). B|C come
// from `packed` (trm_ssm_pack_bc's layout) or, when it is NULL, from b and c, packed chunk by chunk
// into the workspace.
#define SCAN_TILED(NAME, TARGET, VF, VW, SPLATV)                                                                       \
    TARGET void NAME(const float *x, long xs, const float *dt, long dts, const float *b, const float *c,               \
                     long bcs, const float *packed, float a, float d, float *y, long ys, long seq, long p, long n,     \
                     int reverse, float *ws) {                                                                         \
        const long pv = p / VW, nc = n / 8;                                                                            \
        float *state = ws;                /* [nc][pv][8 rows][VW columns] */                                          \
        float *U = state + p * n;         /* [pv][SCAN_CHUNK][VW]: dt·x/D */                                          \
        float *Y = U + p * SCAN_CHUNK;    /* [pv][SCAN_CHUNK][VW]: Σ_n S'·C */                                        \
        float *BC = Y + p * SCAN_CHUNK;   /* [nc][SCAN_CHUNK][16] */                                                  \
        for (long i = 0; i < p * n; i++) state[i] = 0.0f;                                                              \
        long len;                                                                                                      \
        for (long step0 = 0; step0 < seq; step0 += len) {                                                              \
            float enter1, chunk_dt[SCAN_CHUNK], dinv[SCAN_CHUNK], dfwd[SCAN_CHUNK];                                    \
            len = scan_decays(dt, dts, a, seq, step0, reverse, chunk_dt, dinv, dfwd, &enter1);                         \
            const float *bcs0 = packed ? packed + step0 * 16 : BC;                                                     \
            const long qstride = packed ? seq * 16 : SCAN_CHUNK * 16;                                                  \
            if (!packed) pack_positions(b, c, bcs, seq, n, reverse, step0, step0 + len, BC, qstride);                  \
            for (long i = 0; i < len; i++) {                                                                           \
                const long t = reverse ? seq - 1 - (step0 + i) : step0 + i;                                            \
                const VF dtb = SPLATV(chunk_dt[i] * dinv[i]);                                                          \
                for (long v = 0; v < pv; v++) {                                                                        \
                    *(VF *)(U + (v * SCAN_CHUNK + i) * VW) = dtb * *(const VF *)(x + t * xs + VW * v);                 \
                    *(VF *)(Y + (v * SCAN_CHUNK + i) * VW) = (VF){0};                                                  \
                }                                                                                                      \
            }                                                                                                          \
            const VF enter = SPLATV(enter1), leave = SPLATV(dfwd[len - 1]), dv = SPLATV(d);                            \
            for (long q = 0; q < nc; q++) {                                                                            \
                for (long v = 0; v < pv; v++) {                                                                        \
                    float *st = state + (q * pv + v) * 8 * VW;                                                         \
                    VF s0 = enter * *(VF *)(st), s1 = enter * *(VF *)(st + VW), s2 = enter * *(VF *)(st + 2 * VW);     \
                    VF s3 = enter * *(VF *)(st + 3 * VW), s4 = enter * *(VF *)(st + 4 * VW);                           \
                    VF s5 = enter * *(VF *)(st + 5 * VW), s6 = enter * *(VF *)(st + 6 * VW);                           \
                    VF s7 = enter * *(VF *)(st + 7 * VW);                                                              \
                    const float *bc = bcs0 + q * qstride, *u = U + v * SCAN_CHUNK * VW;                                \
                    float *yy = Y + v * SCAN_CHUNK * VW;                                                               \
                    for (long i = 0; i < len; i++, bc += 16, u += VW, yy += VW) {                                      \
                        const VF uu = *(const VF *)u;                                                                  \
                        /* Two partial sums keep the y dependency chain at four FMAs. */                               \
                        s0 += SPLATV(bc[0]) * uu; VF y0 = s0 * SPLATV(bc[8]);                                          \
                        s1 += SPLATV(bc[1]) * uu; VF y1 = s1 * SPLATV(bc[9]);                                          \
                        s2 += SPLATV(bc[2]) * uu; y0 += s2 * SPLATV(bc[10]);                                           \
                        s3 += SPLATV(bc[3]) * uu; y1 += s3 * SPLATV(bc[11]);                                           \
                        s4 += SPLATV(bc[4]) * uu; y0 += s4 * SPLATV(bc[12]);                                           \
                        s5 += SPLATV(bc[5]) * uu; y1 += s5 * SPLATV(bc[13]);                                           \
                        s6 += SPLATV(bc[6]) * uu; y0 += s6 * SPLATV(bc[14]);                                           \
                        s7 += SPLATV(bc[7]) * uu; y1 += s7 * SPLATV(bc[15]);                                           \
                        *(VF *)yy += y0 + y1;                                                                          \
                    }                                                                                                  \
                    *(VF *)(st) = leave * s0; *(VF *)(st + VW) = leave * s1; *(VF *)(st + 2 * VW) = leave * s2;        \
                    *(VF *)(st + 3 * VW) = leave * s3; *(VF *)(st + 4 * VW) = leave * s4;                              \
                    *(VF *)(st + 5 * VW) = leave * s5; *(VF *)(st + 6 * VW) = leave * s6;                              \
                    *(VF *)(st + 7 * VW) = leave * s7;                                                                 \
                }                                                                                                      \
            }                                                                                                          \
            for (long i = 0; i < len; i++) {                                                                           \
                const long t = reverse ? seq - 1 - (step0 + i) : step0 + i;                                            \
                const float *xt = x + t * xs;                                                                          \
                float *yt = y + t * ys;                                                                                \
                const VF fwd = SPLATV(dfwd[i]);                                                                        \
                for (long v = 0; v < pv; v++)                                                                          \
                    *(VF *)(yt + VW * v) = fwd * *(const VF *)(Y + (v * SCAN_CHUNK + i) * VW) + dv * *(const VF *)(xt + VW * v); \
            }                                                                                                          \
        }                                                                                                              \
    }

SCAN_TILED(scan_tiled8, static inline __attribute__((always_inline)), v8f, 8, SPLAT)

#if defined(__x86_64__)
// 16 head columns per vector: on Zen 4 a zmm FMA does twice a ymm's work per issue while the
// broadcasts of B and C (one load each per state row and token) serve twice the columns.
typedef float v16f __attribute__((vector_size(64), aligned(4)));
#define SCAN_ZMM_TARGET __attribute__((target("avx512f,avx512vl")))
#define SPLAT16(x) ((v16f){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})
SCAN_TILED(scan_tiled16, SCAN_ZMM_TARGET static, v16f, 16, SPLAT16)
#endif

// Any P and N: the same recurrence, scalar, with the state as [n][p].
static void scan_scalar(const float *x, long xs, const float *dt, long dts, const float *b, const float *c, long bcs,
                        float a, float d, float *y, long ys, long seq, long p, long n, int reverse, float *state) {
    for (long i = 0; i < n * p; i++) state[i] = 0.0f;
    for (long step = 0; step < seq; step++) {
        const long t = reverse ? seq - 1 - step : step;
        const float dtv = dt[t * dts], decay = trm_exp_one(dtv * a);
        const float *xt = x + t * xs, *bt = b + t * bcs, *ct = c + t * bcs;
        float *yt = y + t * ys;
        for (long i = 0; i < p; i++) yt[i] = d * xt[i];
        for (long j = 0; j < n; j++) {
            float *s = state + j * p;
            for (long i = 0; i < p; i++) {
                const float v = decay * s[i] + bt[j] * (dtv * xt[i]);
                s[i] = v;
                yt[i] += v * ct[j];
            }
        }
    }
}

CLONES static void scan_any(const float *x, long x_stride, const float *dt, long dt_stride, const float *b,
                            const float *c, long bc_stride, const float *packed, float a, float d, float *y,
                            long y_stride, long seq, long p, long n, int reverse, float *workspace) {
    if (trm_ssm_scan_tiled(p, n))
        scan_tiled8(x, x_stride, dt, dt_stride, b, c, bc_stride, packed, a, d, y, y_stride, seq, p, n, reverse,
                    workspace);
    else
        scan_scalar(x, x_stride, dt, dt_stride, b, c, bc_stride, a, d, y, y_stride, seq, p, n, reverse, workspace);
}

// The tiled kernel for this CPU, reading B|C from `packed` when it is not NULL.
static void scan_dispatch(const float *x, long x_stride, const float *dt, long dt_stride, const float *b,
                          const float *c, long bc_stride, const float *packed, float a, float d, float *y,
                          long y_stride, long seq, long p, long n, int reverse, float *workspace) {
#if defined(__x86_64__)
    if (p % 16 == 0 && n % 8 == 0 && trm_cpu_vector_level() == 2) {
        scan_tiled16(x, x_stride, dt, dt_stride, b, c, bc_stride, packed, a, d, y, y_stride, seq, p, n, reverse,
                     workspace);
        return;
    }
#endif
    scan_any(x, x_stride, dt, dt_stride, b, c, bc_stride, packed, a, d, y, y_stride, seq, p, n, reverse, workspace);
}

void trm_ssm_scan(const float *x, long x_stride, const float *dt, long dt_stride, const float *b, const float *c,
                  long bc_stride, float a, float d, float *y, long y_stride, long seq, long p, long n, int reverse,
                  float *workspace) {
    scan_dispatch(x, x_stride, dt, dt_stride, b, c, bc_stride, NULL, a, d, y, y_stride, seq, p, n, reverse, workspace);
}

void trm_ssm_scan_packed(const float *x, long x_stride, const float *dt, long dt_stride, const float *packed, float a,
                         float d, float *y, long y_stride, long seq, long p, long n, int reverse, float *workspace) {
    scan_dispatch(x, x_stride, dt, dt_stride, NULL, NULL, 0, packed, a, d, y, y_stride, seq, p, n, reverse, workspace);
}
