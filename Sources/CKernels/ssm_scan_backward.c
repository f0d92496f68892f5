#include "ckernels.h"
#include "simd.h"

#include <math.h>

// The backward of one head's selective scan (docs/mamba2.md §4.2), for the trainer: the states are
// never stored per token. Pass 1 runs the recurrence keeping only the state entering every chunk of
// `chunk` tokens; then the chunks are walked from the end, each chunk's states recomputed from its
// entry state into a chunk·P·N buffer (chunk 16 at P 64, N 128 is 512 KiB: it stays in L2, where 64
// tokens spilled to L3 and ran 10 % slower per trainer step on Zen 4), and the adjoint
// G_t = gy_t ⊗ C_t + a_{t+1}·G_{t+1} runs back through them. The log-decay gradient is taken in its
// exact form ∂ã_t = ⟨G_t, a_t·S(t−1)⟩ (the cumulative-sum identity cancels).
//
// Vectors of 16 lanes over the state dim N with a scalar tail; the two reductions per state row
// (⟨G, B⟩ and ⟨G, S(t−1)⟩) are kept in vectors; ⟨G, B⟩'s lanes are summed 16 rows at a time.

typedef float v16f __attribute__((vector_size(64), aligned(4)));
#define SPLAT16(x) ((v16f){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})

// Macros, not functions: a 64-byte vector argument or result would change the ABI of the clones
// built without AVX-512.
#define LOAD16(p) (*(const v16f *)(p))
#define STORE16(p, v) (*(v16f *)(p) = (v))

long trm_ssm_scan_backward_workspace(long seq, long p, long n, long chunk) {
    const long pn = p * n, chunks = (seq + chunk - 1) / chunk;
    return chunks * pn + (chunk < seq ? chunk : seq) * pn + pn + 2 * n;
}

// out = decay·in + u_r·B for every state row r (u_r = dt·x_r); out may be in.
static inline __attribute__((always_inline)) void scan_step(float *out, const float *in, const float *bt, const float *xt,
                                                           float dtv, float decay, long p, long n) {
    const long body = n - n % 16;
    const v16f dv = SPLAT16(decay);
    if (n == 16) { // the shipped models' N: B in one register, no inner loop per row
        const v16f bv = LOAD16(bt);
        for (long r = 0; r < p; r++) STORE16(out + r * 16, dv * LOAD16(in + r * 16) + SPLAT16(dtv * xt[r]) * bv);
        return;
    }
    for (long r = 0; r < p; r++) {
        const float u = dtv * xt[r];
        const v16f uv = SPLAT16(u);
        const float *src = in + r * n;
        float *dst = out + r * n;
        long j = 0;
        for (; j < body; j += 16) STORE16(dst + j, dv * LOAD16(src + j) + uv * LOAD16(bt + j));
        for (; j < n; j++) dst[j] = decay * src[j] + u * bt[j];
    }
}

