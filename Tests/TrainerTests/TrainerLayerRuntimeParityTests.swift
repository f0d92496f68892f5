import Foundation
import Testing
import GraphIR
@testable import Runtime
@testable import Trainer

/// Each training forward against the inference runtime's kernel on the same inputs: max |Δ| ≤ 1e-5,
/// so that training and inference compute the same function (differences are summation order and
/// the runtime's vectorised exp, both ~1e-7 relative).
@Suite struct TrainerLayerRuntimeParityTests {
    static let bound: Float = 1e-5

    func expectClose(_ label: String, _ trainer: [Float], _ runtime: [Float]) {
        let d = maxAbsDiff(trainer, runtime)
        print("runtime-parity \(label): max|Δ| = \(String(format: "%.1e", d)) over \(trainer.count) values")
        #expect(d <= Self.bound, "\(label): max |Δ| \(d)")
    }

    /// Calls `body` with a mutable output buffer of `count` floats and returns it.
    func run(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return out
    }

    @Test func linearAndHeads() throws {
        let rows = 9, n = 12, k = 16
        let x = randomArray(rows * k, seed: 70), w = randomArray(n * k, std: 0.25, seed: 71), b = randomArray(n, seed: 72)
        let mine = Linear(inFeatures: k, outFeatures: n).forward(x, rows: rows, weight: w, bias: b)
        let theirs = run(rows * n) { o in
            MatMulKernel.run(x: x, w: w, bias: b, out: o, rows: rows, n: n, k: k, swiGLU: false, scratch: nil)
        }
        expectClose("linear", mine, theirs)
    }

    @Test func residualRMSNorm() {
        let rows = 7, cols = 48, h = randomArray(rows * cols, seed: 73), f = randomArray(rows * cols, std: 3, seed: 74)
        let mine = ResidualRMSNorm(rows: rows, cols: cols, eps: 1e-5).forward(h, f).out
        let theirs = run(rows * cols) { o in Norms.addRMSNorm(h, f, o, rows: rows, cols: cols, bCount: rows * cols, eps: 1e-5) }
        expectClose("residual-rmsnorm", mine, theirs)
    }

    @Test func ropeAndAttention() {
        let batch = 2, seq = 37, heads = 3, hd = 8, w = heads * hd
        let rope = RotaryEmbedding(seq: seq, heads: heads, headDim: hd, theta: 10000)
        let x = randomArray(batch * seq * w, seed: 75)
        let theirsRope = run(x.count) { o in
            Rope.apply(x, o, cos: rope.cos, sin: rope.sin, batch: batch, seq: seq, heads: heads, headDim: hd)
        }
        expectClose("rope", rope.forward(x, batch: batch), theirsRope)

        let q = randomArray(x.count, std: 2, seed: 76), k = randomArray(x.count, std: 2, seed: 77), v = randomArray(x.count, seed: 78)
        let mine = MultiHeadAttention(seq: seq, heads: heads, headDim: hd).forward(q: q, k: k, v: v, batch: batch).out
        var ws = [Float](repeating: 0, count: Attention.workspaceFloats(seq: seq, headDim: hd))
        let theirs = run(x.count) { o in
            ws.withUnsafeMutableBufferPointer { wp in
                for item in 0..<(batch * heads) {
                    Attention.unfusedItem(item, q: q, k: k, v: v, out: o, seq: seq, heads: heads, headDim: hd, workspace: wp.baseAddress!)
                }
            }
        }
        expectClose("attention", mine, theirs)
    }

    /// The whole attn f(h) (qkv, RoPE, attention, o_proj) against the runtime's fused attention.
    @Test func attentionSublayer() {
        let batch = 2, seq = 20, d = 16, heads = 2, hd = 8
        let rope = RotaryEmbedding(seq: seq, heads: heads, headDim: hd, theta: 10000)
        let layer = AttentionSublayer(seq: seq, hidden: d, heads: heads, rope: rope)
        let p = ParameterSet([
            "a.qkv_proj.weight": randomArray(3 * d * d, std: 0.25, seed: 79), "a.o_proj.weight": randomArray(d * d, std: 0.25, seed: 80),
        ])
        let h = randomArray(batch * seq * d, seed: 81)
        let mine = layer.forward(h, params: p, prefix: "a", batch: batch).out
        let qkv = Linear(inFeatures: d, outFeatures: 3 * d).forward(h, rows: batch * seq, weight: p["a.qkv_proj.weight"])
        var ws = [Float](repeating: 0, count: Attention.workspaceFloats(seq: seq, headDim: hd))
        let att = run(batch * seq * d) { o in
            ws.withUnsafeMutableBufferPointer { wp in
                for item in 0..<(batch * heads) {
                    Attention.fusedItem(
                        item, qkv: qkv, cos: rope.cos, sin: rope.sin, out: o, seq: seq, heads: heads, headDim: hd,
                        workspace: wp.baseAddress!)
                }
            }
        }
        let theirs = run(batch * seq * d) { o in
            MatMulKernel.run(x: att, w: p["a.o_proj.weight"], bias: nil, out: o, rows: batch * seq, n: d, k: d, swiGLU: false, scratch: nil)
        }
        expectClose("attn-sublayer", mine, theirs)
    }

