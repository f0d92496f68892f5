import GraphIR

/// The two heads read from z_H (docs/model.md §6): lm_head on the grid positions P..S−1 (no bias) and
/// q_head (+ bias) on prefix position 0, whose first output is q_halt and second q_continue.
/// Tensors: `lm_head.weight` [V, D], `q_head.weight` [2, D], `q_head.bias` [2].
///
/// Saved for backward: the grid rows [B·L, D] and the position-0 rows [B, D] of z_H (lm_head's and
/// q_head's inputs).
public struct OutputHeads: Sendable, Hashable {
    public let batch: Int
    public let seqLen: Int
    public let prefixLen: Int
    public let hidden: Int
    public let vocab: Int

    public init(config: ModelConfig, batch: Int) {
        self.batch = batch
        seqLen = config.seqLen
        prefixLen = config.puzzleEmbLen
        hidden = config.hidden
        vocab = config.vocab
    }

    public struct Saved: Sendable {
        public let grid: [Float]
        public let first: [Float]
    }

    private var fullSeqLen: Int { seqLen + prefixLen }
    private var lmHead: Linear { Linear(inFeatures: hidden, outFeatures: vocab) }
    private var qHead: Linear { Linear(inFeatures: hidden, outFeatures: 2) }

    /// zH [B, S, D] -> logits [B, L, V] and q [B, 2] (q_halt, q_continue).
    public func forward(_ zH: [Float], params: ParameterSet) -> (logits: [Float], q: [Float], saved: Saved) {
        let s = fullSeqLen, d = hidden
        checkCount(zH, batch * s * d, "OutputHeads z_H")
        var grid = [Float](repeating: 0, count: batch * seqLen * d), first = [Float](repeating: 0, count: batch * d)
        for b in 0..<batch {
            for i in 0..<(seqLen * d) { grid[b * seqLen * d + i] = zH[(b * s + prefixLen) * d + i] }
            for i in 0..<d { first[b * d + i] = zH[b * s * d + i] }
        }
        let logits = lmHead.forward(grid, rows: batch * seqLen, params: params, name: "lm_head.weight")
        let q = qHead.forward(first, rows: batch, params: params, name: "q_head.weight", bias: "q_head.bias")
        return (logits, q, Saved(grid: grid, first: first))
    }

    /// dLogits [B, L, V], dQ [B, 2] -> dzH [B, S, D]; accumulates the three head tensors' gradients.
    public func backward(
        dLogits: [Float], dQ: [Float], _ saved: Saved, params: ParameterSet,
        grads: inout ParameterSet
    ) -> [Float] {
        let s = fullSeqLen, d = hidden
        checkCount(dLogits, batch * seqLen * vocab, "OutputHeads dLogits")
        checkCount(dQ, batch * 2, "OutputHeads dQ")
        let dGrid = lmHead.backward(dLogits, x: saved.grid, rows: batch * seqLen, params: params, name: "lm_head.weight", grads: &grads)
        let dFirst = qHead.backward(
            dQ, x: saved.first, rows: batch, params: params, name: "q_head.weight", grads: &grads, bias: "q_head.bias")
        var dzH = [Float](repeating: 0, count: batch * s * d)
        for b in 0..<batch {
            for i in 0..<(seqLen * d) { dzH[(b * s + prefixLen) * d + i] = dGrid[b * seqLen * d + i] }
            for i in 0..<d { dzH[b * s * d + i] += dFirst[b * d + i] }
        }
        return dzH
    }
}
