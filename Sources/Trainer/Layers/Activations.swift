import Foundation

/// Scalar activations and their derivatives, shared by the layers. All fp32 with Foundation's exp:
/// the inference runtime's vectorised exp differs by < 2e-7 relative, far inside the 1e-5 parity bound.
enum Act {
    /// 1 / (1 + e⁻ˣ).
    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// x·σ(x), written as the runtime writes it.
    @inline(__always) static func silu(_ x: Float) -> Float { x / (1 + Foundation.exp(-x)) }

    /// d silu / dx = σ(x)·(1 + x·(1 − σ(x))).
    @inline(__always) static func siluGrad(_ x: Float) -> Float {
        let s = sigmoid(x)
        return s * (1 + x * (1 - s))
    }

    /// log(1 + eˣ), passing x through above 20 as PyTorch (and the runtime) do.
    @inline(__always) static func softplus(_ x: Float) -> Float { x > 20 ? x : log1p(Foundation.exp(x)) }

    /// d softplus / dx: σ(x), or exactly 1 on the pass-through branch (PyTorch's softplus backward).
    @inline(__always) static func softplusGrad(_ x: Float) -> Float { x > 20 ? 1 : sigmoid(x) }
}

/// Entry-point shape check: every public layer function validates its buffers before touching memory.
@inline(__always)
func checkCount(_ a: [Float], _ n: Int, _ what: @autoclosure () -> String) {
    precondition(a.count == n, "\(what()): expected \(n) values, got \(a.count)")
}

/// Elementwise a += b.
@inline(__always)
func addInPlace(_ a: inout [Float], _ b: [Float]) {
    precondition(a.count == b.count, "addInPlace: \(a.count) vs \(b.count)")
    a.withUnsafeMutableBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in for i in 0..<ap.count { ap[i] += bp[i] } }
    }
}

/// a + b elementwise as a new array: one pass, where copying a and adding b in place is two.
func added(_ a: [Float], _ b: [Float]) -> [Float] {
    precondition(a.count == b.count, "added: \(a.count) vs \(b.count)")
    return [Float](unsafeUninitializedCapacity: a.count) { out, initialized in
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                guard let x = ap.baseAddress, let y = bp.baseAddress, let o = out.baseAddress else { return }
                for i in 0..<ap.count { o[i] = x[i] + y[i] }
            }
        }
        initialized = a.count
    }
}

/// Columns [start, start + width) of a row-major [rows, cols] matrix, as a dense [rows, width].
func sliceColumns(_ x: [Float], rows: Int, cols: Int, start: Int, width: Int) -> [Float] {
    checkCount(x, rows * cols, "sliceColumns")
    precondition(start >= 0 && start + width <= cols)
    // Every element is written, so the array starts uninitialised (no zeroing pass); a row at a time
    // through pointers, so no index arithmetic is overflow-checked per element.
    return [Float](unsafeUninitializedCapacity: rows * width) { op, initialized in
        x.withUnsafeBufferPointer { xp in
            guard let src = xp.baseAddress, let dst = op.baseAddress else { return }
            for r in 0..<rows { (dst + r * width).update(from: src + r * cols + start, count: width) }
        }
        initialized = rows * width
    }
}

/// [rows, Σ widths]: the column blocks `parts` ([rows, width_i] each) side by side, left to right
/// (the adjoint of slicing a matrix into them; every element written once, no zeroing pass).
func concatColumns(_ parts: [[Float]], rows: Int) -> [Float] {
    precondition(rows > 0 && parts.allSatisfy { $0.count % rows == 0 }, "concatColumns: parts must be [rows, width]")
    let widths = parts.map { $0.count / rows }, cols = widths.reduce(0, +)
    return [Float](unsafeUninitializedCapacity: rows * cols) { op, initialized in
        var start = 0
        for (part, width) in zip(parts, widths) {
            part.withUnsafeBufferPointer { pp in
                guard let src = pp.baseAddress, let dst = op.baseAddress else { return }
                for r in 0..<rows { (dst + r * cols + start).update(from: src + r * width, count: width) }
            }
            start += width
        }
        initialized = rows * cols
    }
}

/// dst[:, start ..< start + width] += src, the adjoint of `sliceColumns`.
func addColumns(_ src: [Float], into dst: inout [Float], rows: Int, cols: Int, start: Int, width: Int) {
    checkCount(src, rows * width, "addColumns source")
    checkCount(dst, rows * cols, "addColumns destination")
    precondition(start >= 0 && start + width <= cols)
    src.withUnsafeBufferPointer { sp in
        dst.withUnsafeMutableBufferPointer { dp in
            guard let s0 = sp.baseAddress, let d0 = dp.baseAddress else { return }
            for r in 0..<rows {
                let s = s0 + r * width, d = d0 + r * cols + start
                for j in 0..<width { d[j] += s[j] }
            }
        }
    }
}
