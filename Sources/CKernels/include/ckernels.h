// Vectorised transcendental loops for the runtime's kernels, in C so that the compiler
// auto-vectorises min/max, rounding and integer conversion (Swift's generic SIMD operations on
// those run per lane). Each function is compiled for AVX2 and for the baseline and picked at load
// time (target_clones), so the library stays portable.
#ifndef TRM_CKERNELS_H
#define TRM_CKERNELS_H

/// x[i] = exp(x[i]) for i < n (relative error < 3e-7; inputs clamped to [-87.3, 88.3]).
void trm_vexp(float *x, long n);
/// out[i] = x[i] * sigmoid(x[i]); out may alias x.
void trm_vsilu(const float *x, float *out, long n);
/// out[i] = 1 / (1 + exp(-x[i])); out may alias x.
void trm_vsigmoid(const float *x, float *out, long n);
/// In-place softmax of one row.
void trm_softmax_row(float *x, long n);
/// x[i] = exp(x[i] - max x); returns 1 / Σ x[i] (softmax is x times that).
float trm_softmax_row_unnormalized(float *x, long n);
/// atan2(y, x) in fp32 by the polynomial trm_adam_atan2 uses (relative error ≈ 2e-7; zeros, infinities and NaN as libm's).
float trm_atan2f(float y, float x);
/// AdamATan2 over n elements (docs/model.md §9.2): m += (1 − β1)(g − m), v += (1 − β2)(g² − v),
/// p = p·decay − step_size·atan2(m, √v / c2), vectorised (trm_atan2f). The arrays must not overlap.
void trm_adam_atan2(float *p, float *m, float *v, const float *g, long n, float beta1, float beta2, float c2,
                    float decay, float step_size);
/// In-place softmax of one row; returns its log-sum-exp, max x + log Σ exp(x[i] − max x).
float trm_softmax_row_lse(float *x, long n);
/// out[i] = silu(g[i]) * u[i]; out may alias g or u.
void trm_swiglu(const float *g, const float *u, float *out, long n);

/// out[i] = y[i] * silu(z[i]); out may alias y or z.
void trm_gate(const float *y, const float *z, float *out, long n);

/// Selective scan of one head from a zero state (docs/mamba2.md §2):
/// S_t = exp(dt_t·a)·S_{t-1} + dt_t·x_t⊗B_t, y_t = S_t·C_t + d·x_t, over t = 0..seq-1 (from the end
/// with `reverse`). Row t of x and y holds p values, of b and c n values; `workspace` holds
/// trm_ssm_scan_workspace(p, n) floats.
void trm_ssm_scan(const float *x, long x_stride, const float *dt, long dt_stride, const float *b, const float *c,
                  long bc_stride, float a, float d, float *y, long y_stride, long seq, long p, long n, int reverse,
                  float *workspace);
/// Floats of workspace trm_ssm_scan needs for head dim p and state size n.
long trm_ssm_scan_workspace(long p, long n);
/// 1 when the scan of head dim p and state size n runs tiled (p and n multiples of 8), the shapes
/// trm_ssm_scan_packed takes; other shapes run a scalar loop.
int trm_ssm_scan_tiled(long p, long n);
/// Floats of one group's packed B|C over seq tokens (trm_ssm_pack_bc).
long trm_ssm_bc_packed_floats(long seq, long n);
/// Packs rows [t_begin, t_end) of one group's B and C (n values each, rows bc_stride apart) into
/// `packed` (trm_ssm_bc_packed_floats(seq, n) floats, in scan order), the layout
/// trm_ssm_scan_packed streams; disjoint row ranges may be packed by different threads.
void trm_ssm_pack_bc(const float *b, const float *c, long bc_stride, long seq, long n, int reverse, long t_begin,
                     long t_end, float *packed);
/// trm_ssm_scan with B|C read from `packed` (trm_ssm_pack_bc of the head's group), for the shapes
/// trm_ssm_scan_tiled accepts: the heads of a group share one packing.
void trm_ssm_scan_packed(const float *x, long x_stride, const float *dt, long dt_stride, const float *packed, float a,
                         float d, float *y, long y_stride, long seq, long p, long n, int reverse, float *workspace);

