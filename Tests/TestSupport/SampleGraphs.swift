import GraphIR
import TRMCore
/// Small hand-built graphs with deterministic weights, for tests, fuzz seed corpora and interop checks.
public enum SampleGraphs {
    /// Deterministic pseudo-random weights in [-scale, scale).
    public static func values(_ count: Int, seed: UInt64, scale: Float = 0.5) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
    }

    /// A graph that uses every op of `Op` at least once (B × 6 tokens, width 8), with outputs
    /// `y [B, 6, 8]`, `pred [B, 6] int32` and `gate [B, 6, 8]`.
    public static func everyOp() throws -> Graph {
        var b = GraphBuilder(name: "every_op")
        var seed: UInt64 = 1
        func w(_ name: String, _ dims: [Int], scale: Float = 0.5) throws -> String {
            seed += 1
            return try b.constant(name, dims, values(dims.reduce(1, *), seed: seed, scale: scale))
        }
        let tokens = try b.input("tokens", TensorType(.int32, Shape(batched: [4])))
        let z = try b.input("z", TensorType(.float32, Shape(batched: [6, 8])))
        let emb = try b.add(.gather, [try w("table", [5, 8]), tokens])  // [B,4,8]
        let padded = try b.add(.pad(axis: 1, after: 2), [emb])  // [B,6,8]
        let x0 = try b.add(.add, [padded, z])
        let x1 = try b.add(.mul, [x0, try w("gain", [8])])
        let x2 = try b.add(.rmsNorm(eps: 1e-5), [try b.add(.scale(factor: 0.5), [x1])])
        let table = try b.addNode(.ropeTable(seqLen: 6, dim: 4, theta: 10000), [])
        let q = try b.add(.rope(heads: 2, headDim: 4), [x2, table[0], table[1]])
        let att = try b.add(.attention(heads: 2, headDim: 4), [q, q, x2])
        let proj = try b.add(.matMul(epilogue: .none), [att, try w("w_o", [8, 8]), try w("b_o", [8])])
        let glu = try b.add(.matMul(epilogue: .swiGLU), [proj, try w("w_gu", [16, 8])])
        let glu2 = try b.add(.swiGLU, [try b.add(.matMul(epilogue: .none), [glu, try w("w_gu2", [16, 8])])])
        let t = try b.add(.transpose(perm: [0, 2, 1]), [glu2])  // [B,8,6]
        let cat = try b.add(.concat(axis: 2), [t, t])  // [B,8,12]
        let sl = try b.add(.slice(axis: 2, start: 3, end: 9), [cat])  // [B,8,6]
        let back = try b.add(.reshape(shape: [6, 8]), [sl])  // [B,6,8]
        let conv = try b.add(.conv1dCausal(reverse: false), [back, try w("conv_w", [8, 1, 3]), try w("conv_b", [8])])
        let xs = try b.add(.silu, [conv])
        let dt = try b.add(.softplus, [try b.add(.matMul(epilogue: .none), [xs, try w("w_dt", [2, 8])])])
        let a = try b.add(.scale(factor: -1), [try b.add(.exp, [try w("a_log", [2])])])
        let bm = try b.add(.matMul(epilogue: .none), [xs, try w("w_b", [4, 8])])
        let cm = try b.add(.matMul(epilogue: .none), [xs, try w("w_c", [4, 8])])
        let dims = Mamba2Dims(heads: 2, headDim: 4, dState: 4, groups: 1)
        let y = try b.add(.ssmScan(dims), [xs, dt, a, bm, cm, try w("d_skip", [2])])
        let gated = try b.add(.gatedRMSNorm(groupSize: 4, eps: 1e-5), [y, x2, try w("norm_w", [8])])
        let res = try b.add(.addRMSNorm(eps: 1e-5), [gated, x2])
        let qkv = try b.add(.matMul(epilogue: .none), [res, try w("w_qkv", [24, 8])])
        let fa = try b.add(.fusedAttention(heads: 2, headDim: 4), [qkv, table[0], table[1]])
        let zx = try b.add(.matMul(epilogue: .none), [fa, try w("w_in", [26, 8])])  // 2E+2GN+H = 26
        var reverse = dims
        reverse.reverse = true
        let gate = try b.add(
            .mamba2ScanGate(reverse, convKernel: 3, eps: 1e-5),
            [
                zx, try w("m_conv_w", [16, 1, 3]), try w("m_conv_b", [16]), try w("m_dt_bias", [2]),
                a, try w("m_d", [2]), try w("m_norm", [8]),
            ], name: "gate")
        let out = try b.add(.sigmoid, [try b.add(.add, [gate, res])], name: "y")
        _ = try b.add(.argmax, [out], name: "pred")
        try b.output("y")
        try b.output("pred")
        try b.output("gate")
        return try b.build()
    }

    /// The smallest useful graph: `y = x·Wᵀ` for x [B, 3].
    public static func tiny() throws -> Graph {
        var b = GraphBuilder(name: "tiny")
        let x = try b.input("x", TensorType(.float32, Shape(batched: [3])))
        try b.add(.matMul(epilogue: .none), [x, try b.constant("w", [2, 3], [1, 2, 3, 4, 5, 6])], name: "y")
        try b.output("y")
        return try b.build()
    }
}
