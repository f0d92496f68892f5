import Foundation
import Testing
import GraphIR
@testable import Runtime
@testable import Trainer

/// The Mamba-2 training forwards against the runtime's kernels (bound as
/// `TrainerLayerRuntimeParityTests`): the conv, the gated norm, the scan, and the whole mixer
/// against the fused Mamba2ScanGate phases + out_proj, in every scan direction.
@Suite struct TrainerLayerMambaParityTests {
    let parity = TrainerLayerRuntimeParityTests()

    @Test(arguments: [false, true])
    func conv(reverse: Bool) {
        let batch = 2, seq = 13, c = 20, k = 4
        let x = randomArray(batch * seq * c, seed: 91), w = randomArray(c * k, std: 0.5, seed: 92), b = randomArray(c, seed: 93)
        let mine = CausalConv1d(seq: seq, channels: c, kernel: k, reverse: reverse).forward(x, weight: w, bias: b, batch: batch)
        var workspace = [Float](repeating: 0, count: Mamba2.convWorkspaceFloats(channels: c, kernel: k))
        let theirs = parity.run(x.count) { o in
            workspace.withUnsafeMutableBufferPointer { ws in
                Mamba2.conv1dCausal(
                    x, w, b, o, batch: batch, seq: seq, channels: c, kernel: k, reverse: reverse, workspace: ws.baseAddress!)
            }
        }
        parity.expectClose("conv-reverse=\(reverse)", mine, theirs)
    }

    @Test func gatedNorm() {
        let rows = 6, cols = 32, gs = 16
        let y = randomArray(rows * cols, seed: 94), z = randomArray(rows * cols, std: 2, seed: 95),
            w = randomArray(cols, std: 0.3, mean: 1, seed: 96)
        let mine = GatedRMSNorm(rows: rows, cols: cols, groupSize: gs, eps: 1e-5).forward(y, z, weight: w).out
        let theirs = parity.run(y.count) { o in Norms.gatedRMSNorm(y, z, w, o, rows: rows, cols: cols, groupSize: gs, eps: 1e-5) }
        parity.expectClose("gated-rmsnorm", mine, theirs)
    }

    /// The runtime's tiled path needs P and N multiples of 8 (here also over several 64-token
    /// chunks: seq 150); N = 5 and P = 36 take the scalar path.
    @Test(arguments: [(16, 8, false), (16, 8, true), (5, 8, false), (24, 64, false), (24, 64, true), (8, 36, true)])
    func scan(dState: Int, p: Int, reverse: Bool) {
        for form in [SelectiveScan.Form.recurrent, .quadratic] { scan(dState: dState, p: p, reverse: reverse, form: form) }
    }

    func scan(dState: Int, p: Int, reverse: Bool, form: SelectiveScan.Form) {
        let batch = 2, seq = 150, heads = 4, groups = 2, e = heads * p, gn = groups * dState
        let x = randomArray(batch * seq * e, seed: 97), dt = uniformArray(batch * seq * heads, 0.01, 0.5, seed: 98)
        let a = uniformArray(heads, -4, -0.5, seed: 99), d = randomArray(heads, seed: 100)
        let bm = randomArray(batch * seq * gn, seed: 101), cm = randomArray(batch * seq * gn, seed: 102)
        let mine = SelectiveScan(seq: seq, heads: heads, headDim: p, dState: dState, groups: groups, reverse: reverse, form: form)
            .forward(x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, batch: batch)
        var state = [Float](repeating: 0, count: Mamba2.scanWorkspaceFloats(headDim: p, dState: dState))
        let shape = Mamba2.ScanShape(
            batch: batch, seq: seq, dims: Mamba2Dims(heads: heads, headDim: p, dState: dState, groups: groups, reverse: reverse))
        let theirs = parity.run(x.count) { o in
            Mamba2.scan(
                x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, shape, workspace: &state, y: UnsafeMutableBufferPointer(start: o, count: x.count))
        }
        parity.expectClose("scan-\(form)-N\(dState)-P\(p)-reverse=\(reverse)", mine, theirs)
    }

