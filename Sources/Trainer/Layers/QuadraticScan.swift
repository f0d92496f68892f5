import CKernels
import Foundation
import Runtime

/// The selective scan in its quadratic ("SSD", state-space duality) form (docs/mamba2.md §4.4), per
/// sample and group g, for the heads h of g, causal:
///
///     G = C·Bᵀ [L, L],  Λ_h[t][s] = Π_{r=s+1..t} exp(dt_r·A_h) (s ≤ t, else 0),
///     M_h = G ∘ Λ_h,  y_h = M_h·(dt ∘ x_h) + D_h·x_h
///
/// which is the recurrence S(t) = exp(dt_t·A)·S(t−1) + dt_t·x_t ⊗ B_t, y_t = S(t)·C_t summed in
/// another order. Its work is 2L²·N per group plus 2L²·P per head, against the recurrence's 5·L·P·N
/// per head, and all of it but the mask runs as matrix products: at the Sudoku 9×9 reference size
/// (L 97, P 64, N 128, 16 heads, 1 group) a third of the recurrence's FLOPs, in GEMMs. The backward
/// is four more products per head and two per group:
///
///     dX̃_h = M_hᵀ·dy_h,  dM_h = dy_h·X̃_hᵀ,  dG += dM_h ∘ Λ_h,  dC = dG·B,  dB = dGᵀ·C,
///     ∂ã_r = Σ_{t ≥ r, s < r} dM_h[t][s]·M_h[t][s]   (ã_r = dt_r·A_h; trm_ssd_mask_backward)
///
/// Nothing is saved between forward and backward (G and M are recomputed). `reverse` runs on the
/// time-flipped inputs and flips the results back.
extension SelectiveScan {
    /// The arithmetic a scan runs on; both compute the same function.
    public enum Form: String, Sendable, Hashable {
        /// The recurrence over the state (ssm_scan.c forward, ssm_scan_backward.c backward).
        case recurrent
        /// The masked quadratic form on matrix products (this file).
        case quadratic
    }

    /// The form for these sizes: the quadratic one when its FLOPs are at most
    /// `quadraticFLOPAdvantage` times the recurrence's, so short sequences with large states take
    /// it and long ones (ARC's 900 tokens) keep the recurrence, whose cost is linear in L.
    public static func preferredForm(seq: Int, heads: Int, headDim: Int, dState: Int, groups: Int) -> Form {
        let quadratic = 2 * Double(seq) * Double(seq) * Double(dState * groups + headDim * heads)
        let recurrent = 5 * Double(seq) * Double(headDim * dState * heads)
        return quadratic <= quadraticFLOPAdvantage * recurrent ? .quadratic : .recurrent
    }

    /// See `preferredForm`. Measured on Zen 4 (docs/mamba2.md §4.4): at the reference size (FLOP
    /// ratio 0.34) the quadratic form made a bf16 tr-mamba2attn step 11 % faster; at the shipped
    /// models' N 16, P 32 the recurrence is cheap and was as fast or faster at ratios 0.98 (Sudoku
    /// 6×6) and 2.2 (Maze 9×9).
    static let quadraticFLOPAdvantage = 0.5

    /// Per-thread buffers of the quadratic form.
    private struct QuadraticWorkspace {
        var g, m, dm, dg: [Float]
        var xt, dxt: [Float]
        var alpha, lam, w: [Float]
        var dlog: [Double]
        init(seq l: Int, headDim p: Int, backward: Bool) {
            g = [Float](repeating: 0, count: l * l)
            m = g
            dm = backward ? g : []
            dg = dm
            xt = [Float](repeating: 0, count: l * p)
            dxt = backward ? xt : []
            alpha = [Float](repeating: 0, count: l)
            lam = alpha
            w = alpha
            dlog = [Double](repeating: 0, count: l)
        }
    }

    /// Each sample's rows in reverse time order: v is [B, L, width].
    private func flipTime(_ v: [Float], width: Int, batch: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for b in 0..<batch {
            for t in 0..<seq {
                let src = (b * seq + t) * width, dst = (b * seq + seq - 1 - t) * width
                out[dst..<(dst + width)] = v[src..<(src + width)]
            }
        }
        return out
    }

    /// This scan run causally, in the quadratic form: what `reverse` runs on flipped inputs.
    private var causalQuadratic: SelectiveScan {
        SelectiveScan(
            seq: seq, heads: heads, headDim: headDim, dState: dState, groups: groups, reverse: false, chunk: chunk, form: .quadratic)
    }

    /// The scan's inputs x, dt, B and C in reverse time order.
    private func flipped(
        x: [Float], dt: [Float], bm: [Float], cm: [Float], batch: Int
    ) -> (x: [Float], dt: [Float], bm: [Float], cm: [Float]) {
        let e = heads * headDim, gn = groups * dState
        return (
            flipTime(x, width: e, batch: batch), flipTime(dt, width: heads, batch: batch),
            flipTime(bm, width: gn, batch: batch), flipTime(cm, width: gn, batch: batch)
        )
    }

