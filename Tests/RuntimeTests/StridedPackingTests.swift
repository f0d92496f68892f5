import Testing
import TestSupport
import TRMCore
@testable import Runtime

/// The strided packings (`rowStride`/`colStride`, trm_*_pack_b_strided): packing xᵀ straight from x
/// gives exactly the panels of packing an explicit transposed copy, for fp32 and bf16, at sizes with
/// partial panels and an odd depth, whole or split into panel ranges; bad strides and short buffers
/// are refused.
@Suite struct StridedPackingTests {
    /// x [k, n] row-major (rows ldx apart) and its transpose [n, k] as a plain copy.
    func matrices(n: Int, k: Int, ldx: Int) -> (x: [Float], transposed: [Float]) {
        let x = SampleGraphs.values(k * ldx, seed: UInt64(n * 31 + k), scale: 1)
        var t = [Float](repeating: 0, count: n * k)
        for p in 0..<k { for j in 0..<n { t[j * k + p] = x[p * ldx + j] } }
        return (x, t)
    }

    /// A split that packs one panel per call, in reverse order (any order and grouping must do).
    let onePanelAtATime: (Int, (Range<Int>) -> Void) -> Void = { panels, body in
        for i in (0..<panels).reversed() { body(i..<(i + 1)) }
    }

    @Test(arguments: [(1, 1, 1), (33, 7, 40), (70, 50, 70), (64, 96, 65)])
    func bf16TransposedPackEqualsPackOfACopy(n: Int, k: Int, ldx: Int) throws {
        let (x, t) = matrices(n: n, k: k, ldx: ldx)
        let reference = try BF16PackedWeights(t, n: n, k: k)
        for split in [nil, onePanelAtATime] {
            let strided = try x.withUnsafeBufferPointer { buffer in
                try split.map { try BF16PackedWeights(buffer, n: n, k: k, rowStride: 1, colStride: ldx, split: $0) }
                    ?? BF16PackedWeights(buffer, n: n, k: k, rowStride: 1, colStride: ldx)
            }
            #expect(Array(strided.packed) == Array(reference.packed), "[\(n), \(k)] ldx \(ldx)")
        }
        // Row-major strides are the plain packing.
        let plain = try t.withUnsafeBufferPointer { try BF16PackedWeights($0, n: n, k: k, rowStride: k, colStride: 1) }
        #expect(Array(plain.packed) == Array(reference.packed))
    }

    @Test(arguments: [(1, 1, 1), (33, 7, 40), (70, 50, 70), (64, 96, 65)])
    func f32TransposedPackEqualsPackOfACopy(n: Int, k: Int, ldx: Int) throws {
        let (x, t) = matrices(n: n, k: k, ldx: ldx)
        let reference = try t.withUnsafeBufferPointer { try F32PackedWeights($0, n: n, k: k) }
        let strided = try x.withUnsafeBufferPointer {
            try F32PackedWeights($0, n: n, k: k, rowStride: 1, colStride: ldx, split: onePanelAtATime)
        }
        #expect(
            Array(UnsafeBufferPointer(start: strided.packed, count: strided.count))
                == Array(UnsafeBufferPointer(start: reference.packed, count: reference.count)), "[\(n), \(k)] ldx \(ldx)")
    }

    @Test func badStridesAndShortBuffersAreRefused() {
        let x = [Float](repeating: 1, count: 20)
        x.withUnsafeBufferPointer { b in
            for (n, k, rs, cs) in [(4, 5, 1, 0), (4, 5, 0, 4), (4, 5, -1, 4), (4, 6, 1, 4), (5, 5, 1, 4), (2, 2, Int.max, 1)] {
                #expect(throws: TRMError.self, "[\(n), \(k)] strides \(rs), \(cs)") {
                    try BF16PackedWeights(b, n: n, k: k, rowStride: rs, colStride: cs)
                }
                #expect(throws: TRMError.self, "[\(n), \(k)] strides \(rs), \(cs)") {
                    try F32PackedWeights(b, n: n, k: k, rowStride: rs, colStride: cs)
                }
            }
            #expect(throws: Never.self) { try BF16PackedWeights(b, n: 4, k: 5, rowStride: 1, colStride: 4) }
        }
    }
}
