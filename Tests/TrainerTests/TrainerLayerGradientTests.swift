import Foundation
import Testing
import GraphIR
@testable import Trainer

/// Finite-difference checks of every dense layer's backward (method and tolerance: `GradientCheck`).
/// Tolerance: |R − 1| ≤ 2e-3 per argument (measured: 2e-6..4e-4, the fp32 forward's rounding noise).
/// `checkerCatchesWrongGradients` shows that a 1% error in a gradient, or one wrong element, fails it.
@Suite struct TrainerLayerGradientTests {
    static let tolerance = 2e-3

    func expectPasses(_ label: String, _ check: GradientCheck, tolerance: Double = tolerance) {
        let errors = check.run()
        report(label, errors)
        #expect(!errors.isEmpty)
        for (name, e) in errors { #expect(e <= tolerance, "\(label): \(name) relative error \(e)") }
    }

    @Test func checkerCatchesWrongGradients() {
        let rows = 5, n = 7, k = 6, layer = Linear(inFeatures: k, outFeatures: n)
        let args = ["x": randomArray(rows * k, seed: 1), "w": randomArray(n * k, std: 0.4, seed: 2)]
        for corrupt in [0, 1] {
            let errors = GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(a["x"]!, rows: rows, weight: a["w"]!).doubles
                },
                backward: { a, dy in
                    var dw = [Float](repeating: 0, count: n * k)
                    let dx = layer.backward(dy, x: a["x"]!, rows: rows, weight: a["w"]!, dWeight: &dw)
                    if corrupt == 0 { dw = dw.map { $0 * 1.01 } } else { dw[5] = 0 }
                    return ["x": dx, "w": dw]
                }
            ).run()
            #expect(errors["x"]! <= Self.tolerance)
            #expect(errors["w"]! > 2 * Self.tolerance, "corruption \(corrupt) went unnoticed: \(errors["w"]!)")
        }
    }

    @Test func linear() {
        let rows = 5, n = 7, k = 6, layer = Linear(inFeatures: k, outFeatures: n)
        let args = ["x": randomArray(rows * k, seed: 1), "w": randomArray(n * k, std: 0.4, seed: 2), "b": randomArray(n, seed: 3)]
        expectPasses(
            "linear",
            GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(a["x"]!, rows: rows, weight: a["w"]!, bias: a["b"]!).doubles
                },
                backward: { a, dy in
                    var dw = [Float](repeating: 0, count: n * k), db = [Float](repeating: 0, count: n)
                    let dx = layer.backward(dy, x: a["x"]!, rows: rows, weight: a["w"]!, dWeight: &dw, dBias: &db)
                    return ["x": dx, "w": dw, "b": db]
                }))
    }

    @Test(arguments: [PosEncoding.rope, .learned])
    func inputEmbedding(positions: PosEncoding) throws {
        var o = ConfigOverrides()
        o.hidden = 8; o.heads = 2; o.puzzleEmbLen = 2; o.posEncodings = positions
        var config = try o.apply(to: Preset.trmAttn.config(task: .sudoku, grid: 2))
        config.puzzleEmbNdim = 12  // less than P·D = 16: the rest of the prefix is zero padding
        let layer = InputEmbedding(config: config), batch = 2
        let tokens: [Int32] = [0, 3, 1, 3, 2, 2, 0, 1]
        var args = ["puzzle": randomArray(batch * 12, seed: 4), "table": randomArray(config.vocab * 8, seed: 5)]
        if positions == .learned { args["pos"] = randomArray(layer.fullSeqLen * 8, seed: 6) }
        expectPasses(
            "embedding-\(positions)",
            GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(tokens: tokens, puzzleRows: a["puzzle"]!, tokenTable: a["table"]!, positions: a["pos"], batch: batch)
                        .doubles
                },
                backward: { a, dx in
                    var dTable = [Float](repeating: 0, count: a["table"]!.count)
                    let g = layer.backward(dx, tokens: tokens, batch: batch, dTokenTable: &dTable)
                    var out = ["puzzle": g.puzzleRows, "table": dTable]
                    if let p = g.positions { out["pos"] = p }
                    return out
                }))
        // Duplicate ids sum; the per-id gradient is what the sparse optimizer sees.
        let byID = layer.gradientByID([Float](repeating: 1, count: 3 * 12), ids: [4, 1, 4])
        #expect(byID.map(\.id) == [1, 4] && byID[1].gradient == [Float](repeating: 2, count: 12))
    }

    @Test func residualRMSNorm() {
        let rows = 6, cols = 10, layer = ResidualRMSNorm(rows: rows, cols: cols, eps: 1e-5)
        let args = ["h": randomArray(rows * cols, seed: 7), "f": randomArray(rows * cols, std: 0.5, seed: 8)]
        expectPasses(
            "residual-rmsnorm",
            GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(a["h"]!, a["f"]!).out.doubles
                },
                backward: { a, d in
                    let ds = layer.backward(d, layer.forward(a["h"]!, a["f"]!).saved)
                    return ["h": ds, "f": ds]
                }))
    }

    @Test func rope() {
        let layer = RotaryEmbedding(seq: 9, heads: 2, headDim: 6, theta: 10000), batch = 2
        let args = ["x": randomArray(batch * 9 * 12, seed: 9)]
        expectPasses(
            "rope",
            GradientCheck(
                args: args, forward: { a in layer.forward(a["x"]!, batch: batch).doubles },
                backward: { _, d in ["x": layer.backward(d, batch: batch)] }))
    }

    /// seq 150 > the 128-row tile, so the tiled backward is exercised across a tile boundary.
    @Test(arguments: [(7, 2, 4), (150, 1, 4)])
    func multiHeadAttention(seq: Int, heads: Int, headDim: Int) {
        let layer = MultiHeadAttention(seq: seq, heads: heads, headDim: headDim), batch = 2, n = batch * seq * heads * headDim
        let args = ["q": randomArray(n, seed: 10), "k": randomArray(n, seed: 11), "v": randomArray(n, seed: 12)]
        expectPasses(
            "attention-S\(seq)",
            GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(q: a["q"]!, k: a["k"]!, v: a["v"]!, batch: batch).out.doubles
                },
                backward: { a, d in
                    let g = layer.backward(d, layer.forward(q: a["q"]!, k: a["k"]!, v: a["v"]!, batch: batch).saved, batch: batch)
                    return ["q": g.dQ, "k": g.dK, "v": g.dV]
                }))
    }

    @Test(arguments: [true, false])
    func attentionSublayer(withRope: Bool) {
        let seq = 6, d = 8, heads = 2, batch = 2
        let rope = withRope ? RotaryEmbedding(seq: seq, heads: heads, headDim: d / heads, theta: 10000) : nil
        let layer = AttentionSublayer(seq: seq, hidden: d, heads: heads, rope: rope)
        let args = [
            "h": randomArray(batch * seq * d, seed: 13), "p.qkv_proj.weight": randomArray(3 * d * d, std: 0.35, seed: 14),
            "p.o_proj.weight": randomArray(d * d, std: 0.35, seed: 15),
        ]
        expectPasses(
            "attn-sublayer-rope=\(withRope)",
            compositeCheck(
                args, input: "h",
                forward: { x, p in
                    layer.forward(x, params: p, prefix: "p", batch: batch)
                }, backward: { dy, s, p, g in layer.backward(dy, s, params: p, grads: &g, prefix: "p", batch: batch) }))
    }

    @Test func swiGLU() {
        let layer = SwiGLUActivation(rows: 4, width: 5)
        let args = ["gu": randomArray(4 * 10, std: 1.5, seed: 16)]
        expectPasses(
            "swiglu",
            GradientCheck(
                args: args, forward: { a in layer.forward(a["gu"]!).doubles },
                backward: { a, d in ["gu": layer.backward(d, input: a["gu"]!)] }))
    }

    @Test func swiGLUMLP() {
        let rows = 5, n = 6, width = 8, layer = SwiGLUMLP(rows: rows, features: n, width: width)
        let args = [
            "x": randomArray(rows * n, seed: 17), "p.gate_up_proj.weight": randomArray(2 * width * n, std: 0.4, seed: 18),
            "p.down_proj.weight": randomArray(n * width, std: 0.35, seed: 19),
        ]
        expectPasses(
            "mlp",
            compositeCheck(
                args, input: "x", forward: { x, p in layer.forward(x, params: p, prefix: "p") },
                backward: { dy, s, p, g in layer.backward(dy, s, params: p, grads: &g, prefix: "p") }))
    }

    @Test func sequenceMLP() {
        let batch = 2, seq = 5, d = 4, width = 8
        let layer = SequenceMLP(batch: batch, seq: seq, hidden: d, width: width, eps: 1e-5)
        let args = [
            "h": randomArray(batch * seq * d, seed: 20), "p.gate_up_proj.weight": randomArray(2 * width * seq, std: 0.45, seed: 21),
            "p.down_proj.weight": randomArray(seq * width, std: 0.35, seed: 22),
        ]
        expectPasses(
            "mlp_t",
            compositeCheck(
                args, input: "h", forward: { x, p in layer.forward(x, params: p, prefix: "p") },
                backward: { dy, s, p, g in layer.backward(dy, s, params: p, grads: &g, prefix: "p") }))
    }

    @Test func outputHeads() throws {
        var o = ConfigOverrides()
        o.hidden = 8; o.heads = 2; o.puzzleEmbLen = 2
        let config = try o.apply(to: Preset.trmAttn.config(task: .sudoku, grid: 2))
        let batch = 3, layer = OutputHeads(config: config, batch: batch), s = config.fullSeqLen
        let args = [
            "zH": randomArray(batch * s * 8, seed: 23), "lm_head.weight": randomArray(config.vocab * 8, std: 0.35, seed: 24),
            "q_head.weight": randomArray(16, std: 0.35, seed: 25), "q_head.bias": [-5, -5],
        ]
        let check = GradientCheck(
            args: args,
            forward: { a in
                let r = layer.forward(a["zH"]!, params: ParameterSet(a))
                return (r.logits + r.q).doubles
            },
            backward: { a, d in
                let p = ParameterSet(a)
                var g = p.zeros()
                let nl = batch * config.seqLen * config.vocab
                let r = layer.forward(a["zH"]!, params: p)
                g["zH"] = layer.backward(dLogits: Array(d[0..<nl]), dQ: Array(d[nl...]), r.saved, params: p, grads: &g)
                return g.tensors
            })
        expectPasses("output-heads", check)
    }
}

/// A gradient check of a composite layer that reads its tensors from a `ParameterSet`: `input` is the
/// argument fed to forward, every other argument is a tensor.
func compositeCheck<S>(
    _ args: [String: [Float]], input: String,
    forward: @escaping ([Float], ParameterSet) -> (out: [Float], saved: S),
    backward: @escaping ([Float], S, ParameterSet, inout ParameterSet) -> [Float]
) -> GradientCheck {
    GradientCheck(
        args: args, forward: { a in forward(a[input]!, ParameterSet(a)).out.doubles },
        backward: { a, d in
            let p = ParameterSet(a)
            var g = p.zeros()
            let (_, saved) = forward(a[input]!, p)
            g[input] = backward(d, saved, p, &g)
            return g.tensors
        })
}
