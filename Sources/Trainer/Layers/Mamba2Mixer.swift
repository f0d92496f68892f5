import Foundation
import GraphIR

/// f(u) of a `mamba2` sub-layer (docs/mamba2.md §2): in_proj -> z | xBC | dt_raw; causal depthwise
/// conv + SiLU on xBC -> x, B, C; dt = softplus(dt_raw + dt_bias); A = −exp(A_log); selective scan
/// with D skip; gated grouped RMSNorm y ⊙ silu(z) × norm.weight; out_proj. `reverse` scans from the
/// end; `bidirectional` averages the causal and reversed gated outputs (shared weights) before
/// out_proj, as the compiler's lowering does. Tensors under `<prefix>.`: in_proj.weight,
/// conv1d.weight, conv1d.bias, dt_bias, A_log, D, norm.weight, out_proj.weight.
///
/// Saved for backward (docs/mamba2.md §4.1): the input u [B·L, D], in_proj's output zx [B·L, Dip], and
/// per scan direction the scan output y [B·L, E] and the norm's 1/rms [B·L, G]. The conv + SiLU
/// outputs, dt and the gated output (out_proj's input) are recomputed; scan states never stored.
public struct Mamba2Mixer: Sendable, Hashable {
    public let seq: Int
    public let hidden: Int
    public let dims: Mamba2Dims
    public let kernel: Int
    public let direction: ScanDirection
    public let eps: Float

    public init(config: ModelConfig) {
        seq = config.fullSeqLen
        hidden = config.hidden
        dims = config.mambaDims()
        kernel = config.mamba.dConv
        direction = config.mamba.direction
        eps = Float(config.rmsEps)
    }

    public struct Saved: Sendable {
        public let input: [Float]
        public let zx: [Float]
        /// One entry per direction run (causal first): scan output y and 1/rms.
        public let scans: [(y: [Float], invRMS: [Float])]
    }

    private var e: Int { dims.inner }
    private var cd: Int { dims.convChannels }
    private var width: Int { dims.inProjWidth }
    private var reverses: [Bool] {
        switch direction {
        case .causal: return [false]
        case .reverse: return [true]
        case .bidirectional: return [false, true]
        }
    }
    private var inProj: Linear { Linear(inFeatures: hidden, outFeatures: width) }
    private var outProj: Linear { Linear(inFeatures: e, outFeatures: hidden) }
    private func conv(_ reverse: Bool) -> CausalConv1d { CausalConv1d(seq: seq, channels: cd, kernel: kernel, reverse: reverse) }
    private func scan(_ reverse: Bool) -> SelectiveScan {
        SelectiveScan(seq: seq, heads: dims.heads, headDim: dims.headDim, dState: dims.dState, groups: dims.groups, reverse: reverse)
    }
    private func norm(_ rows: Int) -> GatedRMSNorm { GatedRMSNorm(rows: rows, cols: e, groupSize: e / dims.groups, eps: eps) }

    /// The scan's inputs for one direction, recomputed from zx: pre-activation of the conv, x, B, C
    /// after SiLU, and dt.
    private struct ScanInputs { var xbc: [Float], pre: [Float], x: [Float], b: [Float], c: [Float], dtPre: [Float], dt: [Float] }

    private func scanInputs(_ zx: [Float], xbc: [Float], reverse: Bool, params: ParameterSet, prefix: String, batch: Int) -> ScanInputs {
        let rows = batch * seq, gn = dims.groups * dims.dState
        let pre = conv(reverse).forward(xbc, weight: params[prefix + ".conv1d.weight"], bias: params[prefix + ".conv1d.bias"], batch: batch)
        let act = GatedRMSNorm.silu(pre)
        var dtPre = sliceColumns(zx, rows: rows, cols: width, start: e + cd, width: dims.heads)
        let bias = params[prefix + ".dt_bias"]
        for r in 0..<rows { for h in 0..<dims.heads { dtPre[r * dims.heads + h] += bias[h] } }
        return ScanInputs(
            xbc: xbc, pre: pre, x: sliceColumns(act, rows: rows, cols: cd, start: 0, width: e),
            b: sliceColumns(act, rows: rows, cols: cd, start: e, width: gn),
            c: sliceColumns(act, rows: rows, cols: cd, start: e + gn, width: gn),
            dtPre: dtPre, dt: dtPre.map(Act.softplus))
    }

    private func negA(_ params: ParameterSet, _ prefix: String) -> [Float] { params[prefix + ".A_log"].map { -Foundation.exp($0) } }

