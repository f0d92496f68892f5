import CKernels
import Runtime

/// `MultiHeadAttention`'s five products on trm's packed GEMMs: QKᵀ, P·V and, backwards, dO·Vᵀ,
/// Pᵀ·dO, dS·K and dSᵀ·Q. In bf16 (`trm-train --precision bf16`, docs/precision.md) both operands are
/// rounded to bf16 with fp32 sums on `trm_bf16_gemm`, as inference runs QKᵀ and P·V; in fp32 they
/// run on `trm_f32_gemm` (AVX-512 CPUs; elsewhere fp32 attention stays on OpenBLAS, `forwardHead`).
/// The softmax, its log-sum-exp, Δ and dS = P ⊙ (dP − Δ) stay fp32. Each product's right operand is
/// packed per head (K, V, Kᵀ) or per query tile (dOᵀ, Qᵀ, straight from the [B, S, H·d] rows with
/// strides); the transposed left operands Pᵀ and dSᵀ are read in place by the transposed-A GEMMs
/// (copied with `trm_transpose` only for bf16 on CPUs without AVX512_BF16).
extension MultiHeadAttention {
    /// Whether `precision`'s attention products run on the packed GEMMs here (fp32 only where
    /// `F32Gemm` runs, unless a test turns `packedFP32` off to run the OpenBLAS path).
    static func runsPacked(_ precision: Precision) -> Bool { precision == .bf16 || (F32Gemm.isSupported && packedFP32) }

    /// Tests only: false sends fp32 attention to OpenBLAS (`forwardHead`) on any CPU.
    @TaskLocal static var packedFP32 = true

    /// One packed right operand: bf16 pairs or fp32 panels, by the scratch's precision.
    struct PackedOperand {
        var bf16: [UInt16] = []
        var fp32: [Float] = []

        init(n: Int, k: Int, precision: Precision) {
            if precision == .bf16 {
                bf16 = [UInt16](repeating: 0, count: trm_bf16_packed_size(n, k))
            } else {
                fp32 = [Float](repeating: 0, count: trm_f32_packed_size(n, k))
            }
        }
    }

    /// One thread part's buffers for the packed products of any (sample, head) pair.
    struct PackedScratch {
        let precision: Precision
        /// K and V [S, d] (the backward's dP = dO·Vᵀ), a [d, S] transpose (Vᵀ forward, Kᵀ
        /// backward), and a query tile's dOᵀ or Qᵀ [d, rows].
        var packK, packV, packT, packTile: PackedOperand
        /// Pᵀ or dSᵀ of a tile, for bf16 without AVX512_BF16 only.
        var transposed: [Float]
        var workspace: [Float]

        init(seq: Int, headDim d: Int, tileRows: Int, precision: Precision) {
            self.precision = precision
            packK = PackedOperand(n: seq, k: d, precision: precision)
            packV = packK
            packT = PackedOperand(n: d, k: seq, precision: precision)
            packTile = PackedOperand(n: d, k: tileRows, precision: precision)
            let bf16 = precision == .bf16
            transposed = [Float](repeating: 0, count: bf16 && !BF16Gemm.isSupported ? seq * tileRows : 0)
            workspace = [Float](
                repeating: 0,
                count: bf16
                    ? max(
                        trm_bf16_gemm_workspace(tileRows, d), trm_bf16_gemm_workspace(tileRows, seq),
                        trm_bf16_gemm_workspace(seq, tileRows), trm_bf16_gemm_at_workspace(seq, tileRows)) : 0)
        }
    }

