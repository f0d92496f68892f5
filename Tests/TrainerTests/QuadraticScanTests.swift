import Foundation
import Testing
@testable import Trainer

/// The scan's quadratic form against its recurrence at the Sudoku 9×9 reference shape (L 97, P 64,
/// N 128, where the trainer's 16 heads take the quadratic form; here fewer heads and two groups,
/// both forms chosen explicitly), at the shipped models' head shape (P 32, N 16: the recurrent
/// backward's one-register path) and at P 24 (rows past the backward's 16-row reductions): forward
/// and every gradient agree to fp32 rounding of sums over ~100 tokens. The gradient checks at small
/// sizes are in `TrainerLayerMambaGradientTests`.
@Suite struct QuadraticScanTests {
    static let seq = 97, heads = 4, groups = 2, batch = 2
    /// (head dim P, state size N).
    static let shapes = [(64, 128), (32, 16), (24, 16)]

    func layer(_ form: SelectiveScan.Form, reverse: Bool, p: Int, n: Int) -> SelectiveScan {
        SelectiveScan(
            seq: Self.seq, heads: Self.heads, headDim: p, dState: n, groups: Self.groups, reverse: reverse, form: form)
    }

    /// max |a − b| relative to the largest |b|.
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        let scale = Double(b.map(abs).max() ?? 1)
        return Double(zip(a, b).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-30)
    }

    @Test(arguments: [false, true], [0, 1, 2])
    func quadraticFormIsTheRecurrence(reverse: Bool, shape: Int) {
        let (seq, heads, groups, batch) = (Self.seq, Self.heads, Self.groups, Self.batch)
        let (p, n) = Self.shapes[shape]
        let x = randomArray(batch * seq * heads * p, seed: 201), dt = uniformArray(batch * seq * heads, 0.001, 0.3, seed: 202)
        let a = uniformArray(heads, -8, -0.5, seed: 203), d = randomArray(heads, seed: 204)
        let bm = randomArray(batch * seq * groups * n, std: 0.3, seed: 205)
        let cm = randomArray(batch * seq * groups * n, std: 0.3, seed: 206)
        let dy = randomArray(x.count, seed: 207)
        var results: [SelectiveScan.Form: ([Float], SelectiveScan.Gradients)] = [:]
        for form in [SelectiveScan.Form.recurrent, .quadratic] {
            let l = layer(form, reverse: reverse, p: p, n: n)
            let y = l.forward(x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, batch: batch)
            results[form] = (y, l.backward(dy, x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, batch: batch))
        }
        let (yq, gq) = results[.quadratic]!, (yr, gr) = results[.recurrent]!
        let pairs: [(String, [Float], [Float])] = [
            ("y", yq, yr), ("dx", gq.dx, gr.dx), ("dDt", gq.dDt, gr.dDt), ("dA", gq.dA, gr.dA),
            ("dB", gq.dB, gr.dB), ("dC", gq.dC, gr.dC), ("dD", gq.dD, gr.dD),
        ]
        for (name, q, r) in pairs {
            let e = relativeError(q, r)
            print("quadratic-vs-recurrent P \(p) N \(n) reverse=\(reverse) \(name): relative error \(String(format: "%.1e", e))")
            #expect(e <= 1e-4, "P \(p) N \(n) \(name): relative error \(e)")
        }
        // The comparison can fail: a quadratic form without the decay is another function.
        let noDecay = layer(.quadratic, reverse: reverse, p: p, n: n).forward(
            x: x, dt: dt, a: [Float](repeating: 0, count: heads), bm: bm, cm: cm, d: d, batch: batch)
        #expect(relativeError(noDecay, yr) > 1e-2)
    }

    @Test func preferredFormFollowsTheFLOPs() {
        // Sudoku 9×9 reference (L 97, 16 heads of 64, N 128): a third of the recurrence's FLOPs.
        #expect(SelectiveScan.preferredForm(seq: 97, heads: 16, headDim: 64, dState: 128, groups: 1) == .quadratic)
        // The shipped Maze 9×9 models (L 82, 8 heads of 32, N 16): the recurrence is cheap there.
        #expect(SelectiveScan.preferredForm(seq: 82, heads: 8, headDim: 32, dState: 16, groups: 1) == .recurrent)
        // ARC (L 916): quadratic work would be three times the recurrence's.
        #expect(SelectiveScan.preferredForm(seq: 916, heads: 16, headDim: 64, dState: 128, groups: 1) == .recurrent)
        #expect(SelectiveScan(seq: 97, heads: 16, headDim: 64, dState: 128, groups: 1, reverse: false).form == .quadratic)
        #expect(SelectiveScan(seq: 97, heads: 16, headDim: 64, dState: 128, groups: 1, reverse: false, form: .recurrent).form == .recurrent)
    }
}
