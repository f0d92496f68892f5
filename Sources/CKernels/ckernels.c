#include "ckernels.h"

#include <stdint.h>
#include <string.h>
#include <math.h>

#define CLONES __attribute__((target_clones("avx2", "default")))

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
    for (long i = 0; i < n; i++) {
        float v = x[i];
        out[i] = v / (1.0f + exp_one(-v));
    }
}

CLONES void trm_vsigmoid(const float *x, float *out, long n) {
    for (long i = 0; i < n; i++) out[i] = 1.0f / (1.0f + exp_one(-x[i]));
}

// Reductions keep 8 partial results so they vectorise without reassociation flags.
CLONES void trm_softmax_row(float *x, long n) {
    float mv[8] = {-3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f, -3.4e38f};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) mv[k] = x[i + k] > mv[k] ? x[i + k] : mv[k];
    float m = mv[0];
    for (int k = 1; k < 8; k++) m = mv[k] > m ? mv[k] : m;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    for (i = 0; i < n; i++) x[i] = exp_one(x[i] - m);
    float sv[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) sv[k] += x[i + k];
    float sum = 0.0f;
    for (int k = 0; k < 8; k++) sum += sv[k];
    for (; i < n; i++) sum += x[i];
    float inv = 1.0f / sum;
    for (i = 0; i < n; i++) x[i] *= inv;
}

CLONES void trm_swiglu(const float *g, const float *u, float *out, long n) {
    for (long i = 0; i < n; i++) {
        float v = g[i];
        out[i] = v / (1.0f + exp_one(-v)) * u[i];
    }
}

CLONES void trm_gate(const float *y, const float *z, float *out, long n) {
    for (long i = 0; i < n; i++) {
        float v = z[i];
        out[i] = y[i] * (v / (1.0f + exp_one(-v)));
    }
}
