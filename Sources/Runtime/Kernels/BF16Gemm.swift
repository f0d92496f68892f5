import CKernels
import TRMCore

/// A weight matrix w [n, k] (fp32, row-major: y = x·wᵀ, PyTorch's Linear layout) rounded to bf16
/// and packed once into the panels `BF16Gemm.multiply` streams (see trm_bf16.h for the layout).
/// Immutable after init, so it may be shared by every thread of a session.
public struct BF16PackedWeights: @unchecked Sendable {
    /// Output columns (rows of w).
    public let n: Int
    /// Depth (columns of w).
    public let k: Int
    /// 64-byte-aligned packed panels: trm_bf16_packed_size(n, k) bf16 values.
    let storage: AlignedBuffer
    let count: Int

    /// Packs `w` [n, k], rows `ldw` floats apart (default k). Throws `.invalidInput` when the sizes
    /// are negative or `w` is too short, `.outOfMemory` when the packed copy cannot be allocated.
    public init(_ w: UnsafeBufferPointer<Float>, n: Int, k: Int, ldw: Int? = nil) throws {
        let ldw = ldw ?? k
        guard n >= 0, k >= 0 else { throw TRMError(.invalidInput, "BF16PackedWeights: negative size [\(n), \(k)]") }
        guard n == 0 || k == 0 || Gemm.fits(w.count, rows: n, cols: k, ld: ldw) else {
            throw TRMError(.invalidInput, "BF16PackedWeights: w [\(n), \(k)] (ldw \(ldw)) needs more than \(w.count) floats")
        }
        self.n = n
        self.k = k
        count = trm_bf16_packed_size(n, k)
        storage = try AlignedBuffer(bytes: AlignedBuffer.checkedSize(count, 2, what: "bf16 weights [\(n), \(k)]"))
        if n > 0, k > 0 {
            trm_bf16_pack_b(w.baseAddress, ldw, n, k, storage.base.assumingMemoryBound(to: UInt16.self))
        }
    }

    /// Packs the matrix w [n, k] whose element [j, p] is `w[j·rowStride + p·colStride]`:
    /// `rowStride: 1, colStride: ldx` packs the transpose of x [k, n] (rows ldx floats apart), as the
    /// trainer's backward products need, without a transposed copy. `split(panels, body)` must call
    /// `body` on disjoint ranges covering 0..<panels (32-column panels, independent: on threads of its
    /// own). Throws `.invalidInput` when the strides are not positive or `w` is too short,
    /// `.outOfMemory` when the packed copy cannot be allocated.
    public init(
        _ w: UnsafeBufferPointer<Float>, n: Int, k: Int, rowStride: Int, colStride: Int,
        split: (_ panels: Int, _ body: (Range<Int>) -> Void) -> Void = { panels, body in body(0..<panels) }
    ) throws {
        try Gemm.checkStrided("BF16PackedWeights", w.count, rows: n, cols: k, rowStride: rowStride, colStride: colStride)
        self.n = n
        self.k = k
        count = trm_bf16_packed_size(n, k)
        storage = try AlignedBuffer(bytes: AlignedBuffer.checkedSize(count, 2, what: "bf16 weights [\(n), \(k)]"))
        guard n > 0, k > 0 else { return }
        let out = storage.base.assumingMemoryBound(to: UInt16.self), src = w.baseAddress!, panel = Int(TRM_BF16_PANEL)
        let panelElements = panel * ((k + 1) / 2 * 2)
        split((n + panel - 1) / panel) { range in
            let j0 = range.lowerBound * panel, cols = min(n, range.upperBound * panel) - j0
            if cols > 0 {
                trm_bf16_pack_b_strided(
                    src + j0 * rowStride, rowStride, colStride, cols, k, out + range.lowerBound * panelElements)
            }
        }
    }

    /// Packs `w` [n, k] (row-major, exactly n·k floats).
    public init(_ w: [Float], n: Int, k: Int) throws {
        let (count, overflow) = n.multipliedReportingOverflow(by: k)
        guard n >= 0, k >= 0, !overflow, w.count == count else {
            throw TRMError(.invalidInput, "BF16PackedWeights: w has \(w.count) floats, not [\(n), \(k)]")
        }
        self = try w.withUnsafeBufferPointer { try BF16PackedWeights($0, n: n, k: k) }
    }

