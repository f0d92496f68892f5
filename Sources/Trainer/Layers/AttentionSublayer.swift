/// f(h) of an `attn` sub-layer (docs/model.md §5): fused qkv projection (weight rows Q | K | V,
/// head-major), RoPE on q and k, non-causal attention, o_proj. The post-norm residual around it is
/// the network's. Tensors: `<prefix>.qkv_proj.weight` [3D, D], `<prefix>.o_proj.weight` [D, D].
///
/// Saved for backward: the input h [B·S, D] (for ∂W_qkv) and the attention's saved state: rotated q,
/// k, v and the attention output (the input of o_proj) [B·S, D] each, plus lse [B, H, S].
public struct AttentionSublayer: Sendable {
    public let seq: Int
    public let hidden: Int
    public let attention: MultiHeadAttention
    /// nil when the model has no RoPE (learned or no positions).
    public let rope: RotaryEmbedding?

    public init(seq: Int, hidden: Int, heads: Int, rope: RotaryEmbedding?) {
        precondition(hidden % heads == 0, "AttentionSublayer: hidden \(hidden) is not a multiple of heads \(heads)")
        if let rope { precondition(rope.seq == seq && rope.heads == heads && rope.headDim == hidden / heads) }
        self.seq = seq
        self.hidden = hidden
        attention = MultiHeadAttention(seq: seq, heads: heads, headDim: hidden / heads)
        self.rope = rope
    }

    public struct Saved: Sendable {
        public let input: [Float]
        public let attention: MultiHeadAttention.Saved
    }

    private var qkvProj: Linear { Linear(inFeatures: hidden, outFeatures: 3 * hidden) }
    private var oProj: Linear { Linear(inFeatures: hidden, outFeatures: hidden) }

    /// h [B, S, D] -> f(h) [B, S, D].
    public func forward(_ h: [Float], params: ParameterSet, prefix: String, batch: Int) -> (out: [Float], saved: Saved) {
        let rows = batch * seq, d = hidden
        checkCount(h, rows * d, "AttentionSublayer input")
        let qkv = qkvProj.forward(h, rows: rows, params: params, name: prefix + ".qkv_proj.weight")
        var q = sliceColumns(qkv, rows: rows, cols: 3 * d, start: 0, width: d)
        var k = sliceColumns(qkv, rows: rows, cols: 3 * d, start: d, width: d)
        let v = sliceColumns(qkv, rows: rows, cols: 3 * d, start: 2 * d, width: d)
        if let rope {
            q = rope.forward(q, batch: batch)
            k = rope.forward(k, batch: batch)
        }
        let (a, saved) = attention.forward(q: q, k: k, v: v, batch: batch, precision: params.packs?.precision ?? .fp32)
        let out = oProj.forward(a, rows: rows, params: params, name: prefix + ".o_proj.weight")
        return (out, Saved(input: h, attention: saved))
    }

    /// dOut [B, S, D] -> dh [B, S, D]; accumulates ∂W_qkv and ∂W_o into `grads`.
    public func backward(
        _ dOut: [Float], _ saved: Saved, params: ParameterSet, grads: inout ParameterSet,
        prefix: String, batch: Int
    ) -> [Float] {
        let rows = batch * seq
        let oName = prefix + ".o_proj.weight", qkvName = prefix + ".qkv_proj.weight"
        let dA = oProj.backward(dOut, x: saved.attention.out, rows: rows, params: params, name: oName, grads: &grads)
        var (dq, dk, dv) = attention.backward(dA, saved.attention, batch: batch)
        if let rope {
            dq = rope.backward(dq, batch: batch)
            dk = rope.backward(dk, batch: batch)
        }
        let dqkv = concatColumns([dq, dk, dv], rows: rows)
        return qkvProj.backward(dqkv, x: saved.input, rows: rows, params: params, name: qkvName, grads: &grads)
    }
}
