import Testing
import TestSupport
import TRMCore
@testable import Runtime

/// The SwiGLU epilogue fused into the packed GEMMs (`F32Gemm.multiplySwiGLU`,
/// `BF16Gemm.multiplySwiGLU`): silu(g)·u of [g | u] = x·wᵀ + bias, computed in the register tile
/// from the plain panel packing, against the double-precision product (of the bf16-rounded inputs
/// for bf16) followed by SwiGLU in double. Widths put the up projection's 16 columns at both
/// halves of a panel (width 16: lanes 16-31 of panel 0; 48: panel 1, lanes 16-31; 64: panel 2,
/// lanes 0-15); row counts cross the 12-row tile and the 48/144-row blocks; k crosses the plain
/// GEMM's K blocks (the fused form has none). A width that is not a multiple of 16 is declined
/// (false, nothing written): MatMulKernel then takes the unfused path, which MatMulKernelTests checks.
@Suite struct SwiGLUGemmTests {
    static let shapes = [(1, 16, 1), (5, 16, 7), (13, 48, 33), (49, 64, 513), (150, 32, 600), (97, 1536, 512), (12, 80, 1100)]

    /// The reference: SwiGLU in double of `c`'s product (n = 2·width) over its m rows.
    static func reference(_ c: BF16GemmTests.Case, rounded: Bool) -> [Double] {
        let y = c.reference(rounded: rounded), width = c.n / 2
        return (0..<(c.m * width)).map { i in
            let r = i / width, j = i % width
            return KernelCheck.silu(y[r * c.n + j]) * y[r * c.n + width + j]
        }
    }

    /// Runs `fused` into rows `ldo` = width + 3 apart, with a guard tail; expects the gaps between
    /// rows and the tail untouched; returns the outputs (nil when declined, after checking that
    /// nothing was written).
    static func run(
        _ c: BF16GemmTests.Case, sourceLocation: SourceLocation = #_sourceLocation,
        _ fused: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?, UnsafeMutableBufferPointer<Float>, Int) throws -> Bool
    ) throws -> [Float]? {
        let width = c.n / 2, ldo = width + 3, sentinel = Float(bitPattern: 0x7fc0_1234)
        var out = [Float](repeating: sentinel, count: c.m * ldo + 19)
        let done = try c.x.withUnsafeBufferPointer { xp in
            try c.b.withUnsafeBufferPointer { bp in
                try out.withUnsafeMutableBufferPointer { try fused(xp, c.bias ? bp : nil, $0, ldo) }
            }
        }
        guard done else {
            #expect(
                out.allSatisfy { $0.bitPattern == sentinel.bitPattern }, "\(c.what): declined but wrote", sourceLocation: sourceLocation)
            return nil
        }
        var rows = [Float]()
        for i in 0..<c.m {
            rows += out[(i * ldo)..<(i * ldo + width)]
            #expect(
                out[(i * ldo + width)..<(i * ldo + ldo)].allSatisfy { $0.bitPattern == sentinel.bitPattern },
                "\(c.what): wrote between rows",
                sourceLocation: sourceLocation)
        }
        #expect(
            out[(c.m * ldo)...].allSatisfy { $0.bitPattern == sentinel.bitPattern }, "\(c.what): wrote past the end",
            sourceLocation: sourceLocation)
        return rows
    }

    static func runF32(_ c: BF16GemmTests.Case) throws -> [Float]? {
        let packed = try c.w.withUnsafeBufferPointer { try F32PackedWeights($0, n: c.n, k: c.k) }
        return try run(c) { x, b, o, ldo in try F32Gemm.multiplySwiGLU(x, lda: c.lda, m: c.m, packed, bias: b, o, ldo: ldo) }
    }

    static func runBF16(_ c: BF16GemmTests.Case) throws -> [Float]? {
        let packed = try BF16PackedWeights(c.w, n: c.n, k: c.k)
        var ws = [Float](repeating: .nan, count: BF16Gemm.maxWorkspaceFloats)
        return try ws.withUnsafeMutableBufferPointer { wp in
            try run(c) { x, b, o, ldo in try BF16Gemm.multiplySwiGLU(x, lda: c.lda, m: c.m, packed, bias: b, o, ldo: ldo, workspace: wp) }
        }
    }

    @Test(.enabled(if: F32Gemm.isSupported, F32GemmTests.needsAVX512), arguments: shapes)
    func fp32MatchesReference(m: Int, width: Int, k: Int) throws {
        for bias in [false, true] {
            let c = BF16GemmTests.Case(m: m, n: 2 * width, k: k, lda: k + 1, bias: bias, seed: UInt64(m + width + k))
            let got = try #require(try Self.runF32(c), "\(c.what): declined on an AVX-512 CPU")
            KernelCheck.expectClose(got, Self.reference(c, rounded: false), "fp32 SwiGLU " + c.what)
        }
    }

    @Test(.enabled(if: BF16Gemm.isSupported, BF16GemmTests.needsBF16), arguments: shapes)
    func bf16MatchesReference(m: Int, width: Int, k: Int) throws {
        for bias in [false, true] {
            let c = BF16GemmTests.Case(m: m, n: 2 * width, k: k, lda: k + 1, bias: bias, seed: UInt64(m + width + k))
            let got = try #require(try Self.runBF16(c), "\(c.what): declined on an AVX512_BF16 CPU")
            KernelCheck.expectClose(got, Self.reference(c, rounded: true), "bf16 SwiGLU " + c.what)
        }
    }

    /// Widths that are not a multiple of 16, and k = 0, are declined on every CPU; so is everything
    /// on a CPU without the instructions (then the product tests above are skipped and say so).
    @Test func declinesWhatItCannotFuse() throws {
        for (width, k) in [(8, 5), (24, 5), (17, 9), (16, 0)] {
            let c = BF16GemmTests.Case(m: 3, n: 2 * width, k: k)
            #expect(try Self.runF32(c) == nil, "fp32 width \(width) k \(k)")
            #expect(try Self.runBF16(c) == nil, "bf16 width \(width) k \(k)")
        }
        let c = BF16GemmTests.Case(m: 3, n: 32, k: 5)
        #expect((try Self.runF32(c) != nil) == F32Gemm.isSupported)
        #expect((try Self.runBF16(c) != nil) == BF16Gemm.isSupported)
        let odd = try [Float](repeating: 1, count: 15).withUnsafeBufferPointer { try F32PackedWeights($0, n: 3, k: 5) }
        var out = [Float](repeating: 0, count: 8)
        #expect(throws: TRMError.self) {
            try [Float](repeating: 1, count: 5).withUnsafeBufferPointer { x in
                try out.withUnsafeMutableBufferPointer { _ = try F32Gemm.multiplySwiGLU(x, lda: 5, m: 1, odd, $0, ldo: 1) }
            }
        }
    }
}
