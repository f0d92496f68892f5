#include "ckernels.h"
#include "simd.h"

#include <stdint.h>
#include <string.h>
#include <math.h>

// Element i of the output depends on element i of the inputs only, so in-place calls are safe;
// without this clang's runtime overlap check sends out == x to the scalar loop.
#define ELEMENTWISE _Pragma("clang loop vectorize(assume_safety)")

// exp(x) = 2^n · e^r, x = n·ln2 + r: Cephes-style polynomial, 2^n built in the exponent bits.
static inline float exp_one(float x) {
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.37626f ? 88.37626f : x;
    float n = __builtin_rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t e = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &e, 4);
    return p * scale;
}

CLONES void trm_vexp(float *x, long n) {
    for (long i = 0; i < n; i++) x[i] = exp_one(x[i]);
}

CLONES void trm_vsilu(const float *x, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        float v = x[i];
        out[i] = v / (1.0f + exp_one(-v));
    }
}

CLONES void trm_vsigmoid(const float *x, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) out[i] = 1.0f / (1.0f + exp_one(-x[i]));
}

// Reductions keep 16 partial results (one zmm, two ymm) so they vectorise without reassociation
// flags; the exps and their sum are one pass, so the row is read twice, not three times.
CLONES float trm_softmax_row_unnormalized(float *x, long n) {
    enum { L = 16 };
    float mv[L], sv[L];
    for (int k = 0; k < L; k++) mv[k] = -3.4e38f, sv[k] = 0.0f;
    long i = 0;
    for (; i + L <= n; i += L)
        for (int k = 0; k < L; k++) mv[k] = x[i + k] > mv[k] ? x[i + k] : mv[k];
    float m = mv[0];
    for (int k = 1; k < L; k++) m = mv[k] > m ? mv[k] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    float sum = 0.0f;
    for (i = 0; i + L <= n; i += L)
        for (int k = 0; k < L; k++) {
            const float e = exp_one(x[i + k] - m);
            x[i + k] = e;
            sv[k] += e;
        }
    for (; i < n; i++) {
        x[i] = exp_one(x[i] - m);
        sum += x[i];
    }
    for (int k = 0; k < L; k++) sum += sv[k];
    return 1.0f / sum;
}

CLONES void trm_softmax_row(float *x, long n) {
    const float inv = trm_softmax_row_unnormalized(x, n);
    for (long i = 0; i < n; i++) x[i] *= inv;
}

CLONES void trm_swiglu(const float *g, const float *u, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        float v = g[i];
        out[i] = v / (1.0f + exp_one(-v)) * u[i];
    }
}

CLONES void trm_gate(const float *y, const float *z, float *out, long n) {
    ELEMENTWISE
    for (long i = 0; i < n; i++) {
        float v = z[i];
        out[i] = y[i] * (v / (1.0f + exp_one(-v)));
    }
}

// Selective scan of one head, for P and N multiples of 8. The state tile of 8 state rows × 8 head
// columns lives in registers while the scan walks a chunk of SCAN_CHUNK tokens, so the inner loop
// stores nothing but one y vector per token (a state row in memory would be loaded and stored every
// token, and those stores 4K-alias the B/C loads). Per chunk, dt·x, exp(dt·a) and B|C are first
// packed contiguously so the inner loop streams from L1; the tiles' state is saved between chunks.

enum { SCAN_CHUNK = 64 };

long trm_ssm_scan_workspace(long p, long n) { return p * n + SCAN_CHUNK * (2 * p + 2 * n + 1); }