/// The backward of trm_ssm_scan's recurrence for one head (the trainer's; docs/mamba2.md §4.2), the
/// states recomputed chunk by chunk from the state entering every `chunk` tokens. Given gy (rows
/// gy_stride apart, like x and dx), writes dx and ddt (this head's columns), adds to db and dc (its
/// group's columns, shared with the group's other heads), and stores this head's ∂A and ∂D
/// contributions in *da_out and *dd_out. `workspace` holds trm_ssm_scan_backward_workspace floats.
void trm_ssm_scan_backward(const float *x, long x_stride, const float *dt, long dt_stride, const float *b,
                           const float *c, long bc_stride, float a, float d, const float *gy, long gy_stride,
                           float *dx, float *ddt, float *db, float *dc, long seq, long p, long n, int reverse,
                           long chunk, float *workspace, double *da_out, double *dd_out);
/// Floats of workspace trm_ssm_scan_backward needs.
long trm_ssm_scan_backward_workspace(long seq, long p, long n, long chunk);

/// The masked product of the scan's quadratic form (the trainer's; docs/mamba2.md §4.4): g and m are
/// [seq, seq]; m[t][s] = g[t][s]·Π_{r=s+1..t} alpha[r] for s ≤ t and 0 above the diagonal (decay
/// products Π alpha below 1e-30 flushed to 0). `lam` is scratch of seq floats.
void trm_ssd_mask(const float *g, const float *alpha, long seq, float *m, float *lam);
/// trm_ssd_mask's backward given dm = ∂/∂m: adds dm ∘ Λ to dg (lower triangle) and writes
/// dlog[r] = ∂/∂log(alpha[r]) = Σ over t ≥ r and s < r of dm[t][s]·m[t][s]. `lam` and `w` are scratch
/// of seq floats each.
void trm_ssd_mask_backward(const float *dm, const float *g, const float *alpha, long seq, float *dg,
                           double *dlog, float *lam, float *w);

/// Depthwise causal conv (cross-correlation) of rows t_begin..<t_end of one sequence: x and out
/// are [seq, channels] with row strides, w is [channels, kernel] (w[c, kernel-1] multiplies token
/// t; with `reverse`, token t+kernel-1-k feeds tap k), bias is [channels]; `wt` is scratch of
/// channels·kernel floats. With `silu`, each output row is then replaced by its SiLU.
void trm_conv_rows(const float *x, long x_stride, const float *w, const float *bias, float *out,
                   long out_stride, long seq, long t_begin, long t_end, long channels, long kernel, int reverse,
                   int silu, float *wt);
/// trm_conv_rows' backward over a whole sequence of `seq` rows (the trainer's): given gpre = ∂/∂out,
/// writes dx (the anti-causal correlation with the same taps), adds Σ_t gpre[t, c]·x[src(t, k), c]
/// to dwt[k, c] ([kernel, channels]: the taps transposed) and Σ_t gpre[t, c] to db[c]. `wt` is
/// scratch of channels·kernel floats.
void trm_conv_rows_backward(const float *x, long x_stride, const float *gpre, long g_stride, const float *w,
                            float *dx, long dx_stride, float *dwt, float *db, long seq, long channels, long kernel,
                            int reverse, float *wt);
/// Mamba-2's gated RMSNorm (norm_before_gate = False) over rows of y, z [rows, cols]: v = y·silu(z),
/// each group of `group` columns scaled by its 1/rms (written to inv [rows, cols/group]) and by w.
void trm_gated_rmsnorm_rows(const float *y, const float *z, const float *w, float *out, float *inv, long rows,
                            long cols, long group, float eps);
/// trm_gated_rmsnorm_rows' backward given gout = ∂/∂out and the saved inv: writes dy and dz, adds
/// the weight gradient to dw [cols]. `scratch` holds 2·cols floats.
void trm_gated_rmsnorm_backward_rows(const float *gout, const float *y, const float *z, const float *w,
                                     const float *inv, float *dy, float *dz, float *dw, long rows, long cols,
                                     long group, float *scratch);

/// Non-causal softmax attention of one head: out[t] = softmax(q_t·Kᵀ/√d)·V. Rows of q, k, v are
/// `stride` floats apart, rows of out `out_stride`; with cos/sin ([seq, d] tables, or NULL) q and k
/// are rotated (half-split RoPE) first. `workspace` holds trm_attention_workspace(seq, d) floats.
/// Returns 0, doing nothing, for a head dim over 8192 or an odd one with RoPE (the caller takes its
/// general path); any other d runs here, a multiple of 16 fastest.
int trm_attention_head(const float *q, const float *k, const float *v, long stride, const float *cos,
                       const float *sin, float *out, long out_stride, long seq, long d, float *workspace);
/// Floats of workspace trm_attention_head needs.
long trm_attention_workspace(long seq, long d);

