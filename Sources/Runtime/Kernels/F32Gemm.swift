import CKernels
import TRMCore

/// A weight matrix w [n, k] (fp32, row-major: y = x·wᵀ) packed once into the 32-column panels
/// `F32Gemm.multiply` streams (trm_f32_pack_b in ckernels.h). Immutable after init, so every
/// thread of a session may share it.
public struct F32PackedWeights: @unchecked Sendable {
    /// Output columns (rows of w).
    public let n: Int
    /// Depth (columns of w).
    public let k: Int
    let storage: AlignedBuffer
    let count: Int

    /// Packs `w` [n, k] (row-major, exactly n·k floats). Throws `.invalidInput` on a size mismatch,
    /// `.outOfMemory` when the packed copy cannot be allocated.
    public init(_ w: UnsafeBufferPointer<Float>, n: Int, k: Int) throws {
        try self.init(w, n: n, k: k) { panels, body in body(0..<panels) }
    }

    /// The same, the 32-column panels packed by `split(panels, body)`, which must call `body` on
    /// disjoint ranges covering 0..<panels (on threads of its own: panels are independent).
    public init(
        _ w: UnsafeBufferPointer<Float>, n: Int, k: Int, split: (_ panels: Int, _ body: (Range<Int>) -> Void) -> Void
    ) throws {
        let (elements, overflow) = n.multipliedReportingOverflow(by: k)
        guard n >= 0, k >= 0, !overflow, w.count == elements else {
            throw TRMError(.invalidInput, "F32PackedWeights: w has \(w.count) floats, not [\(n), \(k)]")
        }
        try self.init(w, n: n, k: k, rowStride: max(1, k), colStride: 1, split: split)
    }

    /// Packs the matrix w [n, k] whose element [j, p] is `w[j·rowStride + p·colStride]`:
    /// `rowStride: 1, colStride: ldx` packs the transpose of x [k, n] (rows ldx floats apart), as the
    /// trainer's backward products need, without a transposed copy. Panels are packed by `split` as
    /// in `init(_:n:k:split:)`. Throws `.invalidInput` when the strides are not positive or `w` is
    /// too short, `.outOfMemory` when the packed copy cannot be allocated.
    public init(
        _ w: UnsafeBufferPointer<Float>, n: Int, k: Int, rowStride: Int, colStride: Int,
        split: (_ panels: Int, _ body: (Range<Int>) -> Void) -> Void = { panels, body in body(0..<panels) }
    ) throws {
        try Gemm.checkStrided("F32PackedWeights", w.count, rows: n, cols: k, rowStride: rowStride, colStride: colStride)
        self.n = n
        self.k = k
        count = trm_f32_packed_size(n, k)
        storage = try AlignedBuffer(bytes: AlignedBuffer.checkedSize(count, 4, what: "packed fp32 weights [\(n), \(k)]"))
        guard n > 0, k > 0 else { return }
        let out = storage.base.assumingMemoryBound(to: Float.self), src = w.baseAddress!, panel = Self.panel
        split((n + panel - 1) / panel) { range in
            let j0 = range.lowerBound * panel, cols = min(n, range.upperBound * panel) - j0
            if cols > 0 { trm_f32_pack_b_strided(src + j0 * rowStride, rowStride, colStride, cols, k, out + j0 * k) }
        }
    }

    /// Output columns of one packed panel (TRM_BF16_PANEL).
    static let panel = Int(TRM_BF16_PANEL)

    var packed: UnsafePointer<Float> { UnsafePointer(storage.base.assumingMemoryBound(to: Float.self)) }

    /// Bytes of packed storage (the fp32 weights plus the zero columns of the last panel).
    public var bytes: Int { count * 4 }
}

/// `out = x·wᵀ (+ bias)` in fp32 on weights packed at session creation (`F32PackedWeights`), on
/// the AVX-512 tile the bf16 kernels use; on other CPUs sessions keep OpenBLAS (`isSupported`).
public enum F32Gemm {
    /// Whether `multiply` runs here (an AVX-512 CPU); fp32 sessions pack their weights only then.
    public static let isSupported: Bool = trm_f32_gemm_available() != 0

