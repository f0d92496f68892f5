import GraphIR
import Runtime

/// Hyperparameters of a run (docs/model.md §9); defaults are the reference's where they make sense
/// at small scale.
public struct TrainingOptions: Sendable, Equatable {
    /// Batch slots (the reference's global batch, 768).
    public var batch = 64
    /// Optimizer steps of the run (also the schedule's total).
    public var steps = 1000
    public var lr = 1e-4
    public var warmupSteps = 2000
    /// Floor of the cosine decay as a fraction of lr (1 = constant after warm-up, the reference).
    public var lrMinRatio = 1.0
    public var weightDecay = 0.1
    public var puzzleEmbLr = 1e-2
    public var puzzleEmbWeightDecay = 0.1
    public var beta1 = 0.9
    public var beta2 = 0.95
    /// EMA rate, or nil for no EMA (checkpoints then hold the raw weights).
    public var emaRate: Double? = 0.999
    /// Probability that a slot is forced to run at least U{2...halt_max_steps} ACT steps.
    public var exploration = 0.1
    public var tokenLoss: TokenLoss = .stablemax
    /// The arithmetic of the Linear products (`WeightPacks`): fp32, or bf16 operands with fp32 sums
    /// (the official code's bf16 forward and backward, fp32 master weights and optimizer state).
    public var precision: Precision = .fp32
    public var seed: UInt64 = 0
    /// Whether each step's random draws are recorded (`StepMetrics.trace`, `trm-train --trace`); not
    /// part of `json`: it does not change the run.
    public var recordTrace = false

    public init() {}

    /// A JSON object of the options (recorded in checkpoints and compared on --resume).
    public var json: String {
        var fields: [(String, String)] = [
            ("batch", "\(batch)"), ("steps", "\(steps)"), ("lr", "\(lr)"), ("warmup_steps", "\(warmupSteps)"),
            ("lr_min_ratio", "\(lrMinRatio)"), ("weight_decay", "\(weightDecay)"), ("puzzle_emb_lr", "\(puzzleEmbLr)"),
            ("puzzle_emb_weight_decay", "\(puzzleEmbWeightDecay)"), ("beta1", "\(beta1)"), ("beta2", "\(beta2)"),
            ("exploration", "\(exploration)"), ("loss", "\"\(tokenLoss.rawValue)\""), ("seed", "\(seed)"),
        ]
        fields.append(("ema", emaRate.map { "\($0)" } ?? "null"))
        // Only when not fp32, so that runs from before the option resume unchanged.
        if precision != .fp32 { fields.append(("precision", "\"\(precision.rawValue)\"")) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// What one optimizer step measured (docs/model.md §8.3): losses averaged over the batch slots; accuracy
/// counts only slots that halted this step with at least one supervised token.
public struct StepMetrics: Sendable, Equatable {
    public var step: Int
    public var lr: Double
    public var loss: Double
    public var lmLoss: Double
    public var qHaltLoss: Double
    /// Slots that halted this step (with n_b > 0).
    public var halted: Int
    public var tokenAccuracySum: Double
    public var exactSum: Double
    public var qHaltAccuracySum: Double
    public var stepsSum: Double
    /// The step's random draws, when `TrainingOptions.recordTrace` (nil otherwise, and in sums).
    public var trace: StepTrace? = nil

    /// Adds another step's counts (the losses are averaged by `merged` users).
    public mutating func accumulate(_ o: StepMetrics) {
        step = o.step
        lr = o.lr
        loss += o.loss
        lmLoss += o.lmLoss
        qHaltLoss += o.qHaltLoss
        halted += o.halted
        tokenAccuracySum += o.tokenAccuracySum
        exactSum += o.exactSum
        qHaltAccuracySum += o.qHaltAccuracySum
        stepsSum += o.stepsSum
    }

    public static let zero = StepMetrics(
        step: 0, lr: 0, loss: 0, lmLoss: 0, qHaltLoss: 0, halted: 0, tokenAccuracySum: 0,
        exactSum: 0, qHaltAccuracySum: 0, stepsSum: 0)

    public var exactAccuracy: Double { halted == 0 ? 0 : exactSum / Double(halted) }
    public var tokenAccuracy: Double { halted == 0 ? 0 : tokenAccuracySum / Double(halted) }
    public var qHaltAccuracy: Double { halted == 0 ? 0 : qHaltAccuracySum / Double(halted) }
    public var meanSteps: Double { halted == 0 ? 0 : stepsSum / Double(halted) }
}
