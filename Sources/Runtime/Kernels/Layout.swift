/// Data movement kernels: gather, transpose, concat, slice, pad, argmax. Axes are described by
/// (outer, axis, inner) extents: outer = product of the dims before the axis (batch included),
/// inner = product of the dims after it.
public enum Layout {
    /// out[i, :] = table[indices[i], :]. Returns the first out-of-range index, if any (nothing is
    /// written for it).
    public static func gather(
        _ table: UnsafePointer<Float>, rows: Int, cols: Int, _ indices: UnsafePointer<Int32>,
        count: Int, _ out: UnsafeMutablePointer<Float>
    ) -> Int32? {
        for i in 0..<count {
            let r = Int(indices[i])
            guard r >= 0 && r < rows else { return indices[i] }
            (out + i * cols).update(from: table + r * cols, count: cols)
        }
        return nil
    }

    /// General permutation of a dense tensor with dims `dims` (batch resolved) by `perm`.
    public static func transpose(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, dims: [Int], perm: [Int]) {
        let rank = dims.count
        if rank == 3 && perm == [0, 2, 1] {
            transposeLast2(x, out, batch: dims[0], rows: dims[1], cols: dims[2])
            return
        }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * dims[i + 1] }
        let outDims = perm.map { dims[$0] }
        let total = dims.reduce(1, *)
        var index = [Int](repeating: 0, count: rank)
        for o in 0..<total {
            var src = 0
            for a in 0..<rank { src += index[a] * inStrides[perm[a]] }
            out[o] = x[src]
            var a = rank - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < outDims[a] { break }
                index[a] = 0
                a -= 1
            }
        }
    }

    /// [batch, rows, cols] -> [batch, cols, rows], in cache-friendly tiles.
    public static func transposeLast2(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, rows: Int, cols: Int) {
        let tile = 32
        for b in 0..<batch {
            let xb = x + b * rows * cols, ob = out + b * rows * cols
            var r0 = 0
            while r0 < rows {
                var c0 = 0
                while c0 < cols {
                    for r in r0..<min(r0 + tile, rows) {
                        for c in c0..<min(c0 + tile, cols) { ob[c * rows + r] = xb[r * cols + c] }
                    }
                    c0 += tile
                }
                r0 += tile
            }
        }
    }

    /// Concatenation along an axis: part j has extent `axisSizes[j]`.
    public static func concat(_ parts: [UnsafePointer<Float>], axisSizes: [Int], _ out: UnsafeMutablePointer<Float>, outer: Int, inner: Int)
    {
        let total = axisSizes.reduce(0, +)
        for o in 0..<outer {
            var offset = 0
            for (p, n) in zip(parts, axisSizes) {
                (out + (o * total + offset) * inner).update(from: p + o * n * inner, count: n * inner)
                offset += n
            }
        }
    }

    /// out = x[..., start ..< end, ...] along an axis of extent `axis`.
    public static func slice(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int, start: Int, end: Int
    ) {
        let n = (end - start) * inner
        for o in 0..<outer { (out + o * n).update(from: x + (o * axis + start) * inner, count: n) }
    }

    /// Zero-pads `after` elements at the end of an axis of extent `axis`.
    public static func pad(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, axis: Int, inner: Int, after: Int) {
        let n = axis * inner, m = (axis + after) * inner
        for o in 0..<outer {
            (out + o * m).update(from: x + o * n, count: n)
            (out + o * m + n).update(repeating: 0, count: after * inner)
        }
    }

    /// Index of the largest value of each row (the first on ties).
    public static func argmax(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Int32>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let xr = x + r * cols
            var best = 0
            for i in 1..<max(cols, 1) where xr[i] > xr[best] { best = i }
            out[r] = Int32(best)
        }
    }
}
