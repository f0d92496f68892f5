import Foundation
import Testing
import GraphIR
@testable import Trainer

/// Losses of docs/model.md §8: values at the spec's parity points and finite-difference gradients.
@Suite struct TrainerLayerLossTests {
    static let tolerance = TrainerLayerGradientTests.tolerance

    @Test func stablemaxParityValues() {
        // docs/model.md §11: stablemax(0, 0) = (0.5, 0.5); stablemax(1, −1): s = (2, 0.5), p = (0.8, 0.2).
        let loss = TokenLoss.stablemax.forward(logits: [0, 0, 1, -1, 1, -1], labels: [0, 0, 1], vocab: 2)
        #expect(abs(loss[0] - log(2)) < 1e-15)
        #expect(abs(loss[1] + log(0.8)) < 1e-15)
        #expect(abs(loss[2] + log(0.2)) < 1e-15)
        let soft = TokenLoss.softmax.forward(logits: [0, 0, 1, -1], labels: [0, TokenLoss.ignoreLabel], vocab: 2)
        #expect(abs(soft[0] - log(2)) < 1e-15 && soft[1] == 0)
    }

    @Test(arguments: TokenLoss.allCases)
    func tokenLossGradient(kind: TokenLoss) {
        let rows = 6, vocab = 5
        let labels: [Int32] = [2, TokenLoss.ignoreLabel, 0, 4, TokenLoss.ignoreLabel, 1]
        let check = GradientCheck(
            args: ["z": randomArray(rows * vocab, std: 2, seed: 50)],
            forward: { a in
                kind.forward(logits: a["z"]!, labels: labels, vocab: vocab)
            },
            backward: { a, d in
                ["z": kind.backward(logits: a["z"]!, labels: labels, vocab: vocab, dLoss: d.map(Double.init))]
            })
        let errors = check.run()
        report("loss-\(kind)", errors)
        #expect(errors["z"]! <= Self.tolerance)
        // Ignored rows get neither loss nor gradient.
        let z = randomArray(rows * vocab, seed: 51)
        let g = kind.backward(logits: z, labels: labels, vocab: vocab, dLoss: [Double](repeating: 1, count: rows))
        #expect(g[vocab..<(2 * vocab)].allSatisfy { $0 == 0 } && kind.forward(logits: z, labels: labels, vocab: vocab)[4] == 0)
    }

    @Test func binaryCrossEntropy() {
        for x: Float in [-30, -5, -0.3, 0, 0.7, 4, 30] {
            for y: Float in [0, 1] {
                let h: Float = 1e-2
                let numeric =
                    (BinaryCrossEntropy.loss(logit: x + h, target: y) - BinaryCrossEntropy.loss(logit: x - h, target: y)) / Double(2 * h)
                #expect(abs(numeric - BinaryCrossEntropy.gradient(logit: x, target: y)) < 1e-4)
                let p = 1 / (1 + exp(-Double(x)))
                if abs(x) < 10 {
                    #expect(abs(BinaryCrossEntropy.loss(logit: x, target: y) + (Double(y) * log(p) + Double(1 - y) * log(1 - p))) < 1e-12)
                }
            }
        }
    }

    /// Stablemax's second derivative jumps at 0 (s″ = 0 above, 2 below), so a step that carries a
    /// logit across 0 breaks Richardson's assumption: small steps are used (the loss is float64, so
    /// there is no fp32 noise to fight).
    /// Sample 0 is entirely right (target 1), sample 1 has a wrong token (target 0), sample 2 has no
    /// valid label (n_b = 0: counted right, lm term 0).
    @Test func actLossAggregationAndGradient() {
        let batch = 3, seqLen = 4, vocab = 3
        let labels: [Int32] = [0, 1, 2, -100, 1, 1, 0, 2, -100, -100, -100, -100]
        var logits = randomArray(batch * seqLen * vocab, std: 0.3, seed: 52)
        // Winners with a margin of ≥ 2, so no finite-difference step can flip an argmax.
        let winners = [0, 1, 2, 0, 1, 0, 0, 2, 1, 1, 1, 1]
        for (r, w) in winners.enumerated() { logits[r * vocab + w] += 3 }
        let q: [Float] = [-1.5, 0.3, 2, -0.4, 0.1, 1]
        let loss = ACTLoss()
        let r = loss.evaluate(logits: logits, q: q, labels: labels, batch: batch, seqLen: seqLen, vocab: vocab)
        #expect(r.exact == [true, false, true] && r.validTokens == [3, 4, 0] && r.correctTokens == [3, 3, 0])
        let perToken = TokenLoss.stablemax.forward(logits: logits, labels: labels, vocab: vocab)
        let lm = perToken[0..<4].reduce(0, +) / 3 + perToken[4..<8].reduce(0, +) / 4
        let halt =
            BinaryCrossEntropy.loss(logit: -1.5, target: 1) + BinaryCrossEntropy.loss(logit: 2, target: 0)
            + BinaryCrossEntropy.loss(logit: 0.1, target: 1)
        #expect(abs(r.lmLoss - lm) < 1e-12 && abs(r.qHaltLoss - halt) < 1e-12 && abs(r.total - (lm + 0.5 * halt)) < 1e-12)
        let scale = 1.0 / 768
        let check = GradientCheck(
            args: ["logits": logits, "q": q],
            forward: { a in
                [scale * loss.evaluate(logits: a["logits"]!, q: a["q"]!, labels: labels, batch: batch, seqLen: seqLen, vocab: vocab).total]
            },
            backward: { a, d in
                let g = loss.evaluate(
                    logits: a["logits"]!, q: a["q"]!, labels: labels, batch: batch, seqLen: seqLen, vocab: vocab, gradScale: scale)
                return ["logits": g.dLogits.map { $0 * d[0] }, "q": g.dQ.map { $0 * d[0] }]
            }, steps: [1e-3, 1e-4])
        let errors = check.run()
        report("act-loss", errors)
        for (name, e) in errors { #expect(e <= Self.tolerance, "\(name): \(e)") }
        #expect(r.dQ[1] == 0 && r.dQ[3] == 0 && r.dQ[5] == 0)  // q_continue gets no gradient
    }
}