    /// c[m, n] (+)= a[m, k] · wᵀ for w [n, k] packed in `packed`; rows of a and c lda/ldc apart.
    private func product(
        m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int, _ packed: PackedOperand, _ c: UnsafeMutablePointer<Float>,
        ldc: Int, accumulate: Bool, _ scratch: inout PackedScratch
    ) {
        let acc: Int32 = accumulate ? 1 : 0
        if scratch.precision == .bf16 {
            precondition(packed.bf16.count >= trm_bf16_packed_size(n, k), "attention bf16: packed operand too small for [\(n), \(k)]")
            precondition(scratch.workspace.count >= trm_bf16_gemm_workspace(m, k), "attention bf16: workspace too small for \(m) rows")
            packed.bf16.withUnsafeBufferPointer { pp in
                scratch.workspace.withUnsafeMutableBufferPointer { ws in
                    trm_bf16_gemm(m, n, k, a, lda, pp.baseAddress!, c, ldc, nil, acc, ws.baseAddress!)
                }
            }
        } else {
            precondition(packed.fp32.count >= trm_f32_packed_size(n, k), "attention fp32: packed operand too small for [\(n), \(k)]")
            let done = packed.fp32.withUnsafeBufferPointer { trm_f32_gemm(m, n, k, a, lda, $0.baseAddress!, c, ldc, nil, acc) }
            precondition(done != 0, "attention fp32: the packed GEMM does not run on this CPU")
        }
    }

    /// Packs the matrix [n, k] whose element [j, p] is src[j·rowStride + p·colStride].
    private func pack(
        _ src: UnsafePointer<Float>, n: Int, k: Int, rowStride: Int, colStride: Int, into packed: inout PackedOperand,
        precision: Precision
    ) {
        if precision == .bf16 {
            precondition(packed.bf16.count >= trm_bf16_packed_size(n, k), "attention bf16: pack buffer too small for [\(n), \(k)]")
            packed.bf16.withUnsafeMutableBufferPointer { trm_bf16_pack_b_strided(src, rowStride, colStride, n, k, $0.baseAddress!) }
        } else {
            precondition(packed.fp32.count >= trm_f32_packed_size(n, k), "attention fp32: pack buffer too small for [\(n), \(k)]")
            packed.fp32.withUnsafeMutableBufferPointer { trm_f32_pack_b_strided(src, rowStride, colStride, n, k, $0.baseAddress!) }
        }
    }

    /// `forwardHead` on the packed GEMMs: scores = scale·Q·Kᵀ, softmax in fp32, out = P·V.
    func forwardHeadPacked(
        _ pair: Int, _ qp: UnsafeBufferPointer<Float>, _ kp: UnsafeBufferPointer<Float>, _ vp: UnsafeBufferPointer<Float>,
        _ op: UnsafeMutableBufferPointer<Float>, _ lp: UnsafeMutableBufferPointer<Float>, _ sp: UnsafeMutableBufferPointer<Float>,
        tileRows: Int, scratch: inout PackedScratch
    ) {
        let s = sp.baseAddress!, w = width, d = headDim, b = pair / heads, h = pair % heads, precision = scratch.precision
        let base = b * seq * w + h * d, scale = 1 / Float(d).squareRoot()
        pack(kp.baseAddress! + base, n: seq, k: d, rowStride: w, colStride: 1, into: &scratch.packK, precision: precision)
        pack(vp.baseAddress! + base, n: d, k: seq, rowStride: 1, colStride: w, into: &scratch.packT, precision: precision)
        var t0 = 0
        while t0 < seq {
            let rows = min(tileRows, seq - t0)
            product(
                m: rows, n: seq, k: d, qp.baseAddress! + base + t0 * w, lda: w, scratch.packK, s, ldc: seq, accumulate: false,
                &scratch)
            for r in 0..<rows {
                let row = s + r * seq
                for j in 0..<seq { row[j] *= scale }
                lp[pair * seq + t0 + r] = Self.softmaxRow(row, count: seq)
            }
            product(
                m: rows, n: d, k: seq, s, lda: seq, scratch.packT, op.baseAddress! + base + t0 * w, ldc: w, accumulate: false,
                &scratch)
            t0 += rows
        }
    }

