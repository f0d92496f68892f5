import CKernels

/// The SwiGLU gate: out = silu(gate) ⊙ up, where a row of the input is gate | up (first half gate,
/// as `gate_up_proj` lays them out, docs/model.md §5).
///
/// Saved for backward: the input [rows, 2I] only (the caller holds it: the gate_up projection).
public struct SwiGLUActivation: Sendable, Hashable {
    public let rows: Int
    /// I: output width (half the input width).
    public let width: Int

    public init(rows: Int, width: Int) {
        precondition(rows >= 0 && width > 0, "SwiGLUActivation: bad sizes")
        self.rows = rows
        self.width = width
    }

    /// gu [rows, 2I] -> [rows, I].
    public func forward(_ gu: [Float]) -> [Float] {
        checkCount(gu, rows * 2 * width, "SwiGLUActivation input")
        var out = [Float](repeating: 0, count: rows * width)
        gu.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                // The runtime's vectorised kernel: silu(g)·u, the same values inference computes.
                for r in 0..<rows {
                    let g = xp.baseAddress! + r * 2 * width
                    trm_swiglu(g, g + width, op.baseAddress! + r * width, width)
                }
            }
        }
        return out
    }

    /// dOut [rows, I] -> dGU [rows, 2I]: ∂gate = dOut·up·silu′(gate), ∂up = dOut·silu(gate).
    public func backward(_ dOut: [Float], input gu: [Float]) -> [Float] {
        checkCount(dOut, rows * width, "SwiGLUActivation dOut")
        checkCount(gu, rows * 2 * width, "SwiGLUActivation input")
        var dgu = [Float](repeating: 0, count: rows * 2 * width)
        var sig = [Float](repeating: 0, count: width)
        gu.withUnsafeBufferPointer { xp in
            dOut.withUnsafeBufferPointer { gp in
                dgu.withUnsafeMutableBufferPointer { dp in
                    sig.withUnsafeMutableBufferPointer { sp in
                        for r in 0..<rows {
                            let base = r * 2 * width
                            trm_vsigmoid(xp.baseAddress! + base, sp.baseAddress!, width)
                            for i in 0..<width {
                                // silu = g·σ, silu′ = σ·(1 + g·(1 − σ)).
                                let g = xp[base + i], u = xp[base + width + i], go = gp[r * width + i], s = sp[i]
                                dp[base + i] = go * u * s * (1 + g * (1 - s))
                                dp[base + width + i] = go * g * s
                            }
                        }
                    }
                }
            }
        }
        return dgu
    }
}
