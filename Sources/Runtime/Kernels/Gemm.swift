import COpenBLAS
import TRMCore

/// Matrix products on OpenBLAS `cblas_sgemm`, behind shape-checked entry points: the one GEMM
/// wrapper of the runtime and the trainer. Every matrix is row-major fp32; an operand is a buffer
/// and a leading dimension (the distance between its rows), so sub-blocks such as one attention
/// head are addressed in place. Each call checks the sizes, the leading dimensions and that every
/// element it touches lies inside its buffer (a violation stops the program).
public enum Gemm {
    /// `c[m, n] = alpha · op(a) · op(b) + beta · c`, where op(a) is [m, k] and op(b) is [k, n].
    /// With `transA`, a is stored [k, m]; with `transB`, b is stored [n, k]. Rows of a, b and c are
    /// `lda`, `ldb` and `ldc` floats apart. For k = 0 the product is zero, so c becomes `beta · c`
    /// (exactly 0 when `beta` is 0).
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        _ a: UnsafeBufferPointer<Float>, lda: Int, _ b: UnsafeBufferPointer<Float>, ldb: Int,
        beta: Float, _ c: UnsafeMutableBufferPointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Gemm.gemm: negative size [\(m), \(k)] · [\(k), \(n)]")
        guard m > 0, n > 0 else { return }
        precondition(fits(c.count, rows: m, cols: n, ld: ldc), "Gemm.gemm: c [\(m), \(n)] (ldc \(ldc)) needs more than \(c.count) floats")
        guard k > 0 else {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        precondition(
            fits(a.count, rows: transA ? k : m, cols: transA ? m : k, ld: lda),
            "Gemm.gemm: a (\(transA ? "[\(k), \(m)]" : "[\(m), \(k)]"), lda \(lda)) needs more than \(a.count) floats")
        precondition(
            fits(b.count, rows: transB ? n : k, cols: transB ? k : n, ld: ldb),
            "Gemm.gemm: b (\(transB ? "[\(n), \(k)]" : "[\(k), \(n)]"), ldb \(ldb)) needs more than \(b.count) floats")
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a.baseAddress, Int32(lda), b.baseAddress, Int32(ldb),
            beta, c.baseAddress, Int32(ldc))
    }

    /// `out[m, n] (+)= x[m, k] · w[n, k]ᵀ`: the graph's MatMul and a Linear's forward (weights
    /// stored [out, in], as PyTorch). With `accumulate`, adds to `out` instead of overwriting it.
    public static func xwt(
        _ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
        _ out: UnsafeMutableBufferPointer<Float>, m: Int, n: Int, k: Int,
        accumulate: Bool = false
    ) {
        gemm(transB: true, m: m, n: n, k: k, x, lda: k, w, ldb: k, beta: accumulate ? 1 : 0, out, ldc: n)
    }

    /// Whether a [rows, cols] matrix with rows `ld` apart (ld ≥ cols, ≥ 1) fits in `count` floats.
    static func fits(_ count: Int, rows: Int, cols: Int, ld: Int) -> Bool {
        guard ld >= max(1, cols) else { return false }
        guard rows > 0, cols > 0 else { return true }
        let (span, overflow) = (rows - 1).multipliedReportingOverflow(by: ld)
        return !overflow && span <= count - cols
    }

    /// Whether `count` floats hold the matrix [rows, cols] whose element [j, p] is at
    /// j·rowStride + p·colStride (both strides positive).
    static func fitsStrided(_ count: Int, rows: Int, cols: Int, rowStride: Int, colStride: Int) -> Bool {
        guard rowStride > 0, colStride > 0 else { return false }
        guard rows > 0, cols > 0 else { return true }
        let (a, o1) = (rows - 1).multipliedReportingOverflow(by: rowStride)
        let (b, o2) = (cols - 1).multipliedReportingOverflow(by: colStride)
        let (last, o3) = a.addingReportingOverflow(b)
        return !o1 && !o2 && !o3 && last < count
    }

    /// Throws `.invalidInput` (naming `what`) unless the sizes are non-negative and `count` floats
    /// hold that strided matrix (`fitsStrided`): the check of every strided packing.
    static func checkStrided(_ what: String, _ count: Int, rows: Int, cols: Int, rowStride: Int, colStride: Int) throws {
        guard rows >= 0, cols >= 0, fitsStrided(count, rows: rows, cols: cols, rowStride: rowStride, colStride: colStride) else {
            throw TRMError(
                .invalidInput, "\(what): [\(rows), \(cols)] with strides \(rowStride), \(colStride) does not fit \(count) floats")
        }
    }

    /// The shape checks of the fused SwiGLU products (`F32Gemm.multiplySwiGLU`,
    /// `BF16Gemm.multiplySwiGLU`): x [m, k] rows `lda` apart, weights of n = 2·width outputs (n even),
    /// a bias of n floats if any, out [m, width] rows `ldo` apart.
    static func checkSwiGLU(what: String, x: Int, lda: Int, m: Int, n: Int, k: Int, bias: Int?, out: Int, ldo: Int) throws {
        guard m >= 0 else { throw TRMError(.invalidInput, "\(what): negative row count \(m)") }
        guard n % 2 == 0 else { throw TRMError(.invalidInput, "\(what): the weights have \(n) outputs, not [gate | up] halves") }
        guard m == 0 || (fits(out, rows: m, cols: n / 2, ld: ldo) && (k == 0 || fits(x, rows: m, cols: k, ld: lda))) else {
            throw TRMError(.invalidInput, "\(what): x [\(m), \(k)] or out [\(m), \(n / 2)] does not fit its buffer")
        }
        if let bias, bias < n { throw TRMError(.invalidInput, "\(what): bias has \(bias) floats, the weights have \(n) outputs") }
    }

    /// Sets the number of threads OpenBLAS uses (the runtime sets it explicitly; never left to the
    /// environment).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}
