/// The post-norm residual of every TRM sub-layer: o = rmsnorm(h + f), weightless, over the last axis
/// of a [rows, cols] view. The mlp_t sub-layer uses it over S on the transposed [B·D, S] view.
///
/// Saved for backward: the output o [rows, cols] (shared with the caller, no copy) and 1/rms [rows].
/// With s = h + f and r = 1/sqrt(mean(s²) + eps): ∂s = r·(∂o − o·mean(∂o ⊙ o)), which h and f both get.
public struct ResidualRMSNorm: Sendable, Hashable {
    public let rows: Int
    public let cols: Int
    public let eps: Float

    public init(rows: Int, cols: Int, eps: Float) {
        precondition(rows >= 0 && cols > 0 && eps > 0, "ResidualRMSNorm: bad sizes")
        self.rows = rows
        self.cols = cols
        self.eps = eps
    }

    /// What the backward needs.
    public struct Saved: Sendable {
        /// o [rows, cols].
        public let out: [Float]
        /// 1/rms per row [rows].
        public let invRMS: [Float]
    }

    /// h, f [rows, cols] -> o = rmsnorm(h + f). Accumulates Σs² in fp32 in index order, as the
    /// runtime's fused AddRMSNorm does, so both give the same values.
    public func forward(_ h: [Float], _ f: [Float]) -> (out: [Float], saved: Saved) {
        checkCount(h, rows * cols, "ResidualRMSNorm h")
        checkCount(f, rows * cols, "ResidualRMSNorm f")
        var out = [Float](repeating: 0, count: rows * cols)
        var inv = [Float](repeating: 0, count: rows)
        h.withUnsafeBufferPointer { hp in
            f.withUnsafeBufferPointer { fp in
                out.withUnsafeMutableBufferPointer { op in
                    for r in 0..<rows {
                        let base = r * cols
                        var ss: Float = 0
                        for i in base..<(base + cols) {
                            let v = hp[i] + fp[i]
                            op[i] = v
                            ss += v * v
                        }
                        let ir = 1 / (ss / Float(cols) + eps).squareRoot()
                        inv[r] = ir
                        for i in base..<(base + cols) { op[i] *= ir }
                    }
                }
            }
        }
        return (out, Saved(out: out, invRMS: inv))
    }

    /// dO [rows, cols] -> ∂s [rows, cols], the gradient of both h and f.
    public func backward(_ dOut: [Float], _ saved: Saved) -> [Float] {
        checkCount(dOut, rows * cols, "ResidualRMSNorm dOut")
        checkCount(saved.out, rows * cols, "ResidualRMSNorm saved output")
        var ds = [Float](repeating: 0, count: rows * cols)
        dOut.withUnsafeBufferPointer { gp in
            saved.out.withUnsafeBufferPointer { op in
                ds.withUnsafeMutableBufferPointer { dp in
                    for r in 0..<rows {
                        let base = r * cols
                        var dot: Double = 0
                        for i in base..<(base + cols) { dot += Double(gp[i]) * Double(op[i]) }
                        let mean = Float(dot / Double(cols)), ir = saved.invRMS[r]
                        for i in base..<(base + cols) { dp[i] = ir * (gp[i] - op[i] * mean) }
                    }
                }
            }
        }
        return ds
    }
}