    /// Fills alpha[t] = exp(dt_t·A_h) and xt[t] = dt_t·x_t for head h of sample `row0 / seq`, then
    /// M_h = G ∘ Λ_h into ws.m.
    private func prepareHead(
        _ ws: inout QuadraticWorkspace, h: Int, a: Float, row0: Int,
        x: UnsafeBufferPointer<Float>, dt: UnsafeBufferPointer<Float>
    ) {
        let p = headDim, e = heads * headDim
        for t in 0..<seq {
            let dtv = dt[(row0 + t) * heads + h]
            ws.alpha[t] = Foundation.exp(dtv * a)
            let xo = (row0 + t) * e + h * p
            for i in 0..<p { ws.xt[t * p + i] = dtv * x[xo + i] }
        }
        ws.g.withUnsafeBufferPointer { gp in
            ws.alpha.withUnsafeBufferPointer { ap in
                ws.m.withUnsafeMutableBufferPointer { mp in
                    ws.lam.withUnsafeMutableBufferPointer { lp in
                        trm_ssd_mask(gp.baseAddress!, ap.baseAddress!, seq, mp.baseAddress!, lp.baseAddress!)
                    }
                }
            }
        }
    }

    /// G = C·Bᵀ of one (sample, group) into ws.g.
    private func gram(_ ws: inout QuadraticWorkspace, offset: Int, bm: UnsafeBufferPointer<Float>, cm: UnsafeBufferPointer<Float>) {
        let gn = groups * dState
        ws.g.withUnsafeMutableBufferPointer { gp in
            Gemm.gemm(
                transB: true, m: seq, n: seq, k: dState, UnsafeBufferPointer(rebasing: cm[offset...]), lda: gn,
                UnsafeBufferPointer(rebasing: bm[offset...]), ldb: gn, beta: 0, gp, ldc: seq)
        }
    }