// out[i] += Σ_l rows[i·16 + l] for the 16 rows i: the lanes of each row summed as a tree of shuffles
// over all 16 rows at once (four levels of two shuffles and an add for 16 sums, where a sum per row
// in lane order is 15 dependent adds). The order of the additions is fixed.
static inline __attribute__((always_inline)) void reduce_rows16(const float *rows, float *out) {
    v16f v[16];
    for (int i = 0; i < 16; i++) v[i] = LOAD16(rows + 16 * i);
    for (int i = 0; i < 8; i++)
        v[i] = __builtin_shufflevector(v[2 * i], v[2 * i + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
               __builtin_shufflevector(v[2 * i], v[2 * i + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    for (int i = 0; i < 4; i++)
        v[i] = __builtin_shufflevector(v[2 * i], v[2 * i + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
               __builtin_shufflevector(v[2 * i], v[2 * i + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    for (int i = 0; i < 2; i++)
        v[i] = __builtin_shufflevector(v[2 * i], v[2 * i + 1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29) +
               __builtin_shufflevector(v[2 * i], v[2 * i + 1], 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31);
    const v16f sums = __builtin_shufflevector(v[0], v[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) +
                      __builtin_shufflevector(v[0], v[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    STORE16(out, LOAD16(out) + sums);
}

// The same for the last `count` (< 16) rows, one row at a time.
static inline __attribute__((always_inline)) void reduce_rows_tail(const float *rows, float *out, long count) {
    for (long i = 0; i < count; i++) {
        float sum = 0.0f;
        for (int l = 0; l < 16; l++) sum += rows[16 * i + l];
        out[i] += sum;
    }
}

// One group of 16·U state columns j0.. of the adjoint step for every row: that slice of B and C and
// its dB, dC sums stay in registers over all rows, so each state vector costs three loads and one
// store (the adjoint's), where a per-row form also loads B and C and loads and stores both sums.
// Reads and writes the enclosing function's locals.
#define ADJOINT_GROUP(U)                                                                         \
    do {                                                                                           \
        v16f cv[U], bv[U], dbv[U], dcv[U], gsv = SPLAT16(0.0f);                                 \
        for (int u = 0; u < (U); u++) {                                                         \
            cv[u] = LOAD16(ct + j0 + 16 * u);                                                   \
            bv[u] = LOAD16(bt + j0 + 16 * u);                                                   \
            dbv[u] = dcv[u] = SPLAT16(0.0f);                                                    \
        }                                                                                       \
        for (long r = 0; r < p; r++) {                                                          \
            const v16f giv = SPLAT16(gyt[r]), xiv = SPLAT16(xt[r]);                             \
            float *grow = adjoint + r * n + j0;                                                 \
            const float *srow = st + r * n + j0, *prow = prev + r * n + j0;                     \
            v16f gbv = SPLAT16(0.0f);                                                           \
            for (int u = 0; u < (U); u++) {                                                     \
                /* G_t = a_{t+1}·G_{t+1} + gy_t ⊗ C_t, and everything that reads it. */         \
                const v16f gv = ndv * LOAD16(grow + 16 * u) + giv * cv[u];                      \
                STORE16(grow + 16 * u, gv);                                                     \
                gbv += gv * bv[u];                                                              \
                gsv += gv * LOAD16(prow + 16 * u);                                              \
                dbv[u] += gv * xiv;                                                             \
                dcv[u] += LOAD16(srow + 16 * u) * giv;                                          \
            }                                                                                   \
            STORE16(gb_rows + (r % 16) * 16, gbv);                                              \
            if (r % 16 == 15) reduce_rows16(gb_rows, gbr + r - 15);                             \
        }                                                                                       \
        reduce_rows_tail(gb_rows, gbr + p - p % 16, p % 16);                                    \
        for (int u = 0; u < (U); u++) {                                                         \
            STORE16(db_acc + j0 + 16 * u, dbv[u]);                                              \
            STORE16(dc_acc + j0 + 16 * u, dcv[u]);                                              \
        }                                                                                       \
        for (int l = 0; l < 16; l++) dot += gsv[l];                                             \
    } while (0)

CLONES void trm_ssm_scan_backward(const float *x, long x_stride, const float *dt, long dt_stride, const float *b,
                                  const float *c, long bc_stride, float a, float d, const float *gy, long gy_stride,
                                  float *dx, float *ddt, float *db, float *dc, long seq, long p, long n, int reverse,
                                  long chunk, float *workspace, double *da_out, double *dd_out) {
    const long pn = p * n, chunks = (seq + chunk - 1) / chunk;
    float *entry = workspace, *states = entry + chunks * pn;
    float *adjoint = states + (chunk < seq ? chunk : seq) * pn, *db_acc = adjoint + pn, *dc_acc = db_acc + n;
#define TOKEN(i) (reverse ? seq - 1 - (i) : (i))
    // Pass 1: the state entering every chunk.
    float *s = states;
    for (long j = 0; j < pn; j++) s[j] = 0.0f;
    for (long i = 0; i < seq; i++) {
        if (i % chunk == 0) memcpy(entry + (i / chunk) * pn, s, (size_t)pn * sizeof(float));
        const long t = TOKEN(i);
        const float dtv = dt[t * dt_stride];
        scan_step(s, s, b + t * bc_stride, x + t * x_stride, dtv, expf(dtv * a), p, n);
    }
    for (long j = 0; j < pn; j++) adjoint[j] = 0.0f;
    double da = 0.0, dd = 0.0;
    float next_decay = 0.0f;
    for (long ck = chunks - 1; ck >= 0; ck--) {
        const long lo = ck * chunk, hi = lo + chunk < seq ? lo + chunk : seq;
        const float *chunk_entry = entry + ck * pn;
        // S(t) of the chunk's tokens, recomputed from its entry state.
        for (long i = lo; i < hi; i++) {
            const long t = TOKEN(i);
            const float dtv = dt[t * dt_stride];
            scan_step(states + (i - lo) * pn, i > lo ? states + (i - lo - 1) * pn : chunk_entry, b + t * bc_stride,
                      x + t * x_stride, dtv, expf(dtv * a), p, n);
        }
        for (long i = hi - 1; i >= lo; i--) {
            const long t = TOKEN(i);
            const float dtv = dt[t * dt_stride], decay = expf(dtv * a);
            const float *st = states + (i - lo) * pn, *prev = i > lo ? st - pn : chunk_entry; // S(t), S(t−1)
            const float *xt = x + t * x_stride, *bt = b + t * bc_stride, *ct = c + t * bc_stride, *gyt = gy + t * gy_stride;
            for (long j = 0; j < n; j++) db_acc[j] = dc_acc[j] = 0.0f;
            float q = 0.0f, dot = 0.0f, dd_token = 0.0f, gbr[p], gb_rows[256] __attribute__((aligned(64)));
            for (long r = 0; r < p; r++) gbr[r] = 0.0f;
            const v16f ndv = SPLAT16(next_decay);
            // Groups of 64 columns (ADJOINT_GROUP), then of 16, then the last N mod 16 row by row.
            long j0 = 0;
            for (; j0 + 64 <= n; j0 += 64) ADJOINT_GROUP(4);
            // Then groups of 16 (N 16, 32, 48 and what 64-column groups leave).
            for (; j0 + 16 <= n; j0 += 16) ADJOINT_GROUP(1);
            // The remaining N mod 16 columns (all of them when N < 16), row by row.
            if (j0 < n) {
                for (long r = 0; r < p; r++) {
                    const float gi = gyt[r], xi = xt[r];
                    float *grow = adjoint + r * n;
                    const float *srow = st + r * n, *prow = prev + r * n;
                    const v16f giv = SPLAT16(gi), xiv = SPLAT16(xi);
                    v16f gbv = SPLAT16(0.0f), gsv = SPLAT16(0.0f);
                    long j = j0;
                    for (; j + 16 <= n; j += 16) {
                        const v16f gv = ndv * LOAD16(grow + j) + giv * LOAD16(ct + j);
                        STORE16(grow + j, gv);
                        gbv += gv * LOAD16(bt + j);
                        gsv += gv * LOAD16(prow + j);
                        STORE16(db_acc + j, LOAD16(db_acc + j) + gv * xiv);
                        STORE16(dc_acc + j, LOAD16(dc_acc + j) + LOAD16(srow + j) * giv);
                    }
                    float gb = 0.0f, gs = 0.0f;
                    for (int l = 0; l < 16; l++) {
                        gb += gbv[l];
                        gs += gsv[l];
                    }
                    for (; j < n; j++) {
                        const float gv = next_decay * grow[j] + gi * ct[j];
                        grow[j] = gv;
                        gb += gv * bt[j];
                        gs += gv * prow[j];
                        db_acc[j] += gv * xi;
                        dc_acc[j] += srow[j] * gi;
                    }
                    gbr[r] += gb;
                    dot += gs;
                }
            }
            for (long r = 0; r < p; r++) {
                const float gi = gyt[r], xi = xt[r];
                dx[t * x_stride + r] = dtv * gbr[r] + d * gi;
                q += xi * gbr[r];
                dd_token += gi * xi;
            }
            for (long j = 0; j < n; j++) {
                db[t * bc_stride + j] += dtv * db_acc[j];
                dc[t * bc_stride + j] += dc_acc[j];
            }
            const float d_log_decay = decay * dot; // ∂ã_t, ã_t = dt_t·A
            ddt[t * dt_stride] = q + a * d_log_decay;
            da += (double)(dtv * d_log_decay);
            dd += (double)dd_token;
            next_decay = decay;
        }
    }
#undef TOKEN
    *da_out = da;
    *dd_out = dd;
}
