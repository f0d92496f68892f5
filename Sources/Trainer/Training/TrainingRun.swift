import GraphIR
import TRMCore

/// A training run (docs/model.md §9.1): weights, optimizer states, EMA, the persistent carry and the data
/// position. `trainStep` performs one optimizer step: refill halted slots, one ACT step on every slot,
/// loss on all slots, backward through the last H-cycle, SignSGD on the puzzle rows, AdamATan2 on the
/// dense tensors, EMA update. Every random draw is a function of the seed and a counter, so the whole
/// state is what `TrainingState` saves, and a resumed run continues bit for bit.
public struct TrainingRun: Sendable {
    public let config: ModelConfig
    public let options: TrainingOptions
    public let taskJSON: String
    public let identifiers: [String]?
    public internal(set) var params: ParameterSet
    public internal(set) var adam: AdamATan2
    public internal(set) var ema: ExponentialMovingAverage?
    public internal(set) var carry: TrainingCarry
    public internal(set) var sampler: ExampleSampler
    /// Optimizer steps taken.
    public internal(set) var step = 0
    /// The `TrainingOrigin` record of the checkpoint the weights started from (`--init`), nil for the
    /// reference initialisation; a resumed run takes the one its state holds.
    public internal(set) var origin: String?
    let supervision: SupervisionStep

    /// A fresh run from `initial` (weights as `trm-train init` writes them, or those of `origin`'s checkpoint).
    public init(initial: Checkpoint, options: TrainingOptions, exampleCount: Int, origin: String? = nil) {
        config = initial.config
        self.origin = origin
        self.options = options
        taskJSON = initial.taskJSON
        identifiers = initial.identifiers
        let initialParams = ParameterSet(checkpoint: initial)
        params = initialParams
        let dense = SupervisionStep.denseNames(initial.config)
        adam = AdamATan2(beta1: Float(options.beta1), beta2: Float(options.beta2), weightDecay: Float(options.weightDecay))
        ema = options.emaRate.map { ExponentialMovingAverage(rate: Float($0), initial: initialParams, names: dense) }
        carry = TrainingCarry(config: initial.config, batch: options.batch)
        sampler = ExampleSampler(count: exampleCount, seed: options.seed)
        supervision = SupervisionStep(
            config: initial.config, batch: options.batch, loss: ACTLoss(tokenLoss: options.tokenLoss), precision: options.precision)
    }

    var schedule: LearningRateSchedule {
        LearningRateSchedule(warmupSteps: options.warmupSteps, totalSteps: options.steps, minRatio: options.lrMinRatio)
    }

    /// One optimizer step on examples drawn from `source`.
    public mutating func trainStep(source: some TrainingSource) -> StepMetrics {
        step += 1
        let factor = schedule.factor(step: step)
        let refilledSlots = (0..<options.batch).filter { carry.halted[$0] }
        var refills: [TrainingExample] = []
        carry.refill(hInit: params[StepGraphNames.hInit], lInit: params[StepGraphNames.lInit]) {
            let e = sampler.next(from: source)
            if options.recordTrace { refills.append(e) }
            return e
        }
        let b = options.batch
        let r = supervision.run(
            zH: carry.zH, zL: carry.zL, tokens: carry.tokens, labels: carry.labels,
            puzzleIds: carry.puzzleIds, params: params, gradScale: 1 / Double(b))
        var rng = SeededRandom(seed: options.seed ^ 0x5EED_0F_AC7).fork(UInt64(step))
        var minSteps: [Int] = []
        let halted = carry.advance(
            zH: r.zH, zL: r.zL, qHalt: r.qHalt, haltMaxSteps: config.haltMaxSteps,
            explore: options.exploration, rng: &rng, minSteps: &minSteps)
        var m = StepMetrics.zero
        m.step = step
        if options.recordTrace {
            m.trace = StepTrace(
                step: step,
                refills: zip(refilledSlots, refills).map {
                    StepTrace.Refill(slot: $0, tokens: $1.tokens, labels: $1.labels, puzzleId: $1.puzzleId)
                },
                minSteps: minSteps, qHalt: r.qHalt, halted: halted)
        }
        m.lr = options.lr * factor
        m.loss = r.loss.total / Double(b)
        m.lmLoss = r.loss.lmLoss / Double(b)
        m.qHaltLoss = r.loss.qHaltLoss / Double(b)
        for s in 0..<b where halted[s] && r.loss.validTokens[s] > 0 {
            m.halted += 1
            m.tokenAccuracySum += Double(r.loss.correctTokens[s]) / Double(r.loss.validTokens[s])
            m.exactSum += r.loss.exact[s] ? 1 : 0
            m.qHaltAccuracySum += (r.qHalt[s] >= 0) == r.loss.exact[s] ? 1 : 0
            m.stepsSum += Double(carry.steps[s])
        }
        if config.puzzleEmbNdim > 0 {
            let sgd = PuzzleEmbeddingSignSGD(weightDecay: Float(options.puzzleEmbWeightDecay))
            let width = config.puzzleEmbNdim
            params.modify("puzzle_emb.weights") {
                sgd.step(table: &$0, rowWidth: width, grads: r.puzzleGrads, lr: Float(options.puzzleEmbLr * factor))
            }
        }
        adam.step(&params, grads: r.grads, lr: Float(m.lr))
        ema?.update(params)
        return m
    }

    /// The weights a checkpoint holds: the EMA shadow for the dense tensors when EMA is on.
    public var evaluationParams: ParameterSet { ema?.apply(to: params) ?? params }

    /// The checkpoint of the current state (EMA weights), with `trainJSON` as its `trm.train`.
    public func checkpoint(trainJSON: String?) -> Checkpoint {
        let p = evaluationParams
        var tensors: [String: NamedTensor] = [:]
        for spec in config.parameterSpecs {
            tensors[spec.name] = NamedTensor(name: spec.name, shape: spec.shape, values: p[spec.name])
        }
        return Checkpoint(config: config, taskJSON: taskJSON, identifiers: identifiers, trainJSON: trainJSON, tensors: tensors)
    }

    /// Matmul FLOPs per sample of one training step: the no-gradient cycles once, the differentiated
    /// cycle three times (forward, and the two products of its backward), plus the heads.
    public var flopsPerSample: Double {
        let differentiated = Double(config.lCycles + 1)
        return config.networkFlopsPerApplication * (Double(config.networkApplications) + 2 * differentiated)
            + 3 * config.headFlopsPerSample
    }
}