    @Test func swiGLUAndMLP() {
        let rows = 10, n = 16, width = 24
        let gu = randomArray(rows * 2 * width, std: 2, seed: 82)
        expectClose(
            "swiglu", SwiGLUActivation(rows: rows, width: width).forward(gu),
            run(rows * width) { o in SwiGLU.run(gu, o, rows: rows, width: width) })
        let p = ParameterSet([
            "m.gate_up_proj.weight": randomArray(2 * width * n, std: 0.25, seed: 83),
            "m.down_proj.weight": randomArray(n * width, std: 0.2, seed: 84),
        ])
        let x = randomArray(rows * n, seed: 85)
        let mine = SwiGLUMLP(rows: rows, features: n, width: width).forward(x, params: p, prefix: "m").out
        var scratch = [Float](repeating: 0, count: MatMulKernel.scratchFloats(n: 2 * width, swiGLU: true))
        let act = run(rows * width) { o in
            scratch.withUnsafeMutableBufferPointer { s in
                MatMulKernel.run(
                    x: x, w: p["m.gate_up_proj.weight"], bias: nil, out: o, rows: rows, n: 2 * width, k: n, swiGLU: true,
                    scratch: s.baseAddress!)
            }
        }
        let theirs = run(rows * n) { o in
            MatMulKernel.run(x: act, w: p["m.down_proj.weight"], bias: nil, out: o, rows: rows, n: n, k: width, swiGLU: false, scratch: nil)
        }
        expectClose("mlp", mine, theirs)
    }

    /// mlp_t as the lowering builds it: transpose, SwiGLU over S, add + RMSNorm over S, transpose back.
    @Test func sequenceMLP() {
        let batch = 2, seq = 11, d = 8, width = 16
        let p = ParameterSet([
            "t.gate_up_proj.weight": randomArray(2 * width * seq, std: 0.3, seed: 86),
            "t.down_proj.weight": randomArray(seq * width, std: 0.25, seed: 87),
        ])
        let h = randomArray(batch * seq * d, seed: 88)
        let mine = SequenceMLP(batch: batch, seq: seq, hidden: d, width: width, eps: 1e-5).forward(h, params: p, prefix: "t").out
        let t = run(h.count) { o in Layout.transposeLast2(h, o, batch: batch, rows: seq, cols: d) }
        let rows = batch * d
        let act = run(rows * width) { o in
            let gu = run(rows * 2 * width) { g in
                MatMulKernel.run(
                    x: t, w: p["t.gate_up_proj.weight"], bias: nil, out: g, rows: rows, n: 2 * width, k: seq, swiGLU: false, scratch: nil)
            }
            SwiGLU.run(gu, o, rows: rows, width: width)
        }
        let f = run(rows * seq) { o in
            MatMulKernel.run(
                x: act, w: p["t.down_proj.weight"], bias: nil, out: o, rows: rows, n: seq, k: width, swiGLU: false, scratch: nil)
        }
        let normed = run(rows * seq) { o in Norms.addRMSNorm(t, f, o, rows: rows, cols: seq, bCount: rows * seq, eps: 1e-5) }
        let theirs = run(h.count) { o in Layout.transposeLast2(normed, o, batch: batch, rows: d, cols: seq) }
        expectClose("mlp_t", mine, theirs)
    }

    @Test func embedding() throws {
        var o = ConfigOverrides()
        o.hidden = 16; o.heads = 2; o.puzzleEmbLen = 2
        var config = try o.apply(to: Preset.trmAttn.config(task: .sudoku, grid: 3))
        config.puzzleEmbNdim = 20
        let layer = InputEmbedding(config: config), batch = 2, d = 16
        let tokens: [Int32] = (0..<(batch * 9)).map { Int32($0 % config.vocab) }
        let table = randomArray(config.vocab * d, seed: 89), puzzle = randomArray(batch * 20, seed: 90)
        let mine = layer.forward(tokens: tokens, puzzleRows: puzzle, tokenTable: table, batch: batch)
        // The lowering: gather + scale, pad the puzzle row to P·D, concat along S.
        let scale = Float(Double(d).squareRoot())
        let tok = run(batch * 9 * d) { out in
            _ = Layout.gather(table, rows: config.vocab, cols: d, tokens, count: tokens.count, out)
            Elementwise.scale(out, out, count: batch * 9 * d, factor: scale)
        }
        let pe = run(batch * 2 * d) { out in
            let scaled = puzzle.map { $0 * scale }
            Layout.pad(scaled, out, outer: batch, axis: 20, inner: 1, after: 2 * d - 20)
        }
        let theirs = run(mine.count) { out in
            pe.withUnsafeBufferPointer { a in
                tok.withUnsafeBufferPointer { b in
                    Layout.concat([a.baseAddress!, b.baseAddress!], axisSizes: [2, 9], out, outer: batch, inner: d)
                }
            }
        }
        expectClose("embedding", mine, theirs)
    }
}
