import COpenBLAS
import Runtime

/// Row-major fp32 matrix products for the trainer's layers. A backward needs the two transposed
/// forms besides the forward `x·Wᵀ`; leading dimensions are explicit so that attention heads and
/// sub-blocks are addressed in place instead of being gathered.
enum Blas {
    /// c[m, n] = alpha · op(a) · op(b) + beta · c, where op(a) is [m, k] and op(b) is [k, n]
    /// (`transA`: a is stored [k, m]; `transB`: b is stored [n, k]).
    static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Blas.gemm: negative size")
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // BLAS leaves c untouched for k = 0 only when beta = 1; make it explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[m, n] = x[m, k] · w[n, k]ᵀ: the forward of a Linear (weights stored [out, in]).
    static func xwt(_ x: [Float], _ w: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(x.count == m * k && w.count == n * k, "Blas.xwt: [\(m), \(k)] · [\(n), \(k)]ᵀ got \(x.count), \(w.count)")
        // beta = 0 writes every element, so the result needs no zero fill first.
        guard m * n > 0, k > 0 else { return [Float](repeating: 0, count: m * n) }
        return [Float](unsafeUninitializedCapacity: m * n) { yp, initialized in
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    gemm(transB: true, m: m, n: n, k: k, xp.baseAddress!, lda: k, wp.baseAddress!, ldb: k,
                         beta: 0, yp.baseAddress!, ldc: n)
                }
            }
            initialized = m * n
        }
    }

    /// dx[m, k] = dy[m, n] · w[n, k]: the input gradient of a Linear.
    static func dyw(_ dy: [Float], _ w: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(dy.count == m * n && w.count == n * k, "Blas.dyw: [\(m), \(n)] · [\(n), \(k)] got \(dy.count), \(w.count)")
        guard m * k > 0, n > 0 else { return [Float](repeating: 0, count: m * k) }
        return [Float](unsafeUninitializedCapacity: m * k) { xp, initialized in
            dy.withUnsafeBufferPointer { dp in
                w.withUnsafeBufferPointer { wp in
                    gemm(m: m, n: k, k: n, dp.baseAddress!, lda: n, wp.baseAddress!, ldb: k, beta: 0, xp.baseAddress!, ldc: k)
                }
            }
            initialized = m * k
        }
    }

    /// dw[n, k] += dy[m, n]ᵀ · x[m, k]: the weight gradient of a Linear, summed over the m rows.
    static func accumulateDyTx(_ dy: [Float], _ x: [Float], into dw: inout [Float], m: Int, n: Int, k: Int) {
        precondition(dy.count == m * n && x.count == m * k && dw.count == n * k,
                     "Blas.accumulateDyTx: [\(m), \(n)]ᵀ · [\(m), \(k)] into \(dw.count)")
        dy.withUnsafeBufferPointer { dp in
            x.withUnsafeBufferPointer { xp in
                dw.withUnsafeMutableBufferPointer { wp in
                    gemm(transA: true, m: n, n: k, k: m, dp.baseAddress!, lda: n, xp.baseAddress!, ldb: k,
                         beta: 1, wp.baseAddress!, ldc: k)
                }
            }
        }
    }
}

/// The number of threads the trainer's matrix products use (OpenBLAS's pool). The tools start
/// OpenBLAS without workers (`BlasBuffers.startWithoutOpenBLASThreads`), so the trainer sets it
/// explicitly, after checking that the address space holds a GEMM buffer for every thread.
public enum BlasThreads {
    public static func set(_ count: Int) throws {
        let n = max(1, count)
        try BlasBuffers.checkRoom(threads: n)
        openblas_set_num_threads(Int32(n))
    }
}
