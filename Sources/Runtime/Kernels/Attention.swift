import CKernels
import Foundation

/// Non-causal softmax attention, unfused (separate q, k, v) and fused (qkv split + RoPE +
/// attention). Both gather one head into a per-thread workspace and process queries in tiles, so
/// no S×S tensor is ever held: the largest temporary is a [tile, S] block of scores. Every head dim
/// up to 8192 runs on the C kernel `trm_attention_head` (6×16 register tiles over K and V packed
/// once per head, padded to 16 columns), which allocates nothing; larger ones (and an odd one with
/// RoPE, which configs refuse) on OpenBLAS. With `bf16` (bf16 sessions on AVX512_BF16 CPUs) the two
/// products run on `trm_attention_head_bf16` instead: bf16 operands, fp32 scores and softmax.
public enum Attention {
    /// Query rows per tile of the OpenBLAS path.
    public static let tile = 128

    /// Floats of workspace one call needs for sequence length `seq` and head dim `headDim`.
    public static func workspaceFloats(seq: Int, headDim: Int) -> Int {
        max(
            3 * seq * headDim + min(tile, seq) * seq + 2 * headDim, trm_attention_workspace(seq, headDim),
            trm_attention_bf16_workspace(seq, headDim))
    }

    /// Item `item` = (sample, head) of the unfused op: q, k, v, out are [batch, seq, heads·headDim].
    public static func unfusedItem(
        _ item: Int, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, seq: Int, heads: Int, headDim: Int, bf16: Bool = false,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let w = heads * headDim, b = item / heads, h = item % heads
        let base = b * seq * w + h * headDim
        head(
            q: q + base, k: k + base, v: v + base, stride: w, rope: nil, out: out + base, outStride: w,
            seq: seq, headDim: headDim, bf16: bf16, workspace: workspace)
    }

    /// Item (sample, head) of the fused op: qkv [batch, seq, 3·heads·headDim] (q | k | v, head-major),
    /// out [batch, seq, heads·headDim].
    public static func fusedItem(
        _ item: Int, qkv: UnsafePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, seq: Int, heads: Int, headDim: Int, bf16: Bool = false,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let w = heads * headDim, b = item / heads, h = item % heads
        let base = b * seq * 3 * w + h * headDim
        head(
            q: qkv + base, k: qkv + base + w, v: qkv + base + 2 * w, stride: 3 * w, rope: (cos, sin),
            out: out + b * seq * w + h * headDim, outStride: w, seq: seq, headDim: headDim, bf16: bf16, workspace: workspace)
    }

    /// In-place softmax of one row (vectorised C loop).
    @inline(__always)
    static func softmaxRow(_ s: UnsafeMutablePointer<Float>, count n: Int) { trm_softmax_row(s, n) }

    /// One head: rows of q/k/v are `stride` floats apart.
    static func head(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int,
        rope: (UnsafePointer<Float>, UnsafePointer<Float>)?, out: UnsafeMutablePointer<Float>, outStride: Int,
        seq: Int, headDim: Int, bf16: Bool = false, workspace: UnsafeMutablePointer<Float>
    ) {
        let d = headDim
        if bf16, trm_attention_head_bf16(q, k, v, stride, rope?.0, rope?.1, out, outStride, seq, d, workspace) != 0 { return }
        if trm_attention_head(q, k, v, stride, rope?.0, rope?.1, out, outStride, seq, d, workspace) != 0 { return }
        let qh = workspace, kh = workspace + seq * d, vh = workspace + 2 * seq * d
        let scores = workspace + 3 * seq * d
        let scale = 1 / Float(d).squareRoot()
        for t in 0..<seq {
            if let (cos, sin) = rope {
                Rope.rotate(q + t * stride, qh + t * d, cos: cos + t * d, sin: sin + t * d, dim: d)
                Rope.rotate(k + t * stride, kh + t * d, cos: cos + t * d, sin: sin + t * d, dim: d)
            } else {
                (qh + t * d).update(from: q + t * stride, count: d)
                (kh + t * d).update(from: k + t * stride, count: d)
            }
            (vh + t * d).update(from: v + t * stride, count: d)
        }
        let keys = UnsafeBufferPointer(start: kh, count: seq * d), values = UnsafeBufferPointer(start: vh, count: seq * d)
        var t0 = 0
        while t0 < seq {
            let rows = min(tile, seq - t0)
            let p = UnsafeMutableBufferPointer(start: scores, count: rows * seq)
            // scores[rows, seq] = scale · Q_tile · Kᵀ
            Gemm.gemm(
                transB: true, m: rows, n: seq, k: d, alpha: scale, UnsafeBufferPointer(start: qh + t0 * d, count: rows * d), lda: d,
                keys, ldb: d, beta: 0, p, ldc: seq)
            for r in 0..<rows { softmaxRow(scores + r * seq, count: seq) }
            // out_tile[rows, d] = P · V, written with the output's row stride.
            Gemm.gemm(
                m: rows, n: d, k: seq, UnsafeBufferPointer(p), lda: seq, values, ldb: d, beta: 0,
                UnsafeMutableBufferPointer(start: out + t0 * outStride, count: (rows - 1) * outStride + d), ldc: outStride)
            t0 += rows
        }
    }
}