    /// `out[i, j] = (accumulate ? out[i, j] : 0) + bias[j] + Σ_p x[i, p]·w[j, p]` for i < m, j < w.n.
    /// Rows of x and out are `lda` and `ldc` floats apart. Throws `.invalidInput` on a shape that
    /// does not fit the buffers and on a CPU without AVX-512.
    public static func multiply(
        _ x: UnsafeBufferPointer<Float>, lda: Int, m: Int, _ w: F32PackedWeights, bias: UnsafeBufferPointer<Float>? = nil,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool = false
    ) throws {
        let (n, k) = (w.n, w.k)
        guard m >= 0 else { throw TRMError(.invalidInput, "F32Gemm.multiply: negative row count \(m)") }
        guard m > 0, n > 0 else { return }
        guard Gemm.fits(out.count, rows: m, cols: n, ld: ldc), k == 0 || Gemm.fits(x.count, rows: m, cols: k, ld: lda) else {
            throw TRMError(.invalidInput, "F32Gemm.multiply: x [\(m), \(k)] or out [\(m), \(n)] does not fit its buffer")
        }
        if let bias, bias.count < n {
            throw TRMError(.invalidInput, "F32Gemm.multiply: bias has \(bias.count) floats, the weights have \(n) outputs")
        }
        let done = trm_f32_gemm(
            m, n, k, x.baseAddress, lda, w.packed, out.baseAddress, ldc, bias?.baseAddress, accumulate ? 1 : 0)
        guard done != 0 else { throw TRMError(.invalidInput, "F32Gemm.multiply: this CPU lacks AVX-512 (check F32Gemm.isSupported)") }
    }

    /// `out[i, j] = (accumulate ? out[i, j] : 0) + Σ_p xT[p, i]·w[j, p]` for i < m, j < w.n: the
    /// product with its left operand given transposed (xT [w.k, m], rows `ldxT` floats apart), each
    /// block transposed as the kernel needs it (the weight gradient dYᵀ·x without writing dYᵀ).
    /// Throws `.invalidInput` on a shape that does not fit and on a CPU without AVX-512.
    public static func multiplyTransposedA(
        _ xT: UnsafeBufferPointer<Float>, ldxT: Int, m: Int, _ w: F32PackedWeights,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool
    ) throws {
        let (n, k) = (w.n, w.k)
        guard m >= 0 else { throw TRMError(.invalidInput, "F32Gemm.multiplyTransposedA: negative row count \(m)") }
        guard m > 0, n > 0 else { return }
        guard Gemm.fits(out.count, rows: m, cols: n, ld: ldc), k == 0 || Gemm.fits(xT.count, rows: k, cols: m, ld: ldxT) else {
            throw TRMError(.invalidInput, "F32Gemm.multiplyTransposedA: xT [\(k), \(m)] or out [\(m), \(n)] does not fit its buffer")
        }
        let done = trm_f32_gemm_at(m, n, k, xT.baseAddress, ldxT, w.packed, out.baseAddress, ldc, accumulate ? 1 : 0)
        guard done != 0 else {
            throw TRMError(.invalidInput, "F32Gemm.multiplyTransposedA: this CPU lacks AVX-512 (check F32Gemm.isSupported)")
        }
    }

    /// The SwiGLU epilogue fused into the product: `out[i, c] = silu(g)·u` for c < w.n/2, with
    /// `[g | u] = x·wᵀ + bias` (bias of w.n floats). Returns false, writing nothing, where the fused
    /// form does not run (no AVX-512, w.n/2 not a multiple of 16, k = 0): the caller then computes
    /// the product and `SwiGLU.run` apart. Throws `.invalidInput` on a shape that does not fit.
    public static func multiplySwiGLU(
        _ x: UnsafeBufferPointer<Float>, lda: Int, m: Int, _ w: F32PackedWeights, bias: UnsafeBufferPointer<Float>? = nil,
        _ out: UnsafeMutableBufferPointer<Float>, ldo: Int
    ) throws -> Bool {
        let (width, k) = (w.n / 2, w.k)
        try Gemm.checkSwiGLU(
            what: "F32Gemm.multiplySwiGLU", x: x.count, lda: lda, m: m, n: w.n, k: k, bias: bias?.count, out: out.count, ldo: ldo)
        guard m > 0 else { return true }
        return trm_f32_gemm_glu(m, width, k, x.baseAddress, lda, w.packed, out.baseAddress, ldo, bias?.baseAddress) != 0
    }
}
