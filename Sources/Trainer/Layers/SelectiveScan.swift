import CKernels
import Foundation
import Runtime

/// Mamba-2's selective scan with the D skip (docs/mamba2.md §2), per sample and head h of group
/// g = h / (H/G): S(t) = exp(dt_t·A_h)·S(t−1) + dt_t·x_t ⊗ B_t[g],  y_t = S(t)·C_t[g] + D_h·x_t,
/// from S(−1) = 0. `reverse` runs t from L−1 down to 0.
///
/// Saved for backward: nothing beyond the inputs (x, dt, A, B, C, D), which the mixer recomputes.
/// Per-token states (L·P·N per head) are never stored: the backward (docs/mamba2.md §4.2/§4.1) re-runs the
/// recurrence once keeping only the state entering every chunk of `chunk` tokens, then walks the
/// chunks from the end, recomputing each chunk's states into a chunk·P·N buffer and running the
/// adjoint G_t = gy_t ⊗ C_t + a_{t+1}·G_{t+1} through it. The log-decay gradient is taken in its
/// exact form ∂ã_t = ⟨G_t, a_t·S(t−1)⟩ rather than the cumulative-sum identity, which cancels.
public struct SelectiveScan: Sendable, Hashable {
    public let seq: Int
    public let heads: Int
    public let headDim: Int
    public let dState: Int
    public let groups: Int
    public let reverse: Bool
    /// Tokens per recomputation chunk in the recurrent backward (memory chunk·P·N floats per head in flight).
    public let chunk: Int
    /// The arithmetic forward and backward run on (QuadraticScan.swift); by default
    /// `preferredForm` of the sizes.
    public let form: Form

    public init(
        seq: Int, heads: Int, headDim: Int, dState: Int, groups: Int, reverse: Bool, chunk: Int = 16, form: Form? = nil
    ) {
        precondition(seq > 0 && heads > 0 && headDim > 0 && dState > 0 && groups > 0 && chunk > 0, "SelectiveScan: bad sizes")
        precondition(heads % groups == 0, "SelectiveScan: heads \(heads) not a multiple of groups \(groups)")
        self.seq = seq
        self.heads = heads
        self.headDim = headDim
        self.dState = dState
        self.groups = groups
        self.reverse = reverse
        self.chunk = chunk
        self.form = form ?? Self.preferredForm(seq: seq, heads: heads, headDim: headDim, dState: dState, groups: groups)
    }

    /// Gradients of every input.
    public struct Gradients: Sendable {
        /// [B, L, H·P], [B, L, H], [H], [B, L, G·N], [B, L, G·N], [H].
        public var dx: [Float], dDt: [Float], dA: [Float], dB: [Float], dC: [Float], dD: [Float]
    }

    private var inner: Int { heads * headDim }
    private var gn: Int { groups * dState }

    private func checkInputs(_ x: [Float], _ dt: [Float], _ a: [Float], _ bm: [Float], _ cm: [Float], _ d: [Float], _ batch: Int) {
        checkCount(x, batch * seq * inner, "SelectiveScan x [B, L, H·P]")
        checkCount(dt, batch * seq * heads, "SelectiveScan dt [B, L, H]")
        checkCount(a, heads, "SelectiveScan A"); checkCount(d, heads, "SelectiveScan D")
        checkCount(bm, batch * seq * gn, "SelectiveScan B [B, L, G·N]")
        checkCount(cm, batch * seq * gn, "SelectiveScan C [B, L, G·N]")
    }

