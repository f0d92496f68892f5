import Foundation

/// Rotary position embeddings, half-split ("NeoX") layout as the reference uses.
public enum Rope {
    /// cos/sin tables [seqLen, dim]: angle = fp32(p) × fp32(θ^(-2i/d)), duplicated over both halves,
    /// computed in fp32 as the reference does (docs/model.md §10).
    public static func table(cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>, seqLen: Int, dim: Int, theta: Float) {
        let half = dim / 2
        for i in 0..<half {
            let exponent = Float(2 * i) / Float(dim)
            let invFreq = 1 / powf(theta, exponent)
            for p in 0..<seqLen {
                let angle = Float(p) * invFreq
                let c = cosf(angle), s = sinf(angle)
                cos[p * dim + i] = c
                cos[p * dim + i + half] = c
                sin[p * dim + i] = s
                sin[p * dim + i + half] = s
            }
        }
    }

    /// Rotates one head vector: out = v·cos + rot(v)·sin, rot(v) = (-v[d/2:], v[:d/2]).
    @inline(__always)
    static func rotate(
        _ v: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>,
        sin: UnsafePointer<Float>, dim: Int
    ) {
        let half = dim / 2
        for i in 0..<half {
            let a = v[i], b = v[i + half]
            out[i] = a * cos[i] - b * sin[i]
            out[i + half] = b * cos[i + half] + a * sin[i + half]
        }
    }

    /// x [rows = batch·seq, heads·headDim]: every head of every token rotated by its position.
    /// `out` may not alias `x`.
    public static func apply(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>,
        sin: UnsafePointer<Float>, batch: Int, seq: Int, heads: Int, headDim: Int
    ) {
        let width = heads * headDim
        for b in 0..<batch {
            for p in 0..<seq {
                let row = (b * seq + p) * width
                for h in 0..<heads {
                    rotate(x + row + h * headDim, out + row + h * headDim, cos: cos + p * headDim, sin: sin + p * headDim, dim: headDim)
                }
            }
        }
    }
}
