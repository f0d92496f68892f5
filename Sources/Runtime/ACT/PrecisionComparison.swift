import TRMCore

/// How far one run's outputs are from a reference run's on the same inputs (bf16 against fp32):
/// the accuracy gate of docs/precision.md, shared by `trm-bench` and the tests.
public struct PrecisionComparison: Sendable, Equatable {
    /// Share of token positions whose logits argmax is the same in both runs.
    public var argmaxAgreement: Double
    /// ‖Δ‖₂ / ‖reference‖₂ over all logits.
    public var relativeError: Double
    /// The largest per-position ‖Δ‖₂ / ‖reference‖₂ (one token's vocabulary row).
    public var maxRowRelativeError: Double
    /// ‖Δ‖₂ / ‖reference‖₂ of q_halt.
    public var qHaltRelativeError: Double

    /// Compares `other` with `reference` (logits [N, L, vocab], q_halt [N]).
    public init(reference: ACTResult, other: ACTResult, vocab: Int) {
        precondition(vocab > 0 && reference.logits.count == other.logits.count && reference.logits.count % vocab == 0)
        let a = reference.logits, b = other.logits
        var same = 0, num = 0.0, den = 0.0, worst = 0.0
        let rows = a.count / vocab
        for r in 0..<rows {
            var rowNum = 0.0, rowDen = 0.0, bestA = r * vocab, bestB = r * vocab
            for i in (r * vocab)..<((r + 1) * vocab) {
                let d = Double(a[i]) - Double(b[i])
                rowNum += d * d
                rowDen += Double(a[i]) * Double(a[i])
                if a[i] > a[bestA] { bestA = i }
                if b[i] > b[bestB] { bestB = i }
            }
            if bestA == bestB { same += 1 }
            num += rowNum
            den += rowDen
            worst = max(worst, (rowNum / max(rowDen, 1e-300)).squareRoot())
        }
        argmaxAgreement = Double(same) / Double(max(rows, 1))
        relativeError = (num / max(den, 1e-300)).squareRoot()
        maxRowRelativeError = worst
        let qNum = zip(reference.qHalt, other.qHalt).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let qDen = reference.qHalt.reduce(0.0) { $0 + Double($1) * Double($1) }
        qHaltRelativeError = (qNum / max(qDen, 1e-300)).squareRoot()
    }
}

/// Runs one model in fp32 and in bf16 on the same random tokens and compares the outputs.
public enum PrecisionGate {
    /// `PrecisionComparison` of bf16 against fp32 after `steps` fixed ACT steps on `batch` samples
    /// of seeded random tokens.
    public static func compare(model: LoadedModel, batch: Int, threads: Int, steps: Int, seed: UInt64 = 4) throws -> PrecisionComparison {
        var results: [ACTResult] = []
        var tokens: [Int32] = []
        var seqLen = 0
        for precision in [Precision.fp32, .bf16] {
            let runner = try ACTRunner(session: Session(model: model, batch: batch, threads: threads, precision: precision))
            if tokens.isEmpty {
                seqLen = runner.seqLen
                var rng = SeededRandom(seed: seed)
                tokens = (0..<(batch * runner.seqLen)).map { _ in Int32(rng.next() % UInt64(runner.vocabIn)) }
            }
            results.append(try runner.run(tokens: tokens, puzzleIds: nil, count: batch, halting: .fixed, maxSteps: steps))
        }
        return PrecisionComparison(reference: results[0], other: results[1], vocab: results[0].logits.count / (batch * seqLen))
    }
}