    /// out [S, d] (rows `width` apart) += aᵀ·tile for a [rows, S] (P or dS of a query tile) and
    /// the tile's [rows, d] block of dO or Q (rows `width` apart): aᵀ read in place by the
    /// transposed-A GEMM, the tile packed as its transpose.
    private func addTransposedProduct(
        _ a: UnsafePointer<Float>, tile: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>,
        _ scratch: inout PackedScratch
    ) {
        let d = headDim
        pack(tile, n: d, k: rows, rowStride: 1, colStride: width, into: &scratch.packTile, precision: scratch.precision)
        if scratch.precision == .fp32 {
            let done = scratch.packTile.fp32.withUnsafeBufferPointer {
                trm_f32_gemm_at(seq, d, rows, a, seq, $0.baseAddress!, out, width, 1)
            }
            precondition(done != 0, "attention fp32: the packed GEMM does not run on this CPU")
            return
        }
        let done = scratch.packTile.bf16.withUnsafeBufferPointer { pp in
            scratch.workspace.withUnsafeMutableBufferPointer { ws in
                trm_bf16_gemm_at(seq, d, rows, a, seq, pp.baseAddress!, out, width, 1, ws.baseAddress!)
            }
        }
        guard done == 0 else { return }
        // No AVX512_BF16: transpose, then the portable product.
        scratch.transposed.withUnsafeMutableBufferPointer { tp in trm_transpose(a, seq, rows, seq, tp.baseAddress!, rows) }
        let transposed = scratch.transposed
        transposed.withUnsafeBufferPointer { tp in
            product(m: seq, n: d, k: rows, tp.baseAddress!, lda: rows, scratch.packTile, out, ldc: width, accumulate: true, &scratch)
        }
    }

    /// `backwardHead` on the packed GEMMs: the same recomputation and formulas.
    func backwardHeadPacked(
        _ pair: Int,
        _ inputs: (
            q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, o: UnsafeBufferPointer<Float>,
            lse: UnsafeBufferPointer<Float>, g: UnsafeBufferPointer<Float>
        ),
        _ outputs: (dq: UnsafeMutableBufferPointer<Float>, dk: UnsafeMutableBufferPointer<Float>, dv: UnsafeMutableBufferPointer<Float>),
        _ probs: UnsafeMutableBufferPointer<Float>, _ dScores: UnsafeMutableBufferPointer<Float>,
        tileRows: Int, scratch: inout PackedScratch
    ) {
        let w = width, d = headDim, b = pair / heads, h = pair % heads, scale = 1 / Float(d).squareRoot()
        let base = b * seq * w + h * d, precision = scratch.precision
        let q = inputs.q.baseAddress! + base, k = inputs.k.baseAddress! + base, v = inputs.v.baseAddress! + base
        let o = inputs.o.baseAddress! + base, g = inputs.g.baseAddress! + base
        let p = probs.baseAddress!, ds = dScores.baseAddress!
        pack(k, n: seq, k: d, rowStride: w, colStride: 1, into: &scratch.packK, precision: precision)
        pack(v, n: seq, k: d, rowStride: w, colStride: 1, into: &scratch.packV, precision: precision)
        pack(k, n: d, k: seq, rowStride: 1, colStride: w, into: &scratch.packT, precision: precision)
        var t0 = 0
        while t0 < seq {
            let rows = min(tileRows, seq - t0), qt = q + t0 * w, gt = g + t0 * w
            // P = exp(scale·QKᵀ − lse) and dP = dO·Vᵀ.
            product(m: rows, n: seq, k: d, qt, lda: w, scratch.packK, p, ldc: seq, accumulate: false, &scratch)
            product(m: rows, n: seq, k: d, gt, lda: w, scratch.packV, ds, ldc: seq, accumulate: false, &scratch)
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
            product(
                m: rows, n: d, k: seq, ds, lda: seq, scratch.packT, outputs.dq.baseAddress! + base + t0 * w, ldc: w,
                accumulate: false, &scratch)
            addTransposedProduct(ds, tile: qt, rows: rows, into: outputs.dk.baseAddress! + base, &scratch)
            t0 += rows
        }
    }
}
