import COpenBLAS

/// Matrix products on OpenBLAS `cblas_sgemm`, behind shape-checked entry points.
public enum Gemm {
    /// `out[m, n] (+)= x[m, k] · w[n, k]ᵀ`: the graph's MatMul (weights stored [out, in], as PyTorch).
    /// With `accumulate`, adds to `out` instead of overwriting it.
    public static func xwt(_ x: UnsafeBufferPointer<Float>, _ w: UnsafeBufferPointer<Float>,
                           _ out: UnsafeMutableBufferPointer<Float>, m: Int, n: Int, k: Int,
                           accumulate: Bool = false) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Gemm.xwt: negative size")
        precondition(x.count >= m * k && w.count >= n * k && out.count >= m * n,
                     "Gemm.xwt: buffers too small for [\(m), \(k)] · [\(n), \(k)]ᵀ")
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<(m * n) { out[i] = 0 } }
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1,
                    x.baseAddress, Int32(k), w.baseAddress, Int32(k), accumulate ? 1 : 0,
                    out.baseAddress, Int32(n))
    }

    /// Sets the number of threads OpenBLAS uses (the runtime sets it explicitly; never left to the
    /// environment).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}