/// trm_attention_head with Q·Kᵀ and P·V in bf16 (VDPBF16PS, fp32 sums): Q (rotated, scaled), K, V
/// and the softmax's unnormalised exps are rounded to bf16 (nearest even); the scores, the softmax
/// and its 1/Σ stay fp32. Returns 0, doing nothing, on a CPU without AVX512_BF16 or for a shape
/// trm_attention_head refuses; the caller then runs the fp32 kernel. `workspace` holds
/// trm_attention_bf16_workspace(seq, d) floats.
int trm_attention_head_bf16(const float *q, const float *k, const float *v, long stride, const float *cos,
                            const float *sin, float *out, long out_stride, long seq, long d, float *workspace);
/// Floats of workspace trm_attention_head_bf16 needs.
long trm_attention_bf16_workspace(long seq, long d);

/// 1 when trm_f32_gemm runs here (an AVX-512 CPU, trm_cpu_vector_level() == 2), else 0.
int trm_f32_gemm_available(void);
/// Floats trm_f32_pack_b writes for w [n, k]: ⌈n/32⌉ panels of k rows of 32 columns.
long trm_f32_packed_size(long n, long k);
/// Packs w [n, k] (row-major, rows `ldw` floats apart; y = x·wᵀ) into panels: panel j, row p,
/// column c holds w[32j + c, p]; columns past n are zero. Runs on any CPU.
void trm_f32_pack_b(const float *w, long ldw, long n, long k, float *packed);
/// trm_f32_pack_b of the matrix whose element [j, p] is w[j·row_stride + p·col_stride]: row_stride
/// 1 and col_stride ldx pack the transpose of x [k, n] (rows ldx floats apart) without a copy.
void trm_f32_pack_b_strided(const float *w, long row_stride, long col_stride, long n, long k, float *packed);
/// out[c·ldo + r] = a[r·lda + c] for r < rows, c < cols (out must not overlap a).
void trm_transpose(const float *a, long lda, long rows, long cols, float *out, long ldo);
/// c[i, j] = (accumulate ? c[i, j] : 0) + bias[j] + Σ_p a[i, p]·w[j, p] (fp32 FMAs) for i < m, j < n,
/// with packed_b = w packed by trm_f32_pack_b; rows of a and c are lda and ldc floats apart, bias
/// may be NULL. Uses no workspace; calls on disjoint rows of c may run concurrently. Returns 0,
/// doing nothing, when trm_f32_gemm_available() is 0 (the caller uses sgemm), else 1.
int trm_f32_gemm(long m, long n, long k, const float *a, long lda, const float *packed_b, float *c, long ldc,
                 const float *bias, int accumulate);
/// trm_f32_gemm with A given transposed and no bias: c[i, j] = (accumulate ? c[i, j] : 0) +
/// Σ_p at[p·ldat + i]·w[j, p] for i < m, j < n (at is [k, m], rows ldat floats apart; the weight
/// gradient dYᵀ·x without writing dYᵀ). Returns 0, doing nothing, without AVX-512, else 1.
int trm_f32_gemm_at(long m, long n, long k, const float *at, long ldat, const float *packed_b, float *c, long ldc,
                    int accumulate);
/// The SwiGLU epilogue fused into trm_f32_gemm: out[i, c] = silu(g)·u for c < width, with
/// g = bias[c] + Σ_p a[i, p]·w[c, p] and u = bias[width + c] + Σ_p a[i, p]·w[width + c, p], packed_b = w
/// [2·width, k] packed by trm_f32_pack_b; rows of out are ldo floats apart, bias (2·width) may be NULL.
/// Returns 0, doing nothing, where this fused form does not run (no AVX-512, width not a multiple of
/// 16, k ≤ 0): the caller computes the product and the epilogue apart. Else 1.
int trm_f32_gemm_glu(long m, long width, long k, const float *a, long lda, const float *packed_b, float *out, long ldo,
                     const float *bias);

/// The widest x86 vector level this CPU (and OS) runs: 2 for AVX-512 F/BW/VL/DQ/CD (Skylake-X and
/// later, Zen 4), 1 for AVX2 with FMA, 0 for anything else (or a CPU that is not x86).
int trm_cpu_vector_level(void);

/// glibc's mallopt(M_MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD) (TrainerMemory.swift); 1 when
/// both were accepted, 0 otherwise or without glibc.
int trm_retain_freed_memory(long mmap_threshold, long trim_threshold);

#endif
