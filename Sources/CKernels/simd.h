// Shared by the kernel files (not part of the public header).
#ifndef TRM_CKERNELS_SIMD_H
#define TRM_CKERNELS_SIMD_H

#include <stdint.h>
#include <string.h>

// x86-64-v3 = AVX2 + FMA (+ BMI, F16C): the resolver picks it on Haswell, Zen and later. Under
// ThreadSanitizer there are no clones: their ifunc resolvers would be instrumented and run during
// relocation, before the TSan runtime is up, and crash the process at load.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TRM_NO_CLONES 1
#endif
#endif
#if defined(TRM_NO_CLONES) || !defined(__x86_64__)
#define CLONES
#else
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

// exp(x) = 2^n · e^r, x = n·ln2 + r: Cephes-style polynomial, 2^n built in the exponent bits.
static inline float trm_exp_one(float x) {
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

typedef float v8f __attribute__((vector_size(32), aligned(4)));
#define SPLAT(x) ((v8f){(x), (x), (x), (x), (x), (x), (x), (x)})

// out = v·cos + rot(v)·sin, rot(v) = (-v[d/2:], v[:d/2]), times `scale` (half-split RoPE of one
// row, as the attention kernels gather it).
static inline void trm_rotate_row(const float *v, float *out, const float *cos, const float *sin, long d, float scale) {
    const long half = d / 2;
    for (long i = 0; i < half; i++) {
        const float a = v[i], b = v[i + half];
        out[i] = (a * cos[i] - b * sin[i]) * scale;
        out[i + half] = (b * cos[i + half] + a * sin[i + half]) * scale;
    }
}

// Rows the attention gathers prefetch ahead: a head's Q, K and V rows are d floats of rows of the
// fused QKV projection, kilobytes apart, so each row touches new pages and the hardware's stride
// prefetcher stops at every page boundary (the gather then waits on memory for most of its time).
enum { TRM_GATHER_PREFETCH_ROWS = 8 };

// Starts loading the d floats at p into the cache (a hint: never faults, even past the end).
static inline __attribute__((always_inline)) void trm_prefetch_row(const float *p, long d) {
    for (long i = 0; i < d; i += 16) __builtin_prefetch(p + i);
}

#endif