    /// The quadratic form's forward (causal after flipping): arguments as `forward`.
    func quadraticForward(x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float], batch: Int) -> [Float] {
        if reverse {
            let f = flipped(x: x, dt: dt, bm: bm, cm: cm, batch: batch)
            let y = causalQuadratic.forward(x: f.x, dt: f.dt, a: a, bm: f.bm, cm: f.cm, d: d, batch: batch)
            return flipTime(y, width: heads * headDim, batch: batch)
        }
        let e = heads * headDim, gn = groups * dState, perGroup = heads / groups, p = headDim
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            dt.withUnsafeBufferPointer { dtp in
                bm.withUnsafeBufferPointer { bp in
                    cm.withUnsafeBufferPointer { cp in
                        y.withUnsafeMutableBufferPointer { yp in
                            // (sample, group) pairs: each writes only its heads' columns of y.
                            TrainerThreads.parts(batch * groups) { pairs in
                                var ws = QuadraticWorkspace(seq: seq, headDim: p, backward: false)
                                for pair in pairs {
                                    let b = pair / groups, g = pair % groups, row0 = b * seq
                                    gram(&ws, offset: row0 * gn + g * dState, bm: bp, cm: cp)
                                    for h in (g * perGroup)..<((g + 1) * perGroup) {
                                        prepareHead(&ws, h: h, a: a[h], row0: row0, x: xp, dt: dtp)
                                        let yo = row0 * e + h * p
                                        ws.m.withUnsafeBufferPointer { mp in
                                            ws.xt.withUnsafeBufferPointer { xtp in
                                                Gemm.gemm(
                                                    m: seq, n: p, k: seq, mp, lda: seq, xtp, ldb: p, beta: 0,
                                                    UnsafeMutableBufferPointer(rebasing: yp[yo...]), ldc: e)
                                            }
                                        }
                                        for t in 0..<seq {
                                            let o = yo + t * e
                                            for i in 0..<p { yp[o + i] += d[h] * xp[o + i] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// The quadratic form's backward: arguments and result as `backward`; the per-(sample, head)
    /// ∂A and ∂D parts are summed over the samples in order, so the result does not depend on the
    /// thread count.
    func quadraticBackward(
        _ dY: [Float], x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float], batch: Int
    ) -> Gradients {
        let e = heads * headDim, gn = groups * dState, perGroup = heads / groups, p = headDim
        if reverse {
            let f = flipped(x: x, dt: dt, bm: bm, cm: cm, batch: batch)
            var g = causalQuadratic.backward(
                flipTime(dY, width: e, batch: batch), x: f.x, dt: f.dt, a: a, bm: f.bm, cm: f.cm, d: d, batch: batch)
            g.dx = flipTime(g.dx, width: e, batch: batch)
            g.dDt = flipTime(g.dDt, width: heads, batch: batch)
            g.dB = flipTime(g.dB, width: gn, batch: batch)
            g.dC = flipTime(g.dC, width: gn, batch: batch)
            return g
        }
        return withBackwardBuffers(dY, x: x, dt: dt, bm: bm, cm: cm, batch: batch) { buf in
            let xp = UnsafeBufferPointer(start: buf.x, count: x.count), dtp = UnsafeBufferPointer(start: buf.dt, count: dt.count)
            let bp = UnsafeBufferPointer(start: buf.bm, count: bm.count), cp = UnsafeBufferPointer(start: buf.cm, count: cm.count)
            let gyp = UnsafeBufferPointer(start: buf.dY, count: dY.count)
            let dBp = UnsafeMutableBufferPointer(start: buf.dB, count: bm.count)
            let dCp = UnsafeMutableBufferPointer(start: buf.dC, count: cm.count)
            // (sample, group) pairs write disjoint rows/columns.
            TrainerThreads.parts(batch * groups) { pairs in
                var ws = QuadraticWorkspace(seq: seq, headDim: p, backward: true)
                for pair in pairs {
                    let b = pair / groups, grp = pair % groups, row0 = b * seq, bco = row0 * gn + grp * dState
                    gram(&ws, offset: bco, bm: bp, cm: cp)
                    for i in ws.dg.indices { ws.dg[i] = 0 }
                    for h in (grp * perGroup)..<((grp + 1) * perGroup) {
                        prepareHead(&ws, h: h, a: a[h], row0: row0, x: xp, dt: dtp)
                        let yo = row0 * e + h * p
                        headBackward(&ws, dyh: UnsafeBufferPointer(rebasing: gyp[yo...]), ldy: e)
                        var da = 0.0, dd = 0.0
                        for t in 0..<seq {
                            let o = yo + t * e, dto = (row0 + t) * heads + h, dtv = dtp[dto]
                            var q: Float = 0, ddTok: Float = 0
                            for i in 0..<p {
                                let gy = gyp[o + i], xi = xp[o + i], dxt = ws.dxt[t * p + i]
                                q += dxt * xi
                                ddTok += gy * xi
                                buf.dx[o + i] = d[h] * gy + dtv * dxt
                            }
                            let dLog = Float(ws.dlog[t])
                            buf.dDt[dto] = q + a[h] * dLog
                            da += Double(dtv * dLog)
                            dd += Double(ddTok)
                        }
                        buf.dAParts[b * heads + h] = da
                        buf.dDParts[b * heads + h] = dd
                    }
                    // dC = dG·B and dB = dGᵀ·C for this group's columns.
                    ws.dg.withUnsafeBufferPointer { dgp in
                        Gemm.gemm(
                            m: seq, n: dState, k: seq, dgp, lda: seq, UnsafeBufferPointer(rebasing: bp[bco...]), ldb: gn,
                            beta: 1, UnsafeMutableBufferPointer(rebasing: dCp[bco...]), ldc: gn)
                        Gemm.gemm(
                            transA: true, m: seq, n: dState, k: seq, dgp, lda: seq, UnsafeBufferPointer(rebasing: cp[bco...]),
                            ldb: gn, beta: 1, UnsafeMutableBufferPointer(rebasing: dBp[bco...]), ldc: gn)
                    }
                }
            }
        }
    }

    /// One head's products of the backward: dX̃ = Mᵀ·dy into ws.dxt, dM = dy·X̃ᵀ into ws.dm, then
    /// the mask's backward (dG += dM ∘ Λ, ∂ã into ws.dlog). dy is the head's [L, P] block, rows `ldy` apart.
    private func headBackward(_ ws: inout QuadraticWorkspace, dyh: UnsafeBufferPointer<Float>, ldy: Int) {
        let p = headDim
        ws.m.withUnsafeBufferPointer { mp in
            ws.dxt.withUnsafeMutableBufferPointer { dxtp in
                Gemm.gemm(transA: true, m: seq, n: p, k: seq, mp, lda: seq, dyh, ldb: ldy, beta: 0, dxtp, ldc: p)
            }
        }
        ws.xt.withUnsafeBufferPointer { xtp in
            ws.dm.withUnsafeMutableBufferPointer { dmp in
                Gemm.gemm(transB: true, m: seq, n: seq, k: p, dyh, lda: ldy, xtp, ldb: p, beta: 0, dmp, ldc: seq)
            }
        }
        ws.dm.withUnsafeBufferPointer { dmp in
            ws.g.withUnsafeBufferPointer { gp in
                ws.alpha.withUnsafeBufferPointer { ap in
                    ws.dg.withUnsafeMutableBufferPointer { dgp in
                        ws.dlog.withUnsafeMutableBufferPointer { dlp in
                            ws.lam.withUnsafeMutableBufferPointer { lp in
                                ws.w.withUnsafeMutableBufferPointer { wp in
                                    trm_ssd_mask_backward(
                                        dmp.baseAddress!, gp.baseAddress!, ap.baseAddress!, seq, dgp.baseAddress!,
                                        dlp.baseAddress!, lp.baseAddress!, wp.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
