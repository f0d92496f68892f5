import COpenBLAS
import Dispatch
import Foundation

/// Machine peaks measured in the same run as a benchmark, so results are ratios, not absolutes.
public enum Peaks {
    /// Best GFLOP/s of `repeats` sgemm calls C[m,n] = A[m,k]·B[n,k]ᵀ with OpenBLAS on `threads` threads.
    public static func sgemm(m: Int, n: Int, k: Int, threads: Int, repeats: Int = 5) -> Double {
        Gemm.setThreads(threads)
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        Gemm.xwt(ap, bp, cp, m: m, n: n, k: k)
                    }
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// fp32 FMA throughput (GFLOP/s) of register-resident SIMD FMA chains on `threads` threads.
    public static func fma(threads: Int) -> Double {
        let iterations = 20_000_000
        var best = Double.infinity
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                sink(fmaLoop(iterations, seed: Float(i) * 1e-9))
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        // 8 independent chains × 8 lanes × 2 flops per FMA.
        return Double(threads) * Double(iterations) * 8 * 8 * 2 / best / 1e9
    }

    @inline(never)
    static func fmaLoop(_ n: Int, seed: Float) -> Float {
        typealias V = SIMD8<Float>
        let m = V(repeating: 0.999999), a = V(repeating: 1e-7)
        var c0 = V(repeating: seed), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3, c4 = c0 + 4, c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7
        for _ in 0..<n {
            c0 = c0.addingProduct(m, a); c1 = c1.addingProduct(m, a); c2 = c2.addingProduct(m, a); c3 = c3.addingProduct(m, a)
            c4 = c4.addingProduct(m, a); c5 = c5.addingProduct(m, a); c6 = c6.addingProduct(m, a); c7 = c7.addingProduct(m, a)
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7).sum()
    }

    @inline(never) static func sink(_ x: Float) { if x == .pi { print("") } }
}
