import CKernels
import Foundation

/// Weightless RMSNorm, the fused residual + RMSNorm, and Mamba-2's gated grouped RMSNorm. Row-wise:
/// `out` may alias the first input.
public enum Norms {
    /// out[r] = x[r] / sqrt(mean(x[r]²) + eps) for each of `rows` rows of `cols`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, eps: Float) {
        for r in 0..<rows {
            let xr = x + r * cols, o = out + r * cols
            var ss: Float = 0
            for i in 0..<cols { ss += xr[i] * xr[i] }
            let inv = 1 / (ss / Float(cols) + eps).squareRoot()
            for i in 0..<cols { o[i] = xr[i] * inv }
        }
    }

    /// out[r] = rmsNorm(a[r] + b[((firstRow + r)·cols + i) mod bCount]): the post-norm residual in
    /// one pass. `firstRow` places a chunk of rows within the whole tensor (for the broadcast of b).
    public static func addRMSNorm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int, bCount: Int, firstRow: Int = 0, eps: Float
    ) {
        precondition(bCount > 0 && (bCount % cols == 0 || cols % bCount == 0))
        for r in 0..<rows {
            let ar = a + r * cols, o = out + r * cols
            var ss: Float = 0
            if bCount >= cols {
                let br = b + ((firstRow + r) * cols) % bCount
                for i in 0..<cols {
                    let v = ar[i] + br[i]
                    o[i] = v
                    ss += v * v
                }
            } else {
                for i in 0..<cols {
                    let v = ar[i] + b[i % bCount]
                    o[i] = v
                    ss += v * v
                }
            }
            let inv = 1 / (ss / Float(cols) + eps).squareRoot()
            for i in 0..<cols { o[i] *= inv }
        }
    }

    /// v = y ⊙ silu(z); each group of `groupSize` channels of a row is RMS-normalised; times w.
    public static func gatedRMSNorm(
        _ y: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, groupSize: Int, eps: Float
    ) {
        precondition(groupSize > 0 && cols % groupSize == 0)
        for r in 0..<rows {
            gatedRow(y + r * cols, z + r * cols, w, out + r * cols, cols: cols, groupSize: groupSize, eps: eps)
        }
    }

    /// One row of the gated norm (shared with the fused Mamba-2 kernel). `y` may alias `o`: each
    /// block of 8 is read before it is written.
    @inline(__always)
    static func gatedRow(
        _ y: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ o: UnsafeMutablePointer<Float>, cols: Int, groupSize: Int, eps: Float
    ) {
        typealias V = FastMath.V
        let wr = UnsafeRawPointer(w), orw = UnsafeMutableRawPointer(o)
        var g = 0
        while g < cols {
            let end = g + groupSize
            if groupSize % 8 == 0 {
                var ss = V()
                trm_gate(y + g, z + g, o + g, groupSize)
                for i in stride(from: g, to: end, by: 8) {
                    let v = orw.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
                    ss += v * v
                }
                let inv = V(repeating: 1 / (ss.sum() / Float(groupSize) + eps).squareRoot())
                for i in stride(from: g, to: end, by: 8) {
                    let v = orw.loadUnaligned(fromByteOffset: 4 * i, as: V.self) * inv * wr.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
                    orw.storeBytes(of: v, toByteOffset: 4 * i, as: V.self)
                }
            } else {
                var ss: Float = 0
                for i in g..<end {
                    let v = y[i] * Elementwise.siluScalar(z[i])
                    o[i] = v
                    ss += v * v
                }
                let inv = 1 / (ss / Float(groupSize) + eps).squareRoot()
                for i in g..<end { o[i] *= inv * w[i] }
            }
            g = end
        }
    }
}