    /// The packed bf16 values, in the panel order of trm_bf16_pack_b.
    var packed: UnsafeBufferPointer<UInt16> {
        UnsafeBufferPointer(start: storage.base.assumingMemoryBound(to: UInt16.self), count: count)
    }

    /// Bytes of packed storage (half of the fp32 weights, plus the padding of the last panel and of
    /// an odd k).
    public var bytes: Int { count * 2 }
}

/// `out = x·wᵀ (+ bias)` with w held in bf16 (`BF16PackedWeights`) and x rounded to bf16 on the
/// fly, products summed in fp32: on AVX512_BF16 CPUs (VDPBF16PS), elsewhere on a portable path
/// with the same rounding. One call runs on the calling thread; calls on disjoint rows of `out`
/// with their own workspaces may run at once. Shapes and buffer sizes are checked: a mismatch is
/// an `.invalidInput` error.
public enum BF16Gemm {
    /// Whether `multiply` runs on VDPBF16PS (the CPU has AVX512_BF16 and the OS saves zmm state);
    /// when false it takes the portable path, many times slower.
    public static let isSupported: Bool = trm_cpu_has_avx512bf16() != 0

    /// Floats of workspace `multiply` needs for `m` rows of depth `k` (at most 144 × 256).
    public static func workspaceFloats(m: Int, k: Int) -> Int { trm_bf16_gemm_workspace(max(0, m), max(0, k)) }

    /// Floats of workspace that suffice for any `multiply` (its row and depth blocks are bounded).
    public static let maxWorkspaceFloats = workspaceFloats(m: 1 << 30, k: 1 << 30)

    /// `out[i, j] = (accumulate ? out[i, j] : 0) + bias[j] + Σ_p bf16(x[i, p])·w[j, p]` for i < m,
    /// j < w.n, p < w.k. Rows of x and out are `lda` and `ldc` floats apart; `bias` holds w.n
    /// floats; `workspace` holds `workspaceFloats(m:k:)` floats. `out` must not overlap x, bias or
    /// the workspace. With AVX512_BF16 denormal inputs count as zero (VDPBF16PS flushes them).
    public static func multiply(
        _ x: UnsafeBufferPointer<Float>, lda: Int, m: Int, _ w: BF16PackedWeights, bias: UnsafeBufferPointer<Float>? = nil,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool = false, workspace: UnsafeMutableBufferPointer<Float>
    ) throws {
        try multiply(x, lda: lda, m: m, w, bias: bias, out, ldc: ldc, accumulate: accumulate, workspace: workspace, portable: false)
    }

    /// `multiply`, on the portable path when `portable` (what CPUs without AVX512_BF16 run; tests).
    static func multiply(
        _ x: UnsafeBufferPointer<Float>, lda: Int, m: Int, _ w: BF16PackedWeights, bias: UnsafeBufferPointer<Float>?,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>,
        portable: Bool
    ) throws {
        let (n, k) = (w.n, w.k)
        guard m >= 0 else { throw TRMError(.invalidInput, "BF16Gemm.multiply: negative row count \(m)") }
        guard m > 0, n > 0 else { return }
        guard Gemm.fits(out.count, rows: m, cols: n, ld: ldc) else {
            throw TRMError(.invalidInput, "BF16Gemm.multiply: out [\(m), \(n)] (ldc \(ldc)) needs more than \(out.count) floats")
        }
        guard k == 0 || Gemm.fits(x.count, rows: m, cols: k, ld: lda) else {
            throw TRMError(.invalidInput, "BF16Gemm.multiply: x [\(m), \(k)] (lda \(lda)) needs more than \(x.count) floats")
        }
        if let bias, bias.count < n {
            throw TRMError(.invalidInput, "BF16Gemm.multiply: bias has \(bias.count) floats, the weights have \(n) outputs")
        }
        let need = workspaceFloats(m: m, k: k)
        guard workspace.count >= need else {
            throw TRMError(.invalidInput, "BF16Gemm.multiply: the workspace has \(workspace.count) floats, [\(m), \(k)] needs \(need)")
        }
        let b = w.packed.baseAddress, bp = bias?.baseAddress, acc: Int32 = accumulate ? 1 : 0
        if portable {
            trm_bf16_gemm_portable(m, n, k, x.baseAddress, lda, b, out.baseAddress, ldc, bp, acc, workspace.baseAddress)
        } else {
            trm_bf16_gemm(m, n, k, x.baseAddress, lda, b, out.baseAddress, ldc, bp, acc, workspace.baseAddress)
        }
    }

