import GraphIR
import TRMCore

/// One training example: input tokens [L], labels [L] (−100 = ignored) and its puzzle id.
public struct TrainingExample: Sendable, Equatable {
    public var tokens: [Int32]
    public var labels: [Int32]
    public var puzzleId: Int32

    public init(tokens: [Int32], labels: [Int32], puzzleId: Int32) {
        self.tokens = tokens
        self.labels = labels
        self.puzzleId = puzzleId
    }
}

/// The training carry of docs/model.md §7: per batch slot the recurrent state, the number of ACT steps
/// taken, whether the slot halted, and the example occupying it. It lives across optimizer steps, so
/// a sample stays in its slot for 1...halt_max_steps steps; halted slots take the next example.
public struct TrainingCarry: Sendable, Equatable {
    public let batch: Int
    public let seqLen: Int
    public var zH: [Float]
    public var zL: [Float]
    public var steps: [Int32]
    public var halted: [Bool]
    public var tokens: [Int32]
    public var labels: [Int32]
    public var puzzleIds: [Int32]

    /// Every slot halted, so the first step loads a whole batch (the z contents are irrelevant).
    public init(config: ModelConfig, batch: Int) {
        self.batch = batch
        seqLen = config.seqLen
        let n = batch * config.fullSeqLen * config.hidden
        zH = [Float](repeating: 0, count: n)
        zL = zH
        steps = [Int32](repeating: 0, count: batch)
        halted = [Bool](repeating: true, count: batch)
        tokens = [Int32](repeating: 0, count: batch * config.seqLen)
        labels = [Int32](repeating: TokenLoss.ignoreLabel, count: batch * config.seqLen)
        puzzleIds = [Int32](repeating: 0, count: batch)
    }

    /// Loads `next()` into every halted slot and resets its state to H_init / L_init.
    public mutating func refill(hInit: [Float], lInit: [Float], next: () throws -> TrainingExample) rethrows {
        let d = hInit.count, perSlot = zH.count / batch
        for b in 0..<batch where halted[b] {
            let e = try next()
            precondition(e.tokens.count == seqLen && e.labels.count == seqLen, "TrainingCarry: example of the wrong length")
            for p in 0..<(perSlot / d) {
                for i in 0..<d {
                    zH[b * perSlot + p * d + i] = hInit[i]
                    zL[b * perSlot + p * d + i] = lInit[i]
                }
            }
            steps[b] = 0
            halted[b] = false
            tokens.replaceSubrange((b * seqLen)..<((b + 1) * seqLen), with: e.tokens)
            labels.replaceSubrange((b * seqLen)..<((b + 1) * seqLen), with: e.labels)
            puzzleIds[b] = e.puzzleId
        }
    }

    /// After a step: the new state, then halting (docs/model.md §7): at halt_max_steps, or when q_halt > 0,
    /// unless exploration (probability `explore`) drew a minimum of U{2...max} steps for the slot.
    /// Returns which slots halted this step.
    public mutating func advance(
        zH: [Float], zL: [Float], qHalt: [Float], haltMaxSteps: Int, explore: Double,
        rng: inout SeededRandom
    ) -> [Bool] {
        var minSteps: [Int] = []
        return advance(zH: zH, zL: zL, qHalt: qHalt, haltMaxSteps: haltMaxSteps, explore: explore, rng: &rng, minSteps: &minSteps)
    }

    /// `advance`, also returning in `minSteps` each slot's exploration minimum (0: none drawn).
    public mutating func advance(
        zH: [Float], zL: [Float], qHalt: [Float], haltMaxSteps: Int, explore: Double,
        rng: inout SeededRandom, minSteps: inout [Int]
    ) -> [Bool] {
        self.zH = zH
        self.zL = zL
        minSteps = [Int](repeating: 0, count: batch)
        for b in 0..<batch {
            steps[b] += 1
            var halt = Int(steps[b]) >= haltMaxSteps
            if haltMaxSteps > 1 {
                halt = halt || qHalt[b] > 0
                let explores = rng.nextUnit() < explore
                let minStep = explores ? 2 + Int(rng.next() % UInt64(haltMaxSteps - 1)) : 0
                halt = halt && Int(steps[b]) >= minStep
                minSteps[b] = minStep
            }
            halted[b] = halt
        }
        return halted
    }
}
