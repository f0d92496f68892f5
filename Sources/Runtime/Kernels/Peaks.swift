import CKernels
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

    /// fp32 FMA throughput (GFLOP/s) on `threads` threads at once: 16 independent FMA chains per
    /// thread, zmm with AVX512F, else ymm with AVX2 + FMA, in C (`trm_peak_fp32_fma_gflops`) so that
    /// it is the same whatever flags Swift was built with; best of `repeats`.
    public static func fma(threads: Int, iterations: Int = 10_000_000, repeats: Int = 3) -> Double {
        concurrentPeak(threads: threads, repeats: repeats) { trm_peak_fp32_fma_gflops(iterations) }
    }

    /// VDPBF16PS throughput (GFLOP/s: 32 bf16 pair products, 64 FLOP per zmm instruction) on
    /// `threads` threads at once, in C (`trm_peak_bf16_gflops`); 0 without AVX512_BF16.
    public static func bf16(threads: Int, iterations: Int = 10_000_000, repeats: Int = 3) -> Double {
        concurrentPeak(threads: threads, repeats: repeats) { trm_peak_bf16_gflops(iterations) }
    }

    /// The best over `repeats` of the summed GFLOP/s of `loop` run on `threads` threads at once.
    private static func concurrentPeak(threads: Int, repeats: Int, _ loop: @escaping @Sendable () -> Double) -> Double {
        var best = 0.0
        for _ in 0..<max(1, repeats) {
            let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
            defer { rates.deallocate() }
            nonisolated(unsafe) let out = rates
            DispatchQueue.concurrentPerform(iterations: threads) { i in out[i] = loop() }
            best = max(best, rates.reduce(0, +))
        }
        return best
    }
}
