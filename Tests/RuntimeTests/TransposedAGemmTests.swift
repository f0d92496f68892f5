import Testing
import TestSupport
import TRMCore
@testable import Runtime

/// The products with their left operand given transposed (`multiplyTransposedA`, trm_f32_gemm_at and
/// trm_bf16_gemm_at: the trainer's weight gradient dYᵀ·x read straight from dY): bit for bit the
/// product on an explicit transposed copy, accumulating into what `out` held, at sizes past the
/// kernels' row blocks (fp32 24 rows, bf16 144) and depth blocks (fp32 512, bf16 2·256, odd), with
/// padded rows; short buffers are refused.
@Suite struct TransposedAGemmTests {
    static let shapes = [(1, 1, 1), (13, 33, 7), (150, 40, 1031), (25, 64, 513)]

    /// xT [k, m] with rows m + 3 floats apart, its transpose x [m, k], w [n, k] and a starting out.
    func operands(m: Int, n: Int, k: Int) -> (xT: [Float], x: [Float], w: [Float], out: [Float], ldxT: Int) {
        let ldxT = m + 3
        let xT = SampleGraphs.values(k * ldxT, seed: UInt64(m * 7 + k), scale: 1)
        var x = [Float](repeating: 0, count: m * k)
        for p in 0..<k { for i in 0..<m { x[i * k + p] = xT[p * ldxT + i] } }
        return (xT, x, SampleGraphs.values(n * k, seed: UInt64(n + 5), scale: 1), SampleGraphs.values(m * n, seed: 9, scale: 1), ldxT)
    }

    @Test(.enabled(if: F32Gemm.isSupported, "needs AVX-512 (this CPU keeps OpenBLAS: no trm fp32 GEMM to test)"), arguments: shapes)
    func f32TransposedAEqualsProductOfACopy(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let (xT, x, w, start, ldxT) = operands(m: m, n: n, k: k)
        let packed = try w.withUnsafeBufferPointer { try F32PackedWeights($0, n: n, k: k) }
        var expected = start, got = start
        try x.withUnsafeBufferPointer { a in
            try expected.withUnsafeMutableBufferPointer {
                try F32Gemm.multiply(a, lda: k, m: m, packed, $0, ldc: n, accumulate: true)
            }
        }
        try xT.withUnsafeBufferPointer { a in
            try got.withUnsafeMutableBufferPointer {
                try F32Gemm.multiplyTransposedA(a, ldxT: ldxT, m: m, packed, $0, ldc: n, accumulate: true)
            }
        }
        #expect(got == expected, "[\(m), \(n), \(k)]")
        #expect(got != start)
    }

    @Test(.enabled(if: BF16Gemm.isSupported, "needs AVX512_BF16 (this CPU lacks it: the trainer transposes dY first)"), arguments: shapes)
    func bf16TransposedAEqualsProductOfACopy(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let (xT, x, w, start, ldxT) = operands(m: m, n: n, k: k)
        let packed = try BF16PackedWeights(w, n: n, k: k)
        var expected = start, got = start
        var workspace = [Float](repeating: 0, count: BF16Gemm.transposedAWorkspaceFloats)
        try x.withUnsafeBufferPointer { a in
            try expected.withUnsafeMutableBufferPointer { o in
                try workspace.withUnsafeMutableBufferPointer { ws in
                    try BF16Gemm.multiply(a, lda: k, m: m, packed, o, ldc: n, accumulate: true, workspace: ws)
                }
            }
        }
        let done = try xT.withUnsafeBufferPointer { a in
            try got.withUnsafeMutableBufferPointer { o in
                try workspace.withUnsafeMutableBufferPointer { ws in
                    try BF16Gemm.multiplyTransposedA(a, ldxT: ldxT, m: m, packed, o, ldc: n, accumulate: true, workspace: ws)
                }
            }
        }
        #expect(done)
        #expect(got == expected, "[\(m), \(n), \(k)]")
        #expect(got != start)
    }

    @Test func shortBuffersAreRefused() throws {
        let w = try BF16PackedWeights([Float](repeating: 1, count: 4 * 6), n: 4, k: 6)
        let xT = [Float](repeating: 1, count: 6 * 5 - 1)  // [k 6, m 5] needs 30
        var out = [Float](repeating: 0, count: 5 * 4), ws = [Float](repeating: 0, count: BF16Gemm.transposedAWorkspaceFloats)
        xT.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                ws.withUnsafeMutableBufferPointer { s in
                    #expect(throws: TRMError.self) {
                        _ = try BF16Gemm.multiplyTransposedA(a, ldxT: 5, m: 5, w, o, ldc: 4, accumulate: false, workspace: s)
                    }
                    #expect(throws: TRMError.self) {
                        _ = try BF16Gemm.multiplyTransposedA(
                            a, ldxT: 4, m: 4, w, o, ldc: 4, accumulate: false, workspace: UnsafeMutableBufferPointer(rebasing: s[..<10]))
                    }
                }
            }
        }
    }
}
