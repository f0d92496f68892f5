import Foundation
import Testing
import TestSupport
@testable import Runtime
import GraphIR

/// The attention kernels against a naive double-precision reference: the C head kernel (head dims
/// that are multiples of 16) and the OpenBLAS path (others), with and without RoPE, for sequence
/// lengths below, at and across the query tile and the 6-row and 16-key blocks.
@Suite struct AttentionTests {
    /// Naive reference for one head of the fused layout qkv [batch, seq, 3·heads·d].
    static func reference(qkv: [Float], cos: [Float]?, sin: [Float]?, batch: Int, seq: Int, heads: Int, d: Int) -> [Float] {
        let w = heads * d
        var out = [Float](repeating: 0, count: batch * seq * w)
        func rotated(_ row: Int, _ offset: Int, _ t: Int) -> [Double] {
            let v = (0..<d).map { Double(qkv[row * 3 * w + offset + $0]) }
            guard let cos, let sin else { return v }
            let half = d / 2
            return (0..<d).map { i in
                let rot = i < half ? -v[i + half] : v[i - half]
                return v[i] * Double(cos[t * d + i]) + rot * Double(sin[t * d + i])
            }
        }
        for b in 0..<batch {
            for h in 0..<heads {
                let qs = (0..<seq).map { rotated(b * seq + $0, h * d, $0) }
                let ks = (0..<seq).map { rotated(b * seq + $0, w + h * d, $0) }
                for t in 0..<seq {
                    let scores = (0..<seq).map { s in zip(qs[t], ks[s]).map { $0 * $1 }.reduce(0, +) / Double(d).squareRoot() }
                    let m = scores.max()!
                    let e = scores.map { Foundation.exp($0 - m) }
                    let z = e.reduce(0, +)
                    for i in 0..<d {
                        var acc = 0.0
                        for s in 0..<seq { acc += e[s] / z * Double(qkv[(b * seq + s) * 3 * w + 2 * w + h * d + i]) }
                        out[(b * seq + t) * w + h * d + i] = Float(acc)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: [
        (16, 5, true), (16, 126, false), (32, 131, true), (64, 40, true), (8, 23, true), (24, 19, false), (2, 9, true), (10, 140, true),
        (7, 13, false), (50, 33, true), (520, 7, true),
    ])
    func fusedMatchesReference(d: Int, seq: Int, rope: Bool) {
        Self.check(d: d, seq: seq, rope: rope, bf16: false)
    }

    /// The bf16 kernel (Q, K, V and the softmax's exps rounded to bf16, u = 2⁻⁹): an output is a
    /// convex combination of V rows, so its error is about u·|v| plus the score errors' effect
    /// (u·|q||k| ≈ 2⁻⁹·√d·|v|-scaled logits): NMSE ≈ 1e-5 measured, bound 1e-4; a wrong panel layout
    /// or a dropped 1/Σ gives NMSE near 1 or far above. Without AVX512_BF16 the kernel declines and
    /// the fp32 one runs (fp32's bound then holds, and the test says so).
    @Test(arguments: [
        (16, 5, true), (16, 126, false), (32, 131, true), (64, 40, true), (64, 270, true), (8, 23, true), (24, 19, false),
        (2, 9, true), (10, 140, true), (7, 13, false), (50, 33, true), (520, 7, true), (33, 200, false),
    ])
    func bf16MatchesReference(d: Int, seq: Int, rope: Bool) {
        if !BF16Gemm.isSupported { print("AttentionTests: this CPU lacks AVX512_BF16; the bf16 attention kernel is not exercised") }
        Self.check(d: d, seq: seq, rope: rope, bf16: true)
    }

    /// Runs the fused (rope) or unfused op on random values and compares with `reference`.
    static func check(d: Int, seq: Int, rope: Bool, bf16: Bool) {
        let batch = 2, heads = 2, w = heads * d
        let qkv = SampleGraphs.values(batch * seq * 3 * w, seed: UInt64(d * 1000 + seq))
        var cos = [Float](repeating: 0, count: seq * d), sin = cos
        cos.withUnsafeMutableBufferPointer { c in
            sin.withUnsafeMutableBufferPointer { s in
                Rope.table(cos: c.baseAddress!, sin: s.baseAddress!, seqLen: seq, dim: d, theta: 10000)
            }
        }
        var out = [Float](repeating: .nan, count: batch * seq * w)
        var workspace = [Float](repeating: .nan, count: Attention.workspaceFloats(seq: seq, headDim: d))
        qkv.withUnsafeBufferPointer { qp in
            cos.withUnsafeBufferPointer { cp in
                sin.withUnsafeBufferPointer { sp in
                    out.withUnsafeMutableBufferPointer { op in
                        workspace.withUnsafeMutableBufferPointer { ws in
                            for item in 0..<(batch * heads) {
                                guard rope else { continue }
                                Attention.fusedItem(
                                    item, qkv: qp.baseAddress!, cos: cp.baseAddress!, sin: sp.baseAddress!, out: op.baseAddress!,
                                    seq: seq, heads: heads, headDim: d, bf16: bf16, workspace: ws.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        if !rope {
            // Unfused op: separate q, k, v [batch, seq, w].
            var q = [Float](), k = [Float](), v = [Float]()
            for r in 0..<(batch * seq) {
                let row: Int = r * 3 * w
                q.append(contentsOf: qkv[row..<(row + w)])
                k.append(contentsOf: qkv[(row + w)..<(row + 2 * w)])
                v.append(contentsOf: qkv[(row + 2 * w)..<(row + 3 * w)])
            }
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        out.withUnsafeMutableBufferPointer { op in
                            workspace.withUnsafeMutableBufferPointer { ws in
                                for item in 0..<(batch * heads) {
                                    Attention.unfusedItem(
                                        item, q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, out: op.baseAddress!,
                                        seq: seq, heads: heads, headDim: d, bf16: bf16, workspace: ws.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        let expected = Self.reference(qkv: qkv, cos: rope ? cos : nil, sin: rope ? sin : nil, batch: batch, seq: seq, heads: heads, d: d)
        let what = "d \(d) seq \(seq) rope \(rope)\(bf16 ? " bf16" : "")"
        if bf16 && BF16Gemm.isSupported {
            KernelCheck.expectClose(out, expected.map(Double.init), what, nmse: 1e-4)
            #expect(KernelCheck.nmse(out, expected.map(Double.init)) > 1e-12, "\(what): exact fp32 result, the bf16 kernel did not run")
        } else {
            KernelCheck.expectClose(out, expected.map(Double.init), what)
        }
    }
}
