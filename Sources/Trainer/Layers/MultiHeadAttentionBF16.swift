import CKernels
import Runtime

/// `MultiHeadAttention`'s five products in bf16 (`trm-train --precision bf16`, docs/precision.md):
/// QKᵀ, P·V and, backwards, dO·Vᵀ, Pᵀ·dO, dS·K and dSᵀ·Q, each with both operands rounded to bf16
/// and fp32 sums on `trm_bf16_gemm`, as inference runs QKᵀ and P·V. The softmax, its log-sum-exp,
/// Δ and dS = P ⊙ (dP − Δ) stay fp32. Each product's right operand is packed per head (K, V, Kᵀ)
/// or per query tile (dOᵀ, Qᵀ, straight from the [B, S, H·d] rows with strides); the transposed
/// left operands Pᵀ and dSᵀ are copied with `trm_transpose`.
extension MultiHeadAttention {
    /// One thread part's buffers for the bf16 products of any (sample, head) pair.
    struct BF16Scratch {
        /// K and V [S, d] (the backward's dP = dO·Vᵀ), a [d, S] transpose (Vᵀ forward, Kᵀ
        /// backward), and a query tile's dOᵀ or Qᵀ [d, rows].
        var packK, packV, packT, packTile: [UInt16]
        var transposed: [Float]
        var workspace: [Float]

        init(seq: Int, headDim d: Int, tileRows: Int) {
            func pack(_ n: Int, _ k: Int) -> [UInt16] { [UInt16](repeating: 0, count: trm_bf16_packed_size(n, k)) }
            packK = pack(seq, d)
            packV = packK
            packT = pack(d, seq)
            packTile = pack(d, tileRows)
            transposed = [Float](repeating: 0, count: seq * tileRows)
            workspace = [Float](
                repeating: 0,
                count: max(
                    trm_bf16_gemm_workspace(tileRows, d), trm_bf16_gemm_workspace(tileRows, seq),
                    trm_bf16_gemm_workspace(seq, tileRows)))
        }
    }

    /// c[m, n] (+)= a[m, k] · wᵀ for w [n, k] packed in `packed`; rows of a and c lda/ldc apart.
    private func bf16Product(
        m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int, _ packed: [UInt16], _ c: UnsafeMutablePointer<Float>,
        ldc: Int, accumulate: Bool, _ workspace: inout [Float]
    ) {
        precondition(packed.count >= trm_bf16_packed_size(n, k), "attention bf16: packed operand too small for [\(n), \(k)]")
        precondition(workspace.count >= trm_bf16_gemm_workspace(m, k), "attention bf16: workspace too small for \(m) rows")
        packed.withUnsafeBufferPointer { pp in
            workspace.withUnsafeMutableBufferPointer { ws in
                trm_bf16_gemm(m, n, k, a, lda, pp.baseAddress!, c, ldc, nil, accumulate ? 1 : 0, ws.baseAddress!)
            }
        }
    }

    /// Packs the matrix [n, k] whose element [j, p] is src[j·rowStride + p·colStride].
    private func pack(
        _ src: UnsafePointer<Float>, n: Int, k: Int, rowStride: Int, colStride: Int, into packed: inout [UInt16]
    ) {
        precondition(packed.count >= trm_bf16_packed_size(n, k), "attention bf16: pack buffer too small for [\(n), \(k)]")
        packed.withUnsafeMutableBufferPointer { pp in
            trm_bf16_pack_b_strided(src, rowStride, colStride, n, k, pp.baseAddress!)
        }
    }

    /// `forwardHead` in bf16: scores = scale·bf16(Q)·bf16(K)ᵀ, softmax in fp32, out = bf16(P)·bf16(V).
    func forwardHeadBF16(
        _ pair: Int, _ qp: UnsafeBufferPointer<Float>, _ kp: UnsafeBufferPointer<Float>, _ vp: UnsafeBufferPointer<Float>,
        _ op: UnsafeMutableBufferPointer<Float>, _ lp: UnsafeMutableBufferPointer<Float>, _ sp: UnsafeMutableBufferPointer<Float>,
        tileRows: Int, scratch: inout BF16Scratch
    ) {
        let s = sp.baseAddress!, w = width, d = headDim, b = pair / heads, h = pair % heads
        let base = b * seq * w + h * d, scale = 1 / Float(d).squareRoot()
        pack(kp.baseAddress! + base, n: seq, k: d, rowStride: w, colStride: 1, into: &scratch.packK)
        pack(vp.baseAddress! + base, n: d, k: seq, rowStride: 1, colStride: w, into: &scratch.packT)
        var t0 = 0
        while t0 < seq {
            let rows = min(tileRows, seq - t0)
            bf16Product(
                m: rows, n: seq, k: d, qp.baseAddress! + base + t0 * w, lda: w, scratch.packK, s, ldc: seq, accumulate: false,
                &scratch.workspace)
            for r in 0..<rows {
                let row = s + r * seq
                for j in 0..<seq { row[j] *= scale }
                lp[pair * seq + t0 + r] = Self.softmaxRow(row, count: seq)
            }
            bf16Product(
                m: rows, n: d, k: seq, s, lda: seq, scratch.packT, op.baseAddress! + base + t0 * w, ldc: w, accumulate: false,
                &scratch.workspace)
            t0 += rows
        }
    }