    /// The whole mixer against the runtime's fused scan+gate (conv + SiLU + softplus + scan + gate +
    /// norm) and out_proj; bidirectional averages the two directions as the lowering does.
    @Test(arguments: [ScanDirection.causal, .reverse, .bidirectional])
    func mixer(direction: ScanDirection) throws {
        var o = ConfigOverrides()
        o.hidden = 16; o.heads = 2; o.puzzleEmbLen = 2; o.dState = 16; o.headdim = 8; o.ngroups = 2; o.direction = direction
        let config = try o.apply(to: Preset.trMamba2Attn.config(task: .sudoku, grid: 3))
        let prefix = "L_level.layers.0.mamba2.0", batch = 2, seq = config.fullSeqLen, m = config.mambaDims()
        let p = ParameterSet(TrainerLayerFixtures.parameters(config, prefix: prefix, seed: 103))
        let u = randomArray(batch * seq * config.hidden, seed: 104)
        let mine = Mamba2Mixer(config: config).forward(u, params: p, prefix: prefix, batch: batch).out

        let zx = Linear(inFeatures: config.hidden, outFeatures: m.inProjWidth).forward(
            u, rows: batch * seq, weight: p[prefix + ".in_proj.weight"])
        let negA = p[prefix + ".A_log"].map { -exp($0) }
        func scanGate(reverse: Bool) -> [Float] {
            let s = Mamba2.ScanGateShape(
                seq: seq, heads: m.heads, headDim: m.headDim, dState: m.dState, groups: m.groups,
                kernel: config.mamba.dConv, eps: Float(config.rmsEps), reverse: reverse)
            var shared = [Float](
                repeating: 0,
                count: Mamba2.scanGateSharedFloats(seq: seq, heads: m.heads, headDim: m.headDim, dState: m.dState, groups: m.groups))
            var state = [Float](repeating: 0, count: Mamba2.scanGateWorkspaceFloats(s))
            return parity.run(batch * seq * m.inner) { out in
                shared.withUnsafeMutableBufferPointer { sh in
                    state.withUnsafeMutableBufferPointer { st in
                        zx.withUnsafeBufferPointer { zp in
                            for b in 0..<batch {
                                let zxs = zp.baseAddress! + b * seq * s.width, outs = out + b * seq * s.inner
                                Mamba2.scanGateConv(
                                    zx: zxs, convW: p[prefix + ".conv1d.weight"], convB: p[prefix + ".conv1d.bias"],
                                    dtBias: p[prefix + ".dt_bias"], shared: sh.baseAddress!, s, rows: 0..<seq, workspace: st.baseAddress!)
                                Mamba2.scanGateScan(
                                    a: negA, d: p[prefix + ".D"], shared: sh.baseAddress!, out: outs, s, heads: 0..<m.heads,
                                    state: st.baseAddress!)
                                Mamba2.scanGateNorm(zx: zxs, normW: p[prefix + ".norm.weight"], out: outs, s, rows: 0..<seq)
                            }
                        }
                    }
                }
            }
        }
        var gated: [Float]
        switch direction {
        case .causal: gated = scanGate(reverse: false)
        case .reverse: gated = scanGate(reverse: true)
        case .bidirectional:
            let f = scanGate(reverse: false), r = scanGate(reverse: true)
            gated = zip(f, r).map { ($0 + $1) * 0.5 }
        }
        let theirs = parity.run(batch * seq * config.hidden) { out in
            MatMulKernel.run(
                x: gated, w: p[prefix + ".out_proj.weight"], bias: nil, out: out, rows: batch * seq, n: config.hidden,
                k: m.inner, swiGLU: false, scratch: nil)
        }
        parity.expectClose("mamba2-\(direction)", mine, theirs)
    }
}
