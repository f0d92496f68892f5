import Foundation
import GraphIR
import Testing
import TestSupport
@testable import Runtime

/// RMSNorm, the fused residual + RMSNorm and Mamba-2's gated grouped RMSNorm against double-precision
/// references (NMSE < 1e-10), for row widths and group sizes that are and are not multiples of the
/// 8-lane vector path, out of place and in place.
@Suite struct NormKernelTests {
    static let eps: Float = 1e-5

    /// x / sqrt(mean(x²) + eps) per row of `cols`.
    static func rmsReference(_ x: [Double], cols: Int) -> [Double] {
        stride(from: 0, to: x.count, by: cols).flatMap { r -> [Double] in
            let row = x[r..<(r + cols)]
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(cols) + Double(eps)).squareRoot()
            return row.map { $0 * inv }
        }
    }

    @Test(arguments: [(1, 1), (3, 7), (4, 8), (2, 33), (5, 257)])
    func rmsNorm(rows: Int, cols: Int) {
        let x = SampleGraphs.values(rows * cols, seed: UInt64(rows * 100 + cols), scale: 3)
        let expected = Self.rmsReference(x.map(Double.init), cols: cols)
        let out = KernelCheck.output(x.count, "rmsNorm \(rows)×\(cols)") { o in
            Norms.rmsNorm(x, o, rows: rows, cols: cols, eps: Self.eps)
        }
        KernelCheck.expectClose(out, expected, "rmsNorm \(rows)×\(cols)")
        var inPlace = x
        inPlace.withUnsafeMutableBufferPointer { p in Norms.rmsNorm(p.baseAddress!, p.baseAddress!, rows: rows, cols: cols, eps: Self.eps) }
        KernelCheck.expectClose(inPlace, expected, "rmsNorm \(rows)×\(cols) in place")
    }

    /// b of `bCount` values broadcast over a [rows, cols] (bCount = rows·cols is the same shape,
    /// cols a [D] bias, a multiple of cols a trailing [S, D] part that wraps, 1 a scalar). The
    /// executor splits rows between threads and passes each chunk's first row: so does this test.
    @Test(arguments: [(6, 7, 42), (6, 7, 7), (7, 5, 15), (9, 16, 48), (4, 9, 1), (3, 8, 4)])
    func addRMSNorm(rows: Int, cols: Int, bCount: Int) {
        let a = SampleGraphs.values(rows * cols, seed: UInt64(rows * 10 + cols), scale: 2)
        let b = SampleGraphs.values(bCount, seed: UInt64(bCount + 5), scale: 2)
        let sums = (0..<(rows * cols)).map { i in Double(a[i]) + Double(b[i % bCount]) }
        let expected = Self.rmsReference(sums, cols: cols)
        for chunks in [[rows], [rows / 2, rows - rows / 2], [1, rows - 2, 1]] where chunks.allSatisfy({ $0 > 0 }) {
            let out = KernelCheck.output(a.count, "addRMSNorm chunks \(chunks)") { o in
                a.withUnsafeBufferPointer { ap in
                    var first = 0
                    for n in chunks {
                        Norms.addRMSNorm(
                            ap.baseAddress! + first * cols, b, o + first * cols,
                            rows: n, cols: cols, bCount: bCount, firstRow: first, eps: Self.eps)
                        first += n
                    }
                }
            }
            KernelCheck.expectClose(out, expected, "addRMSNorm \(rows)×\(cols) b \(bCount) chunks \(chunks)")
        }
        var inPlace = a
        inPlace.withUnsafeMutableBufferPointer { p in
            Norms.addRMSNorm(p.baseAddress!, b, p.baseAddress!, rows: rows, cols: cols, bCount: bCount, eps: Self.eps)
        }
        KernelCheck.expectClose(inPlace, expected, "addRMSNorm \(rows)×\(cols) b \(bCount) in place")
    }

    /// v = y ⊙ silu(z), RMS-normalised per group of `groupSize` channels, times w.
    static func gatedReference(y: [Float], z: [Float], w: [Float], cols: Int, groupSize: Int) -> [Double] {
        var out = [Double](repeating: 0, count: y.count)
        for g in stride(from: 0, to: y.count, by: groupSize) {
            let v = (g..<(g + groupSize)).map { Double(y[$0]) * KernelCheck.silu(Double(z[$0])) }
            let inv = 1 / (v.map { $0 * $0 }.reduce(0, +) / Double(groupSize) + Double(eps)).squareRoot()
            for i in 0..<groupSize { out[g + i] = v[i] * inv * Double(w[(g + i) % cols]) }
        }
        return out
    }

    /// Group sizes that are multiples of 8 take the vector path, the others the scalar one.
    @Test(arguments: [(3, 24, 8), (2, 16, 16), (4, 64, 32), (3, 15, 5), (2, 36, 12), (5, 7, 1), (1, 40, 40), (2, 44, 11)])
    func gatedRMSNorm(rows: Int, cols: Int, groupSize: Int) {
        let n = rows * cols
        let y = SampleGraphs.values(n, seed: UInt64(cols + 1), scale: 2), z = SampleGraphs.values(n, seed: UInt64(cols + 2), scale: 4)
        let w = KernelCheck.uniform(cols, 0.5, 1.5, seed: UInt64(cols + 3))
        let expected = Self.gatedReference(y: y, z: z, w: w, cols: cols, groupSize: groupSize)
        let what = "gatedRMSNorm \(rows)×\(cols) groups of \(groupSize)"
        let out = KernelCheck.output(n, what) { o in
            Norms.gatedRMSNorm(y, z, w, o, rows: rows, cols: cols, groupSize: groupSize, eps: Self.eps)
        }
        KernelCheck.expectClose(out, expected, what)
        // y may alias the output (the fused Mamba-2 kernel normalises its scan output in place).
        var inPlace = y
        inPlace.withUnsafeMutableBufferPointer { p in
            Norms.gatedRMSNorm(p.baseAddress!, z, w, p.baseAddress!, rows: rows, cols: cols, groupSize: groupSize, eps: Self.eps)
        }
        KernelCheck.expectClose(inPlace, expected, what + " in place")
    }
}
