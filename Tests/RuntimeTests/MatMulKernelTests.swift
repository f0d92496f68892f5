import Foundation
import GraphIR
import Testing
import TestSupport
@testable import Runtime

/// The graph's MatMul (y = x·Wᵀ + bias) and its SwiGLU epilogue (silu(g) ⊙ u of [g | u] = x·Wᵀ + bias,
/// computed block by block of `epilogueBlockRows` rows through scratch) against a double-precision
/// reference (NMSE < 1e-10): row counts below, at and across one and two blocks, odd widths.
@Suite struct MatMulKernelTests {
    static func reference(x: [Float], w: [Float], bias: [Float]?, rows: Int, n: Int, k: Int, swiGLU: Bool) -> [Double] {
        var out = [Double]()
        for r in 0..<rows {
            let y = (0..<n).map { j -> Double in
                var acc = bias.map { Double($0[j]) } ?? 0
                for p in 0..<k { acc += Double(x[r * k + p]) * Double(w[j * k + p]) }
                return acc
            }
            out += swiGLU ? (0..<(n / 2)).map { KernelCheck.silu(y[$0]) * y[n / 2 + $0] } : y
        }
        return out
    }

    @Test(arguments: [(1, 26, 9), (7, 26, 9), (768, 10, 5), (769, 26, 9), (1537, 6, 3), (40, 34, 17)])
    func swiGLUEpilogue(rows: Int, n: Int, k: Int) {
        let block = MatMulKernel.epilogueBlockRows
        #expect(block == 768, "the row counts here are chosen around a 768-row block")
        let x = SampleGraphs.values(rows * k, seed: UInt64(rows + 1), scale: 1),
            w = SampleGraphs.values(n * k, seed: UInt64(n + 2), scale: 1)
        let bias = SampleGraphs.values(n, seed: 3)
        for withBias in [false, true] {
            let b = withBias ? bias : nil
            var scratch = [Float](repeating: .nan, count: MatMulKernel.scratchFloats(n: n, swiGLU: true))
            let what = "SwiGLU epilogue rows \(rows) n \(n) k \(k) bias \(withBias)"
            let out = KernelCheck.output(rows * n / 2, what) { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    MatMulKernel.run(x: x, w: w, bias: b, out: o, rows: rows, n: n, k: k, swiGLU: true, scratch: s.baseAddress!)
                }
            }
            KernelCheck.expectClose(out, Self.reference(x: x, w: w, bias: b, rows: rows, n: n, k: k, swiGLU: true), what)
        }
    }

    @Test(arguments: [(1, 1, 1), (5, 13, 7), (33, 17, 65), (769, 3, 4)])
    func plainWithAndWithoutBias(rows: Int, n: Int, k: Int) {
        let x = SampleGraphs.values(rows * k, seed: 81, scale: 1), w = SampleGraphs.values(n * k, seed: 82, scale: 1)
        let bias = SampleGraphs.values(n, seed: 83)
        for b in [nil, bias] {
            let what = "MatMul rows \(rows) n \(n) k \(k) bias \(b != nil)"
            let out = KernelCheck.output(rows * n, what) { o in
                MatMulKernel.run(x: x, w: w, bias: b, out: o, rows: rows, n: n, k: k, swiGLU: false, scratch: nil)
            }
            KernelCheck.expectClose(out, Self.reference(x: x, w: w, bias: b, rows: rows, n: n, k: k, swiGLU: false), what)
        }
    }

    @Test(arguments: [(1, 1), (3, 13), (2, 8), (4, 37)])
    func swiGLU(rows: Int, width: Int) {
        let x = SampleGraphs.values(rows * 2 * width, seed: UInt64(width), scale: 6)
        let expected = (0..<(rows * width)).map { i -> Double in
            let r = i / width, c = i % width
            return KernelCheck.silu(Double(x[r * 2 * width + c])) * Double(x[r * 2 * width + width + c])
        }
        let out = KernelCheck.output(rows * width, "SwiGLU \(rows)×\(width)") { o in SwiGLU.run(x, o, rows: rows, width: width) }
        KernelCheck.expectClose(out, expected, "SwiGLU \(rows)×\(width)")
    }
}