static inline __attribute__((always_inline)) void scan_tiled(const float *x, long xs, const float *dt, long dts, const float *b, const float *c,
                              long bcs, float a, float d, float *y, long ys, long seq, long p, long n, int reverse,
                              float *ws) {
    const long pv = p / 8, nc = n / 8;
    float *state = ws;                       // [nc][pv][8 rows][8 columns]
    float *U = state + p * n;                // [pv][SCAN_CHUNK][8]: dt·x
    float *Y = U + p * SCAN_CHUNK;           // [pv][SCAN_CHUNK][8]: Σ_n S·C
    float *BC = Y + p * SCAN_CHUNK;          // [nc][SCAN_CHUNK][16]: 8 of B, then 8 of C
    float *decays = BC + 2 * n * SCAN_CHUNK; // [SCAN_CHUNK]
    for (long i = 0; i < p * n; i++) state[i] = 0.0f;
    for (long step0 = 0; step0 < seq; step0 += SCAN_CHUNK) {
        const long len = seq - step0 < SCAN_CHUNK ? seq - step0 : SCAN_CHUNK;
        for (long i = 0; i < len; i++) {
            const long t = reverse ? seq - 1 - (step0 + i) : step0 + i;
            const float dtv = dt[t * dts];
            decays[i] = exp_one(dtv * a);
            const float *xt = x + t * xs, *bt = b + t * bcs, *ct = c + t * bcs;
            const v8f dtb = SPLAT(dtv);
            for (long v = 0; v < pv; v++) {
                *(v8f *)(U + (v * SCAN_CHUNK + i) * 8) = dtb * *(const v8f *)(xt + 8 * v);
                *(v8f *)(Y + (v * SCAN_CHUNK + i) * 8) = (v8f){0};
            }
            for (long q = 0; q < nc; q++) {
                *(v8f *)(BC + (q * SCAN_CHUNK + i) * 16) = *(const v8f *)(bt + 8 * q);
                *(v8f *)(BC + (q * SCAN_CHUNK + i) * 16 + 8) = *(const v8f *)(ct + 8 * q);
            }
        }
        for (long q = 0; q < nc; q++) {
            for (long v = 0; v < pv; v++) {
                float *st = state + (q * pv + v) * 64;
                v8f s0 = *(v8f *)(st), s1 = *(v8f *)(st + 8), s2 = *(v8f *)(st + 16), s3 = *(v8f *)(st + 24);
                v8f s4 = *(v8f *)(st + 32), s5 = *(v8f *)(st + 40), s6 = *(v8f *)(st + 48), s7 = *(v8f *)(st + 56);
                const float *bc = BC + q * SCAN_CHUNK * 16, *u = U + v * SCAN_CHUNK * 8;
                float *yy = Y + v * SCAN_CHUNK * 8;
                for (long i = 0; i < len; i++, bc += 16, u += 8, yy += 8) {
                    const float dec1 = decays[i];
                    const float b0 = bc[0], b1 = bc[1], b2 = bc[2], b3 = bc[3], b4 = bc[4], b5 = bc[5], b6 = bc[6], b7 = bc[7];
                    const float c0 = bc[8], c1 = bc[9], c2 = bc[10], c3 = bc[11], c4 = bc[12], c5 = bc[13], c6 = bc[14], c7 = bc[15];
                    const v8f uu = *(const v8f *)u, dec = SPLAT(dec1);
                    // Two partial sums keep the y dependency chain at four FMAs.
                    s0 = dec * s0 + SPLAT(b0) * uu; v8f y0 = s0 * SPLAT(c0);
                    s1 = dec * s1 + SPLAT(b1) * uu; v8f y1 = s1 * SPLAT(c1);
                    s2 = dec * s2 + SPLAT(b2) * uu; y0 += s2 * SPLAT(c2);
                    s3 = dec * s3 + SPLAT(b3) * uu; y1 += s3 * SPLAT(c3);
                    s4 = dec * s4 + SPLAT(b4) * uu; y0 += s4 * SPLAT(c4);
                    s5 = dec * s5 + SPLAT(b5) * uu; y1 += s5 * SPLAT(c5);
                    s6 = dec * s6 + SPLAT(b6) * uu; y0 += s6 * SPLAT(c6);
                    s7 = dec * s7 + SPLAT(b7) * uu; y1 += s7 * SPLAT(c7);
                    *(v8f *)yy += y0 + y1;
                }
                *(v8f *)(st) = s0; *(v8f *)(st + 8) = s1; *(v8f *)(st + 16) = s2; *(v8f *)(st + 24) = s3;
                *(v8f *)(st + 32) = s4; *(v8f *)(st + 40) = s5; *(v8f *)(st + 48) = s6; *(v8f *)(st + 56) = s7;
            }
        }
        const v8f dv = SPLAT(d);
        for (long i = 0; i < len; i++) {
            const long t = reverse ? seq - 1 - (step0 + i) : step0 + i;
            const float *xt = x + t * xs;
            float *yt = y + t * ys;
            for (long v = 0; v < pv; v++)
                *(v8f *)(yt + 8 * v) = *(const v8f *)(Y + (v * SCAN_CHUNK + i) * 8) + dv * *(const v8f *)(xt + 8 * v);
        }
    }
}

// Any P and N: the same recurrence, scalar, with the state as [n][p].
static void scan_scalar(const float *x, long xs, const float *dt, long dts, const float *b, const float *c, long bcs,
                        float a, float d, float *y, long ys, long seq, long p, long n, int reverse, float *state) {
    for (long i = 0; i < n * p; i++) state[i] = 0.0f;
    for (long step = 0; step < seq; step++) {
        const long t = reverse ? seq - 1 - step : step;
        const float dtv = dt[t * dts], decay = exp_one(dtv * a);
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

CLONES void trm_ssm_scan(const float *x, long x_stride, const float *dt, long dt_stride, const float *b, const float *c,
                  long bc_stride, float a, float d, float *y, long y_stride, long seq, long p, long n, int reverse,
                  float *workspace) {
    if (p % 8 == 0 && n % 8 == 0)
        scan_tiled(x, x_stride, dt, dt_stride, b, c, bc_stride, a, d, y, y_stride, seq, p, n, reverse, workspace);
    else
        scan_scalar(x, x_stride, dt, dt_stride, b, c, bc_stride, a, d, y, y_stride, seq, p, n, reverse, workspace);
}

// Depthwise causal conv rows [t_begin, t_end). The taps are first transposed into wt ([kernel]
// [channels]) so each output row is one pass over contiguous channels with the sum in registers
// (a channel-block-outer order walks the rows with a large stride and ran 5-10× slower).
CLONES void trm_conv_rows(const float *x, long x_stride, const float *w, const float *bias, float *out,
                          long out_stride, long seq, long t_begin, long t_end, long channels, long kernel,
                          int reverse, float *wt) {
    for (long c = 0; c < channels; c++)
        for (long k = 0; k < kernel; k++) wt[k * channels + c] = w[c * kernel + k];
    const long vector_channels = channels / 8 * 8;
    for (long t = t_begin; t < t_end; t++) {
        float *o = out + t * out_stride;
        for (long c = 0; c < vector_channels; c += 8) {
            v8f acc = *(const v8f *)(bias + c);
            for (long k = 0; k < kernel; k++) {
                // Token feeding tap k: t-(K-1)+k causal, t+(K-1)-k reversed.
                const long src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k;
                if (src >= 0 && src < seq) acc += *(const v8f *)(wt + k * channels + c) * *(const v8f *)(x + src * x_stride + c);
            }
            *(v8f *)(o + c) = acc;
        }
        for (long c = vector_channels; c < channels; c++) {
            float acc = bias[c];
            for (long k = 0; k < kernel; k++) {
                const long src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k;
                if (src >= 0 && src < seq) acc += wt[k * channels + c] * x[src * x_stride + c];
            }
            o[c] = acc;
        }
    }
}

int trm_cpu_vector_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}
