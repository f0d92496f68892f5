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
        // Every element is written, so no zero fill first.
        return [Float](unsafeUninitializedCapacity: rows * width) { op, initialized in
            gu.withUnsafeBufferPointer { xp in
                // The runtime's vectorised kernel: silu(g)·u, the same values inference computes.
                for r in 0..<rows {
                    let g = xp.baseAddress! + r * 2 * width
                    trm_swiglu(g, g + width, op.baseAddress! + r * width, width)
                }
            }
            initialized = rows * width
        }
    }

    /// dOut [rows, I] -> dGU [rows, 2I]: ∂gate = dOut·up·silu′(gate), ∂up = dOut·silu(gate).
    public func backward(_ dOut: [Float], input gu: [Float]) -> [Float] {
        checkCount(dOut, rows * width, "SwiGLUActivation dOut")
        checkCount(gu, rows * 2 * width, "SwiGLUActivation input")
        var sig = [Float](repeating: 0, count: width)
        // Every element is written, so no zero fill first; rows through pointers, so the inner loop
        // has no checked index arithmetic and vectorises.
        return [Float](unsafeUninitializedCapacity: rows * 2 * width) { dp, initialized in
            gu.withUnsafeBufferPointer { xp in
                dOut.withUnsafeBufferPointer { gp in
                    sig.withUnsafeMutableBufferPointer { sp in
                        let s = sp.baseAddress!
                        for r in 0..<rows {
                            let gate = xp.baseAddress! + r * 2 * width, up = gate + width, go = gp.baseAddress! + r * width
                            let dGate = dp.baseAddress! + r * 2 * width, dUp = dGate + width
                            trm_vsigmoid(gate, s, width)
                            for i in 0..<width {
                                // silu = g·σ, silu′ = σ·(1 + g·(1 − σ)).
                                dGate[i] = go[i] * up[i] * s[i] * (1 + gate[i] * (1 - s[i]))
                                dUp[i] = go[i] * gate[i] * s[i]
                            }
                        }
                    }
                }
            }
            initialized = rows * 2 * width
        }
    }
}
