import Testing
import TestSupport
@testable import Runtime
import GraphIR

@Suite struct GemmTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 7), (17, 33, 65), (64, 3, 128)])
    func matchesNaive(m: Int, n: Int, k: Int) throws {
        let x = SampleGraphs.values(m * k, seed: 1), w = SampleGraphs.values(n * k, seed: 2)
        var out = [Float](repeating: 9, count: m * n)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    Gemm.xwt(xp, wp, op, m: m, n: n, k: k)
                }
            }
        }
        var maxErr: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k { s += x[i * k + p] * w[j * k + p] }
                maxErr = max(maxErr, abs(s - out[i * n + j]))
            }
        }
        #expect(maxErr < 1e-4)
    }
}
