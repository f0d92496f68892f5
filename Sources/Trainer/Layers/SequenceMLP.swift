import Runtime

/// The whole `mlp_t` sub-layer (docs/model.md §5): token mixing over the sequence axis.
/// t = transpose(h) [B, D, S]; t = rmsnorm_S(t + SwiGLU_S(t)); h = transpose(t). Unlike the other
/// sub-layers its post-norm runs over S, so the residual and norm live here, not in the network.
///
/// Saved for backward: the MLP's saved state (the transposed input [B·D, S] and gate_up [B·D, 2I])
/// and the norm's (its output [B·D, S] and 1/rms [B·D]).
public struct SequenceMLP: Sendable, Hashable {
    public let batch: Int
    public let seq: Int
    public let hidden: Int
    public let mlp: SwiGLUMLP
    public let norm: ResidualRMSNorm

    public init(batch: Int, seq: Int, hidden: Int, width: Int, eps: Float) {
        self.batch = batch
        self.seq = seq
        self.hidden = hidden
        mlp = SwiGLUMLP(rows: batch * hidden, features: seq, width: width)
        norm = ResidualRMSNorm(rows: batch * hidden, cols: seq, eps: eps)
    }

    public struct Saved: Sendable {
        public let mlp: SwiGLUMLP.Saved
        public let norm: ResidualRMSNorm.Saved
    }

    /// h [B, S, D] -> the sub-layer's output [B, S, D] (already normalised).
    public func forward(_ h: [Float], params: ParameterSet, prefix: String) -> (out: [Float], saved: Saved) {
        checkCount(h, batch * seq * hidden, "SequenceMLP input")
        let t = transposeLast2(h, batch: batch, rows: seq, cols: hidden)
        let (f, mlpSaved) = mlp.forward(t, params: params, prefix: prefix)
        let (o, normSaved) = norm.forward(t, f)
        return (transposeLast2(o, batch: batch, rows: hidden, cols: seq), Saved(mlp: mlpSaved, norm: normSaved))
    }

    /// dOut [B, S, D] -> dh [B, S, D]; the residual path and the MLP path both carry ∂s.
    public func backward(
        _ dOut: [Float], _ saved: Saved, params: ParameterSet, grads: inout ParameterSet,
        prefix: String
    ) -> [Float] {
        checkCount(dOut, batch * seq * hidden, "SequenceMLP dOut")
        let dO = transposeLast2(dOut, batch: batch, rows: seq, cols: hidden)
        var ds = norm.backward(dO, saved.norm)
        addInPlace(&ds, mlp.backward(ds, saved.mlp, params: params, grads: &grads, prefix: prefix))
        return transposeLast2(ds, batch: batch, rows: hidden, cols: seq)
    }
}

/// [batch, rows, cols] -> [batch, cols, rows] with the runtime's transpose kernel.
func transposeLast2(_ x: [Float], batch: Int, rows: Int, cols: Int) -> [Float] {
    checkCount(x, batch * rows * cols, "transposeLast2")
    var out = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xp in
        out.withUnsafeMutableBufferPointer { op in
            Layout.transposeLast2(xp.baseAddress!, op.baseAddress!, batch: batch, rows: rows, cols: cols)
        }
    }
    return out
}
