import CKernels
import Foundation
import Testing
@testable import Runtime

@Suite struct FastMathTests {
    @Test func cKernelsMatchLibm() {
        var xs = (0..<2000).map { Float($0) * 0.087 - 87 }
        let ref = xs.map { Foundation.exp($0) }
        trm_vexp(&xs, xs.count)
        #expect(zip(xs, ref).allSatisfy { abs($0 - $1) <= 3e-7 * $1 })
        var row: [Float] = (0..<37).map { Float($0 % 7) - 3 }
        let e = row.map { Foundation.exp($0 - 3) }, total = e.reduce(0, +)
        trm_softmax_row(&row, row.count)
        #expect(zip(row, e).allSatisfy { abs($0 - $1 / total) < 1e-6 })
    }

    /// trm_transpose at sizes with and without full 8×8 blocks and 16×16 tiles, with leading
    /// dimensions past the matrix: every element lands in place, the padding is left alone.
    @Test(arguments: [(1, 1), (7, 9), (8, 8), (16, 16), (23, 40), (37, 600)])
    func transposeMatchesTheDefinition(shape: (Int, Int)) {
        let (rows, cols) = shape, lda = cols + 3, ldo = rows + 5
        let a = (0..<(rows * lda)).map { Float($0) }
        var out = [Float](repeating: -1, count: cols * ldo)
        trm_transpose(a, lda, rows, cols, &out, ldo)
        for c in 0..<cols {
            for r in 0..<ldo { #expect(out[c * ldo + r] == (r < rows ? a[r * lda + c] : -1), "[\(c), \(r)] of \(rows)×\(cols)") }
        }
    }

    @Test func activationsAndTails() {
        let xs = (0..<13).map { Float($0) * 0.7 - 4 }
        var silu = [Float](repeating: 0, count: 13), sig = silu
        xs.withUnsafeBufferPointer { x in
            silu.withUnsafeMutableBufferPointer { Elementwise.silu(x.baseAddress!, $0.baseAddress!, count: 13) }
            sig.withUnsafeMutableBufferPointer { Elementwise.sigmoid(x.baseAddress!, $0.baseAddress!, count: 13) }
        }
        for (i, x) in xs.enumerated() {
            #expect(abs(silu[i] - x / (1 + Foundation.exp(-x))) < 1e-6)
            #expect(abs(sig[i] - 1 / (1 + Foundation.exp(-x))) < 1e-6)
        }
    }
}