    /// out [S, d] (rows `width` apart) += aᵀ·tile for a [rows, S] (P or dS of a query tile) and
    /// the tile's [rows, d] block of dO or Q (rows `width` apart): aᵀ copied, the tile packed as its
    /// transpose.
    private func addTransposedProduct(
        _ a: UnsafePointer<Float>, tile: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>,
        _ scratch: inout BF16Scratch
    ) {
        scratch.transposed.withUnsafeMutableBufferPointer { tp in
            trm_transpose(a, seq, rows, seq, tp.baseAddress!, rows)
        }
        pack(tile, n: headDim, k: rows, rowStride: 1, colStride: width, into: &scratch.packTile)
        scratch.transposed.withUnsafeBufferPointer { tp in
            bf16Product(
                m: seq, n: headDim, k: rows, tp.baseAddress!, lda: rows, scratch.packTile, out, ldc: width, accumulate: true,
                &scratch.workspace)
        }
    }

    /// `backwardHead` in bf16: the same recomputation and formulas, every product on bf16 operands.
    func backwardHeadBF16(
        _ pair: Int,
        _ inputs: (
            q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, o: UnsafeBufferPointer<Float>,
            lse: UnsafeBufferPointer<Float>, g: UnsafeBufferPointer<Float>
        ),
        _ outputs: (dq: UnsafeMutableBufferPointer<Float>, dk: UnsafeMutableBufferPointer<Float>, dv: UnsafeMutableBufferPointer<Float>),
        _ probs: UnsafeMutableBufferPointer<Float>, _ dScores: UnsafeMutableBufferPointer<Float>,
        tileRows: Int, scratch: inout BF16Scratch
    ) {
        let w = width, d = headDim, b = pair / heads, h = pair % heads, scale = 1 / Float(d).squareRoot()
        let base = b * seq * w + h * d
        let q = inputs.q.baseAddress! + base, k = inputs.k.baseAddress! + base, v = inputs.v.baseAddress! + base
        let o = inputs.o.baseAddress! + base, g = inputs.g.baseAddress! + base
        let p = probs.baseAddress!, ds = dScores.baseAddress!
        pack(k, n: seq, k: d, rowStride: w, colStride: 1, into: &scratch.packK)
        pack(v, n: seq, k: d, rowStride: w, colStride: 1, into: &scratch.packV)
        pack(k, n: d, k: seq, rowStride: 1, colStride: w, into: &scratch.packT)
        var t0 = 0
        while t0 < seq {
            let rows = min(tileRows, seq - t0), qt = q + t0 * w, gt = g + t0 * w
            // P = exp(scale·QKᵀ − lse) and dP = dO·Vᵀ.
            bf16Product(m: rows, n: seq, k: d, qt, lda: w, scratch.packK, p, ldc: seq, accumulate: false, &scratch.workspace)
            bf16Product(m: rows, n: seq, k: d, gt, lda: w, scratch.packV, ds, ldc: seq, accumulate: false, &scratch.workspace)
            for r in 0..<rows {
                let l = inputs.lse[pair * seq + t0 + r], row = p + r * seq
                for j in 0..<seq { row[j] = row[j] * scale - l }
                trm_vexp(row, seq)
                var delta: Float = 0
                for c in 0..<d { delta += gt[r * w + c] * o[(t0 + r) * w + c] }
                // dS, pre-multiplied by the score scale that dQ and dK both carry.
                for j in 0..<seq { ds[r * seq + j] = scale * row[j] * (ds[r * seq + j] - delta) }
            }
            // dV += Pᵀ·dO_tile, dQ_tile = dS·K, dK += dSᵀ·Q_tile.
            addTransposedProduct(p, tile: gt, rows: rows, into: outputs.dv.baseAddress! + base, &scratch)
            bf16Product(
                m: rows, n: d, k: seq, ds, lda: seq, scratch.packT, outputs.dq.baseAddress! + base + t0 * w, ldc: w,
                accumulate: false, &scratch.workspace)
            addTransposedProduct(ds, tile: qt, rows: rows, into: outputs.dk.baseAddress! + base, &scratch)
            t0 += rows
        }
    }
}