    /// u [B, L, D] -> f(u) [B, L, D].
    public func forward(_ u: [Float], params: ParameterSet, prefix: String, batch: Int) -> (out: [Float], saved: Saved) {
        let rows = batch * seq
        checkCount(u, rows * hidden, "Mamba2Mixer input")
        let zx = inProj.forward(u, rows: rows, params: params, name: prefix + ".in_proj.weight")
        let z = sliceColumns(zx, rows: rows, cols: width, start: 0, width: e)
        let xbc = sliceColumns(zx, rows: rows, cols: width, start: e, width: cd)
        let a = negA(params, prefix), w = params[prefix + ".norm.weight"]
        var scans: [(y: [Float], invRMS: [Float])] = []
        var gated: [Float] = []
        for reverse in reverses {
            let s = scanInputs(zx, xbc: xbc, reverse: reverse, params: params, prefix: prefix, batch: batch)
            let y = scan(reverse).forward(x: s.x, dt: s.dt, a: a, bm: s.b, cm: s.c, d: params[prefix + ".D"], batch: batch)
            let (g, inv) = norm(rows).forward(y, z, weight: w)
            if gated.isEmpty { gated = g } else { addInPlace(&gated, g) }
            scans.append((y, inv))
        }
        if scans.count > 1 { for i in 0..<gated.count { gated[i] *= 0.5 } }
        let out = outProj.forward(gated, rows: rows, params: params, name: prefix + ".out_proj.weight")
        return (out, Saved(input: u, zx: zx, scans: scans))
    }

    /// dOut [B, L, D] -> du [B, L, D]; accumulates the gradients of all eight tensors into `grads`.
    public func backward(
        _ dOut: [Float], _ saved: Saved, params: ParameterSet, grads: inout ParameterSet,
        prefix: String, batch: Int
    ) -> [Float] {
        let rows = batch * seq, p = prefix + "."
        checkCount(dOut, rows * hidden, "Mamba2Mixer dOut")
        let z = sliceColumns(saved.zx, rows: rows, cols: width, start: 0, width: e)
        let xbc = sliceColumns(saved.zx, rows: rows, cols: width, start: e, width: cd)
        let a = negA(params, prefix), w = params[p + "norm.weight"], share = Float(1) / Float(saved.scans.count)
        // out_proj: its input (the gated output) is recomputed from the saved y and z.
        var gated: [Float] = []
        for s in saved.scans {
            let g = norm(rows).forward(s.y, z, weight: w).out
            if gated.isEmpty { gated = g } else { addInPlace(&gated, g) }
        }
        if saved.scans.count > 1 { for i in 0..<gated.count { gated[i] *= share } }
        var dGated = outProj.backward(dOut, x: gated, rows: rows, params: params, name: p + "out_proj.weight", grads: &grads)
        if saved.scans.count > 1 { for i in 0..<dGated.count { dGated[i] *= share } }
        var dzx = [Float](repeating: 0, count: rows * width)
        for (reverse, s) in zip(reverses, saved.scans) {
            let (dy, dz) = grads.modify(p + "norm.weight") {
                norm(rows).backward(dGated, y: s.y, z: z, weight: w, invRMS: s.invRMS, dWeight: &$0)
            }
            addColumns(dz, into: &dzx, rows: rows, cols: width, start: 0, width: e)
            let inp = scanInputs(saved.zx, xbc: xbc, reverse: reverse, params: params, prefix: prefix, batch: batch)
            let sg = scan(reverse).backward(dy, x: inp.x, dt: inp.dt, a: a, bm: inp.b, cm: inp.c, d: params[p + "D"], batch: batch)
            // Through the SiLU after the conv, then the conv itself.
            var dAct = concatColumns([sg.dx, sg.dB, sg.dC], rows: rows)
            let sig = GatedRMSNorm.sigmoid(inp.pre)
            dAct.withUnsafeMutableBufferPointer { dp in
                sig.withUnsafeBufferPointer { sp in
                    inp.pre.withUnsafeBufferPointer { xp in
                        for i in 0..<dp.count { dp[i] *= sp[i] * (1 + xp[i] * (1 - sp[i])) }  // silu′(x)
                    }
                }
            }
            var dConvW = grads[p + "conv1d.weight"], dConvB = grads[p + "conv1d.bias"]
            let dxbc = conv(reverse).backward(
                dAct, input: xbc, weight: params[p + "conv1d.weight"], batch: batch,
                dWeight: &dConvW, dBias: &dConvB)
            grads[p + "conv1d.weight"] = dConvW
            grads[p + "conv1d.bias"] = dConvB
            addColumns(dxbc, into: &dzx, rows: rows, cols: width, start: e, width: cd)
            // dt = softplus(dt_raw + dt_bias); A = −exp(A_log) so ∂A_log = A·∂A.
            var dDtPre = sg.dDt
            for i in 0..<dDtPre.count { dDtPre[i] *= Act.softplusGrad(inp.dtPre[i]) }
            addColumns(dDtPre, into: &dzx, rows: rows, cols: width, start: e + cd, width: dims.heads)
            grads.modify(p + "dt_bias") { g in
                for r in 0..<rows { for h in 0..<dims.heads { g[h] += dDtPre[r * dims.heads + h] } }
            }
            grads.modify(p + "A_log") { g in for h in 0..<dims.heads { g[h] += a[h] * sg.dA[h] } }
            grads.modify(p + "D") { g in for h in 0..<dims.heads { g[h] += sg.dD[h] } }
        }
        return inProj.backward(dzx, x: saved.input, rows: rows, params: params, name: p + "in_proj.weight", grads: &grads)
    }
}
