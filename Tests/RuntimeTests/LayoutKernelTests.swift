import GraphIR
import Testing
import TestSupport
@testable import Runtime

/// The data-movement kernels against index-by-index references. They only move values, so the
/// result must be bit-exact (NMSE 0), every output written and nothing past the end touched. Sizes
/// cross the 32×32 tile of the transposed-last-two-axes path and are otherwise odd.
@Suite struct LayoutKernelTests {
    /// Row-major strides of `dims`.
    static func strides(_ dims: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        for i in stride(from: dims.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * dims[i + 1] }
        return s
    }

    /// out[j₀, …] = x[i] with i_perm[a] = j_a, by decoding each output index.
    static func transposeReference(_ x: [Float], dims: [Int], perm: [Int]) -> [Float] {
        let inStrides = strides(dims), outDims = perm.map { dims[$0] }, outStrides = strides(outDims)
        return (0..<x.count).map { o in
            var src = 0
            for a in 0..<dims.count { src += (o / outStrides[a]) % outDims[a] * inStrides[perm[a]] }
            return x[src]
        }
    }

    @Test(arguments: [
        ([2, 33, 65], [0, 2, 1]), ([1, 32, 32], [0, 2, 1]), ([3, 1, 7], [0, 2, 1]), ([2, 31, 97], [0, 2, 1]),
        ([2, 3, 5, 7], [0, 3, 1, 2]), ([2, 3, 5, 7], [0, 2, 3, 1]), ([4, 9], [1, 0]), ([3, 5, 6], [2, 0, 1]),
        ([2, 5, 3], [0, 1, 2]), ([2, 1, 3, 1, 5], [0, 4, 2, 3, 1]),
    ])
    func transpose(dims: [Int], perm: [Int]) {
        let x = SampleGraphs.values(dims.reduce(1, *), seed: UInt64(dims.reduce(7, *)))
        let out = KernelCheck.output(x.count, "transpose \(dims) by \(perm)") { o in
            Layout.transpose(x, o, dims: dims, perm: perm)
        }
        #expect(out == Self.transposeReference(x, dims: dims, perm: perm), "transpose \(dims) by \(perm)")
    }

    /// Concatenation of parts of axis extents `sizes` over `outer` × … × `inner`.
    @Test(arguments: [(3, [1, 2, 5], 7), (1, [4], 3), (2, [3, 3], 1), (5, [1, 1, 1, 9], 2), (1, [17, 33], 16)])
    func concat(outer: Int, sizes: [Int], inner: Int) {
        let parts = sizes.enumerated().map { SampleGraphs.values(outer * $1 * inner, seed: UInt64(11 + $0)) }
        let total = sizes.reduce(0, +)
        var expected = [Float]()
        for o in 0..<outer {
            for (p, n) in zip(parts, sizes) { expected += p[(o * n * inner)..<((o + 1) * n * inner)] }
        }
        let out = KernelCheck.output(outer * total * inner, "concat \(sizes)") { o in
            let pointers = parts.map { p -> UnsafeMutablePointer<Float> in
                let q = UnsafeMutablePointer<Float>.allocate(capacity: p.count)
                q.initialize(from: p, count: p.count)
                return q
            }
            defer { pointers.forEach { $0.deallocate() } }
            Layout.concat(pointers.map { UnsafePointer($0) }, axisSizes: sizes, o, outer: outer, inner: inner)
        }
        #expect(out == expected, "concat outer \(outer) sizes \(sizes) inner \(inner)")
    }

    @Test(arguments: [(3, 10, 7, 0, 10), (2, 9, 5, 0, 1), (4, 9, 1, 8, 9), (1, 33, 3, 5, 30), (6, 5, 2, 2, 4)])
    func slice(outer: Int, axis: Int, inner: Int, start: Int, end: Int) {
        let x = SampleGraphs.values(outer * axis * inner, seed: 21)
        var expected = [Float]()
        for o in 0..<outer {
            for a in start..<end { for i in 0..<inner { expected.append(x[(o * axis + a) * inner + i]) } }
        }
        let out = KernelCheck.output(outer * (end - start) * inner, "slice \(start)..<\(end)") { o in
            Layout.slice(x, o, outer: outer, axis: axis, inner: inner, start: start, end: end)
        }
        #expect(out == expected, "slice outer \(outer) axis \(axis) inner \(inner) \(start)..<\(end)")
    }

    @Test(arguments: [(3, 5, 7, 3), (1, 1, 1, 0), (4, 9, 1, 7), (2, 3, 5, 1)])
    func pad(outer: Int, axis: Int, inner: Int, after: Int) {
        let x = SampleGraphs.values(outer * axis * inner, seed: 31)
        var expected = [Float]()
        for o in 0..<outer {
            expected += x[(o * axis * inner)..<((o + 1) * axis * inner)]
            expected += [Float](repeating: 0, count: after * inner)
        }
        let out = KernelCheck.output(outer * (axis + after) * inner, "pad \(after)") { o in
            Layout.pad(x, o, outer: outer, axis: axis, inner: inner, after: after)
        }
        #expect(out == expected, "pad outer \(outer) axis \(axis) inner \(inner) after \(after)")
    }

    @Test func gatherStopsAtTheFirstBadIndex() {
        let rows = 5, cols = 7
        let table = SampleGraphs.values(rows * cols, seed: 41)
        let good: [Int32] = [4, 0, 2, 2, 1]
        let out = KernelCheck.output(good.count * cols, "gather") { o in
            #expect(Layout.gather(table, rows: rows, cols: cols, good, count: good.count, o) == nil)
        }
        #expect(out == good.flatMap { table[(Int($0) * cols)..<((Int($0) + 1) * cols)] })
        for bad: Int32 in [5, -1] {
            var partial = [Float](repeating: 9, count: 3 * cols)
            let indices: [Int32] = [1, bad, 0]
            #expect(Layout.gather(table, rows: rows, cols: cols, indices, count: 3, &partial) == bad)
            #expect(Array(partial[0..<cols]) == Array(table[cols..<(2 * cols)]))
            #expect(partial[cols...].allSatisfy { $0 == 9 }, "gather wrote at or after the bad index \(bad)")
        }
    }

    @Test func argmaxTakesTheFirstOfTies() {
        let rows: [[Float]] = [[1, 3, 3, 2], [-5, -5, -5, -5], [0, 0, 0, 7], [2, -1, 1, 0]]
        var out = [Int32](repeating: -1, count: rows.count)
        Layout.argmax(rows.flatMap { $0 }, &out, rows: rows.count, cols: 4)
        #expect(out == [1, 0, 3, 0])
        var single: [Int32] = [-1]
        Layout.argmax([4.5], &single, rows: 1, cols: 1)
        #expect(single == [0])
    }
}
