/// The loss of one ACT step over all B slots (docs/model.md §8.2), halted or not:
/// lm_loss = Σ_b Σ_t loss[b, t] / max(n_b, 1), q_halt_loss = Σ_b BCE(q_halt[b], correct[b]),
/// total = lm_loss + 0.5·q_halt_loss. `correct[b]` means every valid token's argmax (first maximum
/// on ties, as torch.argmax) equals its label; it is a target, so no gradient flows through it.
public struct ACTLoss: Sendable, Hashable {
    public var tokenLoss: TokenLoss
    /// Weight of the Q-halt BCE in the total (0.5 in the reference).
    public var haltWeight: Double

    public init(tokenLoss: TokenLoss = .stablemax, haltWeight: Double = 0.5) {
        self.tokenLoss = tokenLoss
        self.haltWeight = haltWeight
    }

    public struct Result: Sendable {
        public var total: Double
        public var lmLoss: Double
        public var qHaltLoss: Double
        /// n_b: labels ≠ −100 per sample.
        public var validTokens: [Int]
        /// Valid tokens predicted right per sample.
        public var correctTokens: [Int]
        /// Whole-grid correctness per sample (true when n_b = 0).
        public var exact: [Bool]
        /// ∂(gradScale·total)/∂logits [B, L, V].
        public var dLogits: [Float]
        /// ∂(gradScale·total)/∂q [B, 2] (q_continue gets 0: no_ACT_continue).
        public var dQ: [Float]
    }

    /// logits [B, L, V], q [B, 2] (q_halt, q_continue), labels [B, L] -> loss, metrics and the
    /// gradients of gradScale·total (the reference back-propagates total / global_batch_size).
    public func evaluate(
        logits: [Float], q: [Float], labels: [Int32], batch: Int, seqLen: Int, vocab: Int,
        gradScale: Double = 1
    ) -> Result {
        precondition(
            logits.count == batch * seqLen * vocab && labels.count == batch * seqLen && q.count == batch * 2,
            "ACTLoss: logits [B, L, V], q [B, 2], labels [B, L] expected")
        let perToken = tokenLoss.forward(logits: logits, labels: labels, vocab: vocab)
        var valid = [Int](repeating: 0, count: batch), right = valid
        var dLoss = [Double](repeating: 0, count: labels.count)
        var lm = 0.0
        for b in 0..<batch {
            for t in 0..<seqLen {
                let r = b * seqLen + t, label = labels[r]
                guard label != TokenLoss.ignoreLabel else { continue }
                valid[b] += 1
                var best = 0
                for k in 1..<vocab where logits[r * vocab + k] > logits[r * vocab + best] { best = k }
                if best == Int(label) { right[b] += 1 }
            }
            let div = Double(max(valid[b], 1))
            for t in 0..<seqLen {
                let r = b * seqLen + t
                lm += perToken[r] / div
                if labels[r] != TokenLoss.ignoreLabel { dLoss[r] = gradScale / div }
            }
        }
        let exact = (0..<batch).map { right[$0] == valid[$0] }
        var halt = 0.0
        var dQ = [Float](repeating: 0, count: batch * 2)
        for b in 0..<batch {
            let target: Float = exact[b] ? 1 : 0
            halt += BinaryCrossEntropy.loss(logit: q[2 * b], target: target)
            dQ[2 * b] = Float(gradScale * haltWeight * BinaryCrossEntropy.gradient(logit: q[2 * b], target: target))
        }
        let dLogits = tokenLoss.backward(logits: logits, labels: labels, vocab: vocab, dLoss: dLoss)
        return Result(
            total: lm + haltWeight * halt, lmLoss: lm, qHaltLoss: halt, validTokens: valid,
            correctTokens: right, exact: exact, dLogits: dLogits, dQ: dQ)
    }
}