    /// x [B, L, H·P], dt [B, L, H] (after softplus), a = A [H] (negative), bm/cm [B, L, G·N], d [H]
    /// -> y [B, L, H·P]. In the recurrent form on the runtime's scan kernel (`Mamba2.scanHead`,
    /// ssm_scan.c: register-tiled state, decays factored out of chunks), so trainer and runtime
    /// share the forward arithmetic; its backward (`trm_ssm_scan_backward`) recomputes the states
    /// with plain FMAs, which differ from the forward's by fp32 rounding only. The quadratic form
    /// (QuadraticScan.swift) agrees with both to fp32 rounding.
    public func forward(x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float], batch: Int) -> [Float] {
        checkInputs(x, dt, a, bm, cm, d, batch)
        if form == .quadratic { return quadraticForward(x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, batch: batch) }
        let perGroup = heads / groups, work = Mamba2.scanWorkspaceFloats(headDim: headDim, dState: dState)
        // (sample, head) pairs split over the trainer's threads: each writes only its own y columns.
        return [Float](unsafeUninitializedCapacity: x.count) { yp, initialized in
            x.withUnsafeBufferPointer { xp in
                dt.withUnsafeBufferPointer { dtp in
                    bm.withUnsafeBufferPointer { bp in
                        cm.withUnsafeBufferPointer { cp in
                            TrainerThreads.parts(batch * heads) { pairs in
                                var state = [Float](repeating: 0, count: work)
                                state.withUnsafeMutableBufferPointer { sp in
                                    for pair in pairs {
                                        let b = pair / heads, h = pair % heads, g = h / perGroup
                                        Mamba2.scanHead(
                                            x: xp.baseAddress! + b * seq * inner + h * headDim, xStride: inner,
                                            dt: dtp.baseAddress! + b * seq * heads + h, dtStride: heads,
                                            b: bp.baseAddress! + b * seq * gn + g * dState, c: cp.baseAddress! + b * seq * gn + g * dState,
                                            bcStride: gn, a: a[h], d: d[h], y: yp.baseAddress! + b * seq * inner + h * headDim,
                                            yStride: inner, seq: seq, headDim: headDim, dState: dState, reverse: reverse,
                                            state: sp.baseAddress!)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// dY [B, L, H·P] -> gradients of all inputs (docs/mamba2.md §4.2), each (sample, head) on
    /// `trm_ssm_scan_backward` (ssm_scan_backward.c). The samples are split over the trainer's
    /// threads: a sample's heads write only its own rows of dx, dDt, dB and dC, and each (sample,
    /// head) its own partial dA and dD, summed over the samples in order at the end, so the result
    /// does not depend on the thread count.
    public func backward(
        _ dY: [Float], x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float],
        batch: Int
    ) -> Gradients {
        checkInputs(x, dt, a, bm, cm, d, batch)
        checkCount(dY, x.count, "SelectiveScan dY")
        if form == .quadratic { return quadraticBackward(dY, x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, batch: batch) }
        let perGroup = heads / groups, work = trm_ssm_scan_backward_workspace(seq, headDim, dState, chunk)
        return withBackwardBuffers(dY, x: x, dt: dt, bm: bm, cm: cm, batch: batch) { buf in
            TrainerThreads.parts(batch) { samples in
                var workspace = [Float](repeating: 0, count: work)
                workspace.withUnsafeMutableBufferPointer { ws in
                    for b in samples {
                        for h in 0..<heads {
                            // This head's columns of x, dt; its group's of B and C.
                            let xo = b * seq * inner + h * headDim, dto = b * seq * heads + h
                            let gb = b * seq * gn + (h / perGroup) * dState
                            trm_ssm_scan_backward(
                                buf.x + xo, inner, buf.dt + dto, heads, buf.bm + gb, buf.cm + gb, gn, a[h], d[h],
                                buf.dY + xo, inner, buf.dx + xo, buf.dDt + dto, buf.dB + gb, buf.dC + gb,
                                seq, headDim, dState, reverse ? 1 : 0, chunk, ws.baseAddress!,
                                buf.dAParts + b * heads + h, buf.dDParts + b * heads + h)
                        }
                    }
                }
            }
        }
    }

    /// The inputs and outputs of one backward as pointers: x, dt, B, C and dY, the zeroed gradients
    /// dx, dDt, dB, dC, and each (sample, head)'s ∂A and ∂D parts [B, H].
    struct BackwardBuffers {
        let x, dt, bm, cm, dY: UnsafePointer<Float>
        let dx, dDt, dB, dC: UnsafeMutablePointer<Float>
        let dAParts, dDParts: UnsafeMutablePointer<Double>
    }

    /// Runs `body` on a backward's buffers (both forms), then sums the ∂A and ∂D parts over the
    /// samples in order, so the result does not depend on how `body` split the work.
    func withBackwardBuffers(
        _ dY: [Float], x: [Float], dt: [Float], bm: [Float], cm: [Float], batch: Int, _ body: (BackwardBuffers) -> Void
    ) -> Gradients {
        var g = Gradients(
            dx: [Float](repeating: 0, count: x.count), dDt: [Float](repeating: 0, count: dt.count),
            dA: [Float](repeating: 0, count: heads), dB: [Float](repeating: 0, count: bm.count),
            dC: [Float](repeating: 0, count: cm.count), dD: [Float](repeating: 0, count: heads))
        var dAParts = [Double](repeating: 0, count: batch * heads), dDParts = dAParts
        x.withUnsafeBufferPointer { xp in
            dt.withUnsafeBufferPointer { dtp in
                bm.withUnsafeBufferPointer { bp in
                    cm.withUnsafeBufferPointer { cp in
                        dY.withUnsafeBufferPointer { gyp in
                            g.dx.withUnsafeMutableBufferPointer { dxp in
                                g.dDt.withUnsafeMutableBufferPointer { ddtp in
                                    g.dB.withUnsafeMutableBufferPointer { dBp in
                                        g.dC.withUnsafeMutableBufferPointer { dCp in
                                            dAParts.withUnsafeMutableBufferPointer { dap in
                                                dDParts.withUnsafeMutableBufferPointer { ddp in
                                                    body(
                                                        BackwardBuffers(
                                                            x: xp.baseAddress!, dt: dtp.baseAddress!, bm: bp.baseAddress!,
                                                            cm: cp.baseAddress!, dY: gyp.baseAddress!, dx: dxp.baseAddress!,
                                                            dDt: ddtp.baseAddress!, dB: dBp.baseAddress!, dC: dCp.baseAddress!,
                                                            dAParts: dap.baseAddress!, dDParts: ddp.baseAddress!))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for h in 0..<heads {
            var da = 0.0, dd = 0.0
            for b in 0..<batch { da += dAParts[b * heads + h]; dd += dDParts[b * heads + h] }
            g.dA[h] = Float(da)
            g.dD[h] = Float(dd)
        }
        return g
    }
}
