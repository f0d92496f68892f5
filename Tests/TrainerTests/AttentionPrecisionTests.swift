import Foundation
import Runtime
import Testing
@testable import Trainer

/// MultiHeadAttention with its products in bf16 against the fp32 layer (which the gradient checks
/// cover): outputs and all three gradients within bf16's rounding of the operands, not equal to
/// fp32 (the bf16 products ran), and the same bits on any thread count. Runs on any CPU (without
/// AVX512_BF16 the products take the portable path, which rounds the same way).
@Suite struct AttentionPrecisionTests {
    /// max |a − b| over max |b|.
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        let scale = Double(b.map(abs).max() ?? 1)
        return Double(zip(a, b).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-30)
    }

    /// (seq, heads, head dim): one query tile; an odd head dim (bf16 pairs the depth); seq past
    /// `MultiHeadAttention.tile`, so a second, shorter tile runs.
    static let shapes = [(9, 3, 16), (17, 2, 5), (MultiHeadAttention.tile + 5, 2, 8)]

    func run(_ shape: (Int, Int, Int), _ precision: Precision) -> [[Float]] {
        let (seq, heads, d) = shape, batch = 2, n = batch * seq * heads * d
        let layer = MultiHeadAttention(seq: seq, heads: heads, headDim: d)
        let q = randomArray(n, seed: 61), k = randomArray(n, seed: 62), v = randomArray(n, seed: 63), dy = randomArray(n, seed: 64)
        let (out, saved) = layer.forward(q: q, k: k, v: v, batch: batch, precision: precision)
        #expect(saved.precision == precision)
        let g = layer.backward(dy, saved, batch: batch)
        return [out, g.dQ, g.dK, g.dV]
    }

    @Test(arguments: shapes)
    func bf16IsTheFP32AttentionUpToRounding(shape: (Int, Int, Int)) {
        let fp32 = run(shape, .fp32), bf16 = run(shape, .bf16)
        for (name, (b, f)) in zip(["out", "dQ", "dK", "dV"], zip(bf16, fp32)) {
            let e = relativeError(b, f)
            print("attention-bf16 \(shape) \(name): relative error \(String(format: "%.1e", e))")
            // Operands rounded to 8 significant bits (2⁻⁹ relative each), sums in fp32; a score s
            // off by |s|·2⁻⁸ moves its probability by as much relative, so dQ and dK (through dS)
            // land near 1e-2 here.
            #expect(e <= 3e-2, "\(name): relative error \(e)")
            #expect(b != f, "\(name): bit-equal to fp32, so the bf16 products did not run")
        }
    }

    /// fp32 on the packed GEMMs (AVX-512 CPUs) against the OpenBLAS path every other CPU runs:
    /// the same function to fp32 rounding; at the longest sequence not the same bits (both paths
    /// ran: at the short ones both sum in the same order and agree exactly).
    @Test(
        .enabled(if: F32Gemm.isSupported, "needs AVX-512 (this CPU runs fp32 attention on OpenBLAS only)"), arguments: shapes)
    func packedFP32IsTheOpenBLASAttention(shape: (Int, Int, Int)) {
        let packed = run(shape, .fp32)
        let blas = MultiHeadAttention.$packedFP32.withValue(false) { run(shape, .fp32) }
        for (name, (p, b)) in zip(["out", "dQ", "dK", "dV"], zip(packed, blas)) {
            let e = relativeError(p, b)
            #expect(e <= 1e-5, "\(name): relative error \(e)")
        }
        if shape.0 > MultiHeadAttention.tile {
            let identical = packed == blas
            #expect(!identical, "bit-equal: the packed path did not run")
        }
    }

    @Test func bf16IsTheSameOnAnyThreadCount() {
        let one = TrainerThreads.$override.withValue(1) { run((9, 3, 16), .bf16) }
        for t in [2, 3] {
            let other = TrainerThreads.$override.withValue(t) { run((9, 3, 16), .bf16) }
            #expect(other.map { $0.map(\.bitPattern) } == one.map { $0.map(\.bitPattern) }, "threads \(t)")
        }
    }
}
