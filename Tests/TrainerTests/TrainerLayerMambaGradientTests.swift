import Foundation
import Testing
import GraphIR
@testable import Trainer

/// Finite-difference checks of the Mamba-2 pieces (method: `GradientCheck`; tolerance as
/// `TrainerLayerGradientTests`). The scan is checked with a chunk shorter than the sequence and not
/// dividing it, so the chunked state recomputation crosses several chunk boundaries.
@Suite struct TrainerLayerMambaGradientTests {
    static let tolerance = TrainerLayerGradientTests.tolerance

    func expectPasses(_ label: String, _ check: GradientCheck) {
        let errors = check.run()
        report(label, errors)
        #expect(!errors.isEmpty)
        for (name, e) in errors { #expect(e <= Self.tolerance, "\(label): \(name) relative error \(e)") }
    }

    /// dt_bias and A_log (one value per head) move the output weakly: at a 1e-2 step their finite
    /// difference sits at the fp32 noise floor (~1e-3, falling as 1/step), while in_proj and the conv
    /// weight of a second stacked Mamba-2 layer need steps ≤ 3e-3 before truncation is small.
    static let steps: [Float] = [3e-2, 1e-2, 3e-3]

    @Test(arguments: [false, true])
    func causalConv(reverse: Bool) {
        let seq = 7, c = 5, k = 4, batch = 2, layer = CausalConv1d(seq: seq, channels: c, kernel: k, reverse: reverse)
        let args = [
            "x": randomArray(batch * seq * c, seed: 30), "w": randomArray(c * k, std: 0.5, seed: 31), "b": randomArray(c, seed: 32),
        ]
        expectPasses(
            "conv-reverse=\(reverse)",
            GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(a["x"]!, weight: a["w"]!, bias: a["b"]!, batch: batch).doubles
                },
                backward: { a, d in
                    var dw = [Float](repeating: 0, count: c * k), db = [Float](repeating: 0, count: c)
                    let dx = layer.backward(d, input: a["x"]!, weight: a["w"]!, batch: batch, dWeight: &dw, dBias: &db)
                    return ["x": dx, "w": dw, "b": db]
                }))
    }

    /// d_state 5 runs only the recurrent backward kernel's scalar tail, 37 two 16-column register
    /// groups and a tail, 100 one 64-column group, two of 16 and a tail. The quadratic form is
    /// checked at the same sizes.
    @Test(arguments: [false, true], [5, 37, 100])
    func selectiveScan(reverse: Bool, n: Int) {
        for form in [SelectiveScan.Form.recurrent, .quadratic] { checkScan(reverse: reverse, n: n, form: form) }
    }

    func checkScan(reverse: Bool, n: Int, form: SelectiveScan.Form) {
        let seq = 11, heads = 4, p = 3, groups = 2, batch = 2
        let layer = SelectiveScan(
            seq: seq, heads: heads, headDim: p, dState: n, groups: groups, reverse: reverse, chunk: 4, form: form)
        let args = [
            "x": randomArray(batch * seq * heads * p, seed: 33),
            "dt": uniformArray(batch * seq * heads, 0.05, 0.6, seed: 34),
            "A": uniformArray(heads, -3, -0.5, seed: 35),
            "B": randomArray(batch * seq * groups * n, seed: 36),
            "C": randomArray(batch * seq * groups * n, seed: 37),
            "D": randomArray(heads, seed: 38),
        ]
        func run(_ a: [String: [Float]]) -> [Float] {
            layer.forward(x: a["x"]!, dt: a["dt"]!, a: a["A"]!, bm: a["B"]!, cm: a["C"]!, d: a["D"]!, batch: batch)
        }
        expectPasses(
            "scan-\(form)-reverse=\(reverse)-n\(n)",
            GradientCheck(
                args: args, forward: { run($0).doubles },
                backward: { a, d in
                    let g = layer.backward(d, x: a["x"]!, dt: a["dt"]!, a: a["A"]!, bm: a["B"]!, cm: a["C"]!, d: a["D"]!, batch: batch)
                    return ["x": g.dx, "dt": g.dDt, "A": g.dA, "B": g.dB, "C": g.dC, "D": g.dD]
                }))
        // The chunk length only changes where the recurrence recomputes states, not the result.
        let one = SelectiveScan(
            seq: seq, heads: heads, headDim: p, dState: n, groups: groups, reverse: reverse, chunk: 64, form: form)
        let dy = randomArray(batch * seq * heads * p, seed: 39)
        let g1 = layer.backward(
            dy, x: args["x"]!, dt: args["dt"]!, a: args["A"]!, bm: args["B"]!, cm: args["C"]!, d: args["D"]!, batch: batch)
        let g2 = one.backward(
            dy, x: args["x"]!, dt: args["dt"]!, a: args["A"]!, bm: args["B"]!, cm: args["C"]!, d: args["D"]!, batch: batch)
        #expect(g1.dx == g2.dx && g1.dDt == g2.dDt && g1.dB == g2.dB && g1.dC == g2.dC)
    }

    @Test func gatedRMSNorm() {
        let rows = 4, cols = 12, layer = GatedRMSNorm(rows: rows, cols: cols, groupSize: 6, eps: 1e-5)
        let args = [
            "y": randomArray(rows * cols, seed: 40), "z": randomArray(rows * cols, std: 1.5, seed: 41),
            "w": randomArray(cols, std: 0.3, mean: 1, seed: 42),
        ]
        expectPasses(
            "gated-rmsnorm",
            GradientCheck(
                args: args,
                forward: { a in
                    layer.forward(a["y"]!, a["z"]!, weight: a["w"]!).out.doubles
                },
                backward: { a, d in
                    var dw = [Float](repeating: 0, count: cols)
                    let inv = layer.forward(a["y"]!, a["z"]!, weight: a["w"]!).invRMS
                    let g = layer.backward(d, y: a["y"]!, z: a["z"]!, weight: a["w"]!, invRMS: inv, dWeight: &dw)
                    return ["y": g.dy, "z": g.dz, "w": dw]
                }))
    }

    @Test(arguments: [ScanDirection.causal, .reverse, .bidirectional])
    func mamba2Mixer(direction: ScanDirection) throws {
        let config = try TrainerLayerFixtures.tinyMambaConfig(direction: direction)
        let batch = 2, layer = Mamba2Mixer(config: config)
        let prefix = "L_level.layers.0.mamba2.0"
        var args = TrainerLayerFixtures.parameters(config, prefix: prefix, seed: 43)
        args["u"] = randomArray(batch * config.fullSeqLen * config.hidden, seed: 44)
        var check = compositeCheck(
            args, input: "u",
            forward: { x, p in
                layer.forward(x, params: p, prefix: prefix, batch: batch)
            }, backward: { dy, s, p, g in layer.backward(dy, s, params: p, grads: &g, prefix: prefix, batch: batch) })
        check.steps = Self.steps
        expectPasses("mamba2-\(direction)", check)
    }
}