    /// Floats of workspace `multiplyTransposedA` needs (any shape).
    public static let transposedAWorkspaceFloats = trm_bf16_gemm_at_workspace(0, 0)

    /// `out[i, j] = (accumulate ? out[i, j] : 0) + Σ_p bf16(xT[p, i])·w[j, p]` for i < m, j < w.n:
    /// the product with its left operand given transposed (xT [w.k, m], rows `ldxT` floats apart),
    /// each block transposed as the kernel packs it (the weight gradient dYᵀ·x without writing dYᵀ);
    /// `workspace` holds `transposedAWorkspaceFloats`. Returns false, writing nothing, without
    /// AVX512_BF16 (the caller transposes and calls `multiply`). Throws `.invalidInput` on a shape
    /// that does not fit.
    public static func multiplyTransposedA(
        _ xT: UnsafeBufferPointer<Float>, ldxT: Int, m: Int, _ w: BF16PackedWeights,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>
    ) throws -> Bool {
        let (n, k) = (w.n, w.k)
        guard m >= 0 else { throw TRMError(.invalidInput, "BF16Gemm.multiplyTransposedA: negative row count \(m)") }
        guard Gemm.fits(out.count, rows: m, cols: n, ld: ldc), k == 0 || Gemm.fits(xT.count, rows: k, cols: m, ld: ldxT) else {
            throw TRMError(.invalidInput, "BF16Gemm.multiplyTransposedA: xT [\(k), \(m)] or out [\(m), \(n)] does not fit its buffer")
        }
        guard workspace.count >= transposedAWorkspaceFloats else {
            throw TRMError(
                .invalidInput,
                "BF16Gemm.multiplyTransposedA: the workspace has \(workspace.count) floats, not \(transposedAWorkspaceFloats)")
        }
        guard m > 0, n > 0 else { return isSupported }
        return trm_bf16_gemm_at(
            m, n, k, xT.baseAddress, ldxT, w.packed.baseAddress, out.baseAddress, ldc, accumulate ? 1 : 0, workspace.baseAddress) != 0
    }

    /// The SwiGLU epilogue fused into `multiply`: `out[i, c] = silu(g)·u` for c < w.n/2, with
    /// `[g | u] = bf16(x)·wᵀ + bias` (bias of w.n floats, sums in fp32), `workspace` as `multiply`'s.
    /// Returns false, writing nothing, where the fused form does not run (no AVX512_BF16, w.n/2 not a
    /// multiple of 16, k = 0 or over 6144): the caller then computes the product and `SwiGLU.run`
    /// apart. Throws `.invalidInput` on a shape that does not fit.
    public static func multiplySwiGLU(
        _ x: UnsafeBufferPointer<Float>, lda: Int, m: Int, _ w: BF16PackedWeights, bias: UnsafeBufferPointer<Float>? = nil,
        _ out: UnsafeMutableBufferPointer<Float>, ldo: Int, workspace: UnsafeMutableBufferPointer<Float>
    ) throws -> Bool {
        try Gemm.checkSwiGLU(
            what: "BF16Gemm.multiplySwiGLU", x: x.count, lda: lda, m: m, n: w.n, k: w.k, bias: bias?.count, out: out.count, ldo: ldo)
        guard workspace.count >= maxWorkspaceFloats else {
            throw TRMError(.invalidInput, "BF16Gemm.multiplySwiGLU: the workspace has \(workspace.count) floats, not \(maxWorkspaceFloats)")
        }
        guard m > 0 else { return true }
        let done = trm_bf16_gemm_glu(
            m, w.n / 2, w.k, x.baseAddress, lda, w.packed.baseAddress, out.baseAddress, ldo, bias?.baseAddress, workspace.baseAddress)
        return done != 0
    }

    /// `x` rounded to bf16 (nearest, ties to even; denormals kept; NaN stays NaN), as bit patterns.
    public static func round(_ x: [Float]) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: x.count) { out, done in
            x.withUnsafeBufferPointer { trm_f32_to_bf16($0.baseAddress, out.baseAddress, x.count) }
            done = x.count
        }
    }

    /// bf16 bit patterns widened to fp32 (exact).
    public static func widen(_ h: [UInt16]) -> [Float] {
        [Float](unsafeUninitializedCapacity: h.count) { out, done in
            h.withUnsafeBufferPointer { trm_bf16_to_f32($0.baseAddress, out.baseAddress, h.count) }
            done = h.count
        }
    }
}
