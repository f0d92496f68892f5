import CKernels
import Foundation

/// Elementwise kernels. `out` may alias the first input (the memory planner reuses buffers in place).
public enum Elementwise {
    /// out[i] = a[i] + b[i mod bCount]; `count` is a multiple of `bCount`.
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        count: Int, bCount: Int
    ) {
        precondition(bCount > 0 && count % bCount == 0, "add: \(count) is not a multiple of \(bCount)")
        var base = 0
        while base < count {
            for i in 0..<bCount { out[base + i] = a[base + i] + b[i] }
            base += bCount
        }
    }

    /// out[i] = a[i] · b[i mod bCount].
    public static func mul(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        count: Int, bCount: Int
    ) {
        precondition(bCount > 0 && count % bCount == 0, "mul: \(count) is not a multiple of \(bCount)")
        var base = 0
        while base < count {
            for i in 0..<bCount { out[base + i] = a[base + i] * b[i] }
            base += bCount
        }
    }

    public static func scale(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, factor: Float) {
        for i in 0..<count { out[i] = x[i] * factor }
    }

    public static func silu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        trm_vsilu(x, out, count)
    }

    public static func sigmoid(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        trm_vsigmoid(x, out, count)
    }

    public static func softplus(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = softplusScalar(x[i]) }
    }

    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        if x != UnsafePointer(out) { out.update(from: x, count: count) }
        trm_vexp(out, count)
    }

    /// x·sigmoid(x).
    @inline(__always)
    public static func siluScalar(_ v: Float) -> Float { v / (1 + Foundation.exp(-v)) }

    /// log(1 + eˣ), passing x through above 20 (as PyTorch does).
    @inline(__always)
    public static func softplusScalar(_ v: Float) -> Float { v > 20 ? v : log1p(Foundation.exp(v)) }
}
