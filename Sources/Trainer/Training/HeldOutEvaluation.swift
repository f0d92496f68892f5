import GraphIR

/// Exact and token accuracy of a model on held-out examples, as the reference evaluates (docs/model.md
/// §7.1): a fresh carry, exactly halt_max_steps ACT steps, argmax of the last step's logits.
public enum HeldOutEvaluation {
    public struct Result: Sendable, Equatable {
        public var count: Int
        public var exact: Double
        public var tokenAccuracy: Double
    }

    public static func run(config: ModelConfig, params: ParameterSet, examples: [TrainingExample], batch: Int) -> Result {
        precondition(batch > 0, "HeldOutEvaluation: batch must be positive")
        guard !examples.isEmpty else { return Result(count: 0, exact: 0, tokenAccuracy: 0) }
        let model = EagerModel(config: config, params: params, batch: batch)
        let l = config.seqLen, v = config.vocab
        var exact = 0, tokenAcc = 0.0, counted = 0
        let (logits, _) = model.solveAll(
            tokens: examples.flatMap(\.tokens), puzzleIds: examples.map(\.puzzleId),
            count: examples.count, steps: config.haltMaxSteps)
        for (b, example) in examples.enumerated() {
            var valid = 0, right = 0
            for t in 0..<l {
                let label = example.labels[t]
                guard label != TokenLoss.ignoreLabel else { continue }
                valid += 1
                let row = (b * l + t) * v
                var best = 0
                for k in 1..<v where logits[row + k] > logits[row + best] { best = k }
                if best == Int(label) { right += 1 }
            }
            guard valid > 0 else { continue }
            counted += 1
            if right == valid { exact += 1 }
            tokenAcc += Double(right) / Double(valid)
        }
        return Result(count: counted, exact: Double(exact) / Double(max(counted, 1)), tokenAccuracy: tokenAcc / Double(max(counted, 1)))
    }
}
