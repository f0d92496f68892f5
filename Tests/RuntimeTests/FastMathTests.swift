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

    /// trm_softmax_row_lse against the definition in Double, at lengths with and without a 16-lane
    /// tail and with a large offset (the max subtraction keeps exp in range).
    @Test(arguments: [1, 15, 16, 82, 97])
    func softmaxRowWithLogSumExp(count: Int) {
        let offset: Float = count == 97 ? 120 : 0
        let xs: [Float] = (0..<count).map { i in Float((i * 37) % 23) * 0.31 - 2 + offset }
        let m = Double(xs.max()!)
        let sum: Double = xs.reduce(0.0) { acc, x in acc + Foundation.exp(Double(x) - m) }
        var row = xs
        let lse = trm_softmax_row_lse(&row, count)
        let expected: Double = m + Foundation.log(sum)
        #expect(abs(Double(lse) - expected) <= 1e-6 * max(1, abs(m)), "lse \(lse), expected \(expected)")
        for (i, x) in xs.enumerated() {
            let p = Foundation.exp(Double(x) - m) / sum
            #expect(abs(Double(row[i]) - p) <= 1e-6, "p[\(i)] = \(row[i]), expected \(p)")
        }
    }

    /// trm_atan2f (the trainer's AdamATan2) against libm's atan2f on a grid over every octant, and on
    /// zeros of both signs, infinities and NaN.
    @Test func atan2MatchesLibm() {
        let values: [Float] = [0, 1e-30, 1e-6, 0.3, 0.41421, 0.41422, 0.7, 1, 1.5, 2.41421, 2.41422, 7, 1e6, 1e30]
        var worst: Float = 0
        for y in values + values.map(-) {
            for x in values + values.map(-) {
                let ref = Foundation.atan2(y, x), got = trm_atan2f(y, x)
                worst = max(worst, abs(got - ref) / max(abs(ref), 1e-30))
                #expect(abs(got - ref) <= 4e-7 * abs(ref), "atan2(\(y), \(x)) = \(got), libm \(ref)")
            }
        }
        print("trm_atan2f: worst relative error \(worst)")
        let specials: [(Float, Float)] = [
            (0, 0), (-0.0, 0), (0, -0.0), (-0.0, -0.0), (1, 0), (-1, 0), (0, -1), (.infinity, .infinity), (-.infinity, 1),
            (1, -.infinity), (.infinity, -.infinity),
        ]
        for (y, x) in specials {
            let ref = Foundation.atan2(y, x), got = trm_atan2f(y, x)
            #expect(abs(got - ref) <= 4e-7 * abs(ref) && got.sign == ref.sign, "atan2(\(y), \(x)) = \(got), libm \(ref)")
        }
        #expect(trm_atan2f(.nan, 1).isNaN && trm_atan2f(1, .nan).isNaN)
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
