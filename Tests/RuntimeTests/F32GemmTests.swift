import Testing
import TestSupport
import TRMCore
@testable import Runtime

/// `F32Gemm` (trm_f32_gemm on the zmm tile, weights packed by trm_f32_pack_b) against a
/// double-precision reference on the same inputs: only fp32 summation differs (NMSE ≤ 1e-10).
/// Shapes cross the 12-row tile, the 32-column panel, the 48-row and 512-k blocks. On a CPU
/// without AVX-512 the product tests are skipped (the message says so), and a test checks that
/// `multiply` then refuses instead of leaving the output unwritten.
@Suite struct F32GemmTests {
    static let needsAVX512: Comment = "needs AVX-512 (this CPU lacks it: fp32 sessions use OpenBLAS there)"

    /// Runs `F32Gemm.multiply` on `c`'s inputs into a copy of its c0 plus a guard tail; expects the
    /// tail and the columns between rows untouched and returns the m·n outputs.
    static func run(_ c: BF16GemmTests.Case, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Float] {
        let packed = try c.w.withUnsafeBufferPointer { try F32PackedWeights($0, n: c.n, k: c.k) }
        let sentinel = Float(bitPattern: 0x7fc0_1234)
        var out = c.c0 + [Float](repeating: sentinel, count: 19)
        try c.x.withUnsafeBufferPointer { xp in
            try c.b.withUnsafeBufferPointer { bp in
                try out.withUnsafeMutableBufferPointer { op in
                    try F32Gemm.multiply(xp, lda: c.lda, m: c.m, packed, bias: c.bias ? bp : nil, op, ldc: c.ldc, accumulate: c.accumulate)
                }
            }
        }
        #expect(out[(c.m * c.ldc)...].allSatisfy { $0.bitPattern == sentinel.bitPattern }, "\(c.what): wrote past the end")
        var rows = [Float]()
        for i in 0..<c.m {
            rows += out[(i * c.ldc)..<(i * c.ldc + c.n)]
            #expect(
                out[(i * c.ldc + c.n)..<(i * c.ldc + c.ldc)].elementsEqual(c.c0[(i * c.ldc + c.n)..<(i * c.ldc + c.ldc)]) {
                    $0.bitPattern == $1.bitPattern
                }, "\(c.what): wrote between rows", sourceLocation: sourceLocation)
        }
        return rows
    }

    @Test(
        .enabled(if: F32Gemm.isSupported, Self.needsAVX512),
        arguments: [(1, 1, 1), (5, 7, 3), (12, 32, 64), (13, 33, 31), (49, 65, 513), (100, 512, 1100), (7, 2730, 20)])
    func matchesReference(m: Int, n: Int, k: Int) throws {
        let c = BF16GemmTests.Case(m: m, n: n, k: k, seed: UInt64(m * 7 + n))
        KernelCheck.expectClose(try Self.run(c), c.reference(rounded: false), c.what)
    }

    @Test(.enabled(if: F32Gemm.isSupported, Self.needsAVX512))
    func biasAccumulateAndStrides() throws {
        for (bias, accumulate) in [(true, false), (false, true), (true, true)] {
            let c = BF16GemmTests.Case(m: 26, n: 45, k: 600, lda: 611, ldc: 50, bias: bias, accumulate: accumulate)
            KernelCheck.expectClose(try Self.run(c), c.reference(rounded: false), c.what)
        }
    }

    /// Rows of A 1024 or 2048 floats apart crowd one L1 set, so the GEMM multiplies a padded copy
    /// of each 24-row block instead (f32_gemm.c): m crosses those blocks with a tail, k the 512-k
    /// block, with bias and accumulation, against the reference.
    @Test(.enabled(if: F32Gemm.isSupported, Self.needsAVX512), arguments: [1024, 2048])
    func rowsThatCrowdL1AreCopied(lda: Int) throws {
        for (bias, accumulate) in [(false, false), (true, true)] {
            let c = BF16GemmTests.Case(m: 53, n: 45, k: 600, lda: lda, ldc: 47, bias: bias, accumulate: accumulate, seed: 11)
            KernelCheck.expectClose(try Self.run(c), c.reference(rounded: false), c.what)
        }
    }

    /// Packing in parts (the trainer's threads) writes the same panels as packing at once.
    @Test func packingInPartsMatches() throws {
        let (n, k) = (100, 7)  // 4 panels, the last one part zero
        let w: [Float] = (0..<(n * k)).map { Float($0) * 0.5 }
        let whole = try w.withUnsafeBufferPointer { try F32PackedWeights($0, n: n, k: k) }
        var seen: [Range<Int>] = []
        let parts = try w.withUnsafeBufferPointer { wp in
            try F32PackedWeights(wp, n: n, k: k) { panels, body in
                for r in [0..<1, 1..<3, 3..<panels] { seen.append(r); body(r) }
            }
        }
        #expect(seen.last == 3..<4)
        #expect(parts.bytes == whole.bytes)
        let count = whole.bytes / 4
        #expect(
            UnsafeBufferPointer(start: parts.packed, count: count).elementsEqual(UnsafeBufferPointer(start: whole.packed, count: count)))
    }

    @Test func packedLayoutAndRefusals() throws {
        let w: [Float] = (0..<(33 * 3)).map(Float.init)  // [33, 3]
        let packed = try w.withUnsafeBufferPointer { try F32PackedWeights($0, n: 33, k: 3) }
        #expect(packed.bytes == 64 * 3 * 4)
        let p = UnsafeBufferPointer(start: packed.packed, count: 64 * 3)
        // Panel 0, row p, column c = w[c, p]; panel 1 holds column 32 and zeros.
        #expect(p[0] == 0 && p[1] == 3 && p[32] == 1 && p[31 + 2 * 32] == Float(31 * 3 + 2))
        #expect(p[96] == 96 && p[97] == 0 && p[96 + 32] == 97 && p[96 + 95] == 0)
        #expect(throws: TRMError.self) { try w.withUnsafeBufferPointer { try F32PackedWeights($0, n: 34, k: 3) } }
        var out = [Float](repeating: 0, count: 4)
        let x: [Float] = [1, 2, 3]
        #expect(throws: TRMError.self) {
            try x.withUnsafeBufferPointer { xp in
                try out.withUnsafeMutableBufferPointer { try F32Gemm.multiply(xp, lda: 3, m: 1, packed, $0, ldc: 33) }
            }
        }
        if !F32Gemm.isSupported {
            print("F32GemmTests: this CPU lacks AVX-512; F32Gemm.multiply must refuse")
            var big = [Float](repeating: 0, count: 33)
            #expect(throws: TRMError.self) {
                try x.withUnsafeBufferPointer { xp in
                    try big.withUnsafeMutableBufferPointer { try F32Gemm.multiply(xp, lda: 3, m: 1, packed, $0, ldc: 33) }
                }
            }
        }
    }
}
