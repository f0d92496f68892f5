#include "ckernels.h"
#include "simd.h"

// The decay mask of the selective scan's quadratic (SSD) form, used by the trainer (docs/mamba2.md
// §4.4): y = (G ∘ Λ)·(dt ∘ x) with G[t][s] = C_t·B_s and Λ[t][s] = Π_{r=s+1..t} α_r (α_r = exp(dt_r·A))
// for s ≤ t, 0 above the diagonal. Row t of Λ is row t−1 times α_t, with Λ[t][t] = 1: one multiply
// per element, no exponentials, relative error ≤ L·2⁻²⁴. Entries of Λ below 1e-30 are set to 0, so
// the decay products never run through denormals (the exact values there are below fp32's
// resolution of the sums they enter).

static const float kSSDMaskFloor = 1e-30f;

// lam[s] *= alpha_t for s < t (with the floor), lam[t] = 1.
static inline __attribute__((always_inline)) void next_decay_row(float *lam, long t, float alpha_t) {
    for (long s = 0; s < t; s++) {
        const float v = lam[s] * alpha_t;
        lam[s] = v < kSSDMaskFloor ? 0.0f : v;
    }
    lam[t] = 1.0f;
}

CLONES void trm_ssd_mask(const float *g, const float *alpha, long seq, float *m, float *lam) {
    for (long t = 0; t < seq; t++) {
        next_decay_row(lam, t, alpha[t]);
        const float *gt = g + t * seq;
        float *mt = m + t * seq;
        for (long s = 0; s <= t; s++) mt[s] = gt[s] * lam[s];
        for (long s = t + 1; s < seq; s++) mt[s] = 0.0f;
    }
}

CLONES void trm_ssd_mask_backward(const float *dm, const float *g, const float *alpha, long seq, float *dg,
                                  double *dlog, float *lam, float *w) {
    for (long r = 0; r < seq; r++) dlog[r] = 0.0;
    for (long t = 0; t < seq; t++) {
        next_decay_row(lam, t, alpha[t]);
        const float *dmt = dm + t * seq, *gt = g + t * seq;
        float *dgt = dg + t * seq;
        for (long s = 0; s <= t; s++) {
            const float v = dmt[s] * lam[s];
            dgt[s] += v;
            w[s] = v * gt[s];
        }
        // ∂ã_r gets W[t][s] for every s < r ≤ t: a prefix sum along the row.
        double run = 0.0;
        for (long r = 1; r <= t; r++) {
            run += (double)w[r - 1];
            dlog[r] += run;
        }
    }
}
