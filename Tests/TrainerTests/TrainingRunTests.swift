import Foundation
import Testing
import GraphIR
import Tasks
@testable import Trainer
import TRMCore

/// Optimizers, schedule, halting, data order, and the bit-exact resume of a training run.
@Suite struct TrainingRunTests {
    @Test func adamATan2FirstStepsFollowTheFormula() {
        var p = ParameterSet(["w": [1, -2]])
        var opt = AdamATan2(beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
        let g = ParameterSet(["w": [0.5, -4]])
        opt.step(&p, grads: g, lr: 0.01)
        // t = 1: m = 0.1 g, v = 0.05 g², update = lr/0.1 · atan2(0.1 g, √(0.05 g²)/√0.05) = 0.1 · atan2(0.1 g, |g|).
        for (i, (w0, gi)) in zip([Float(1), -2], [Float(0.5), -4]).enumerated() {
            let expected = w0 * (1 - 0.001) - 0.1 * atan2(0.1 * gi, abs(gi))
            #expect(abs(p["w"][i] - expected) < 1e-6)
        }
        // Scale invariance: the same gradients × 1000 give the same weights.
        var q = ParameterSet(["w": [1, -2]]), opt2 = AdamATan2(beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
        opt2.step(&q, grads: ParameterSet(["w": [500, -4000]]), lr: 0.01)
        #expect(maxAbsDiff(p["w"], q["w"]) < 1e-6)
    }

    @Test func signSGDMovesOnlyTheRowsInTheBatch() {
        var table: [Float] = [1, 1, 2, 2, 3, 3]
        PuzzleEmbeddingSignSGD(weightDecay: 0.5).step(table: &table, rowWidth: 2, grads: [(1, [0.3, -7])], lr: 0.1)
        #expect(table == [1, 1, 2 * 0.95 - 0.1, 2 * 0.95 + 0.1, 3, 3])
    }

    @Test func scheduleWarmsUpThenStaysOrDecays() {
        let constant = LearningRateSchedule(warmupSteps: 10, totalSteps: 100)
        #expect(constant.factor(step: 1) == 0.1 && constant.factor(step: 5) == 0.5)
        #expect(constant.factor(step: 10) == 1 && constant.factor(step: 100) == 1)
        let cosine = LearningRateSchedule(warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        #expect(abs(cosine.factor(step: 60) - 0.55) < 1e-12 && abs(cosine.factor(step: 110) - 0.1) < 1e-12)
    }

    @Test func emaFollowsTheRate() {
        var ema = ExponentialMovingAverage(rate: 0.9, initial: ParameterSet(["w": [0]]), names: ["w"])
        ema.update(ParameterSet(["w": [10]]))
        ema.update(ParameterSet(["w": [10]]))
        #expect(abs(ema.shadow["w"]![0] - 1.9) < 1e-6)
    }

    @Test func carryHaltsOnQOrLimitUnlessExploring() throws {
        let config = try SupervisionStepTests.config(.trmAttn)
        var carry = TrainingCarry(config: config, batch: 2)
        var loaded = 0
        let d = config.hidden
        carry.refill(hInit: [Float](repeating: 1, count: d), lInit: [Float](repeating: 2, count: d)) {
            loaded += 1
            return TrainingExample(
                tokens: [Int32](repeating: 1, count: config.seqLen), labels: [Int32](repeating: 2, count: config.seqLen), puzzleId: 1)
        }
        #expect(loaded == 2 && carry.zH.allSatisfy { $0 == 1 } && carry.zL.allSatisfy { $0 == 2 } && carry.puzzleIds == [1, 1])
        var rng = SeededRandom(seed: 1)
        let z = carry.zH
        // Slot 0 wants to halt (q > 0), slot 1 does not; limit 3, no exploration.
        #expect(carry.advance(zH: z, zL: z, qHalt: [1, -1], haltMaxSteps: 3, explore: 0, rng: &rng) == [true, false])
        carry.halted = [false, false]
        #expect(carry.advance(zH: z, zL: z, qHalt: [-1, -1], haltMaxSteps: 3, explore: 0, rng: &rng) == [false, false])
        #expect(carry.advance(zH: z, zL: z, qHalt: [-1, -1], haltMaxSteps: 3, explore: 0, rng: &rng) == [true, true])
        // With exploration always on, a q > 0 at step 1 never halts (the minimum is at least 2).
        carry.steps = [0, 0]
        #expect(carry.advance(zH: z, zL: z, qHalt: [1, 1], haltMaxSteps: 3, explore: 1, rng: &rng) == [false, false])
    }

    @Test func samplerVisitsEveryExampleOncePerEpochAndResumesInPlace() throws {
        struct Indices: TrainingSource {
            var count: Int { 7 }
            var identifiers: [String]? { nil }
            func example(_ index: Int, rng: inout SeededRandom) -> TrainingExample {
                TrainingExample(tokens: [Int32(index)], labels: [Int32(rng.next() % 1000)], puzzleId: 0)
            }
        }
        var s = ExampleSampler(count: 7, seed: 3)
        let draws = (0..<14).map { _ in s.next(from: Indices()) }
        #expect(Set(draws.prefix(7).map(\.tokens[0])) == Set(0..<7) && Set(draws.suffix(7).map(\.tokens[0])) == Set(0..<7))
        #expect(draws.prefix(7).map(\.tokens) != draws.suffix(7).map(\.tokens), "each epoch has its own order")
        var resumed = ExampleSampler(count: 7, seed: 3, position: 9)
        #expect((9..<14).map { _ in resumed.next(from: Indices()) } == Array(draws[9..<14]))
    }

    static func tinyRun(batch: Int = 3, haltMaxSteps: Int = 3) throws -> (TrainingRun, SudokuTrainingSource) {
        var o = ConfigOverrides()
        o.hidden = 16; o.heads = 2; o.puzzleEmbLen = 1; o.hCycles = 2; o.lCycles = 1; o.haltMaxSteps = haltMaxSteps
        let config = try o.apply(to: Preset.trmAttn.config(task: .sudoku, grid: 4))
        let ckpt = try ReferenceInitializer(seed: 1).checkpoint(config: config, taskJSON: TaskKind.sudoku.taskJSON(grid: 4))
        let gen = SudokuGenerator(shape: SudokuShape(size: 4)!)
        let puzzles = try (0..<5).map { try gen.generate(index: $0, seed: 2) }
        var options = TrainingOptions()
        options.batch = batch
        options.steps = 8
        options.lr = 1e-3
        options.warmupSteps = 2
        options.exploration = 0.5
        options.seed = 4
        let source = SudokuTrainingSource(puzzles: puzzles)
        return (TrainingRun(initial: ckpt, options: options, exampleCount: source.count), source)
    }

    @Test func resumedRunEndsWithTheSameWeights() throws {
        var (straight, source) = try Self.tinyRun()
        for _ in 0..<6 { _ = straight.trainStep(source: source) }
        var (first, _) = try Self.tinyRun()
        for _ in 0..<3 { _ = first.trainStep(source: source) }
        let bytes = TrainingState.serialize(first)
        var (second, _) = try Self.tinyRun()
        try TrainingState.restore(bytes: bytes, into: &second)
        for _ in 0..<3 { _ = second.trainStep(source: source) }
        #expect(second.step == 6)
        #expect(second.params == straight.params && second.adam == straight.adam && second.ema == straight.ema)
        #expect(second.carry == straight.carry)
        // Training moved the weights, so the comparison above is not trivially true.
        let (fresh, _) = try Self.tinyRun()
        #expect(fresh.params != straight.params)
    }

    @Test func stateFromAnotherRunIsRefused() throws {
        let (run, _) = try Self.tinyRun()
        var other = try Self.tinyRun(batch: 2).0
        #expect(throws: TRMError.self) { try TrainingState.restore(bytes: TrainingState.serialize(run), into: &other) }
        var same = try Self.tinyRun().0
        #expect(throws: TRMError.self) { try TrainingState.restore(bytes: [1, 2, 3], into: &same) }
    }

    /// What restoring `bytes` into `run` throws ("" when it does not).
    static func restoreError(_ bytes: [UInt8], into run: TrainingRun) -> String {
        var run = run
        do {
            try TrainingState.restore(bytes: bytes, into: &run)
            return ""
        } catch { return "\(error)" }
    }

    @Test func aRefusedResumeNamesExactlyTheFieldsThatDiffer() throws {
        let (run, source) = try Self.tinyRun()
        let saved = TrainingState.serialize(run)
        var options = run.options
        options.lr = 3e-3
        options.seed = 5
        let changed = TrainingRun(initial: run.checkpoint(trainJSON: nil), options: options, exampleCount: source.count)
        let message = Self.restoreError(saved, into: changed)
        #expect(
            message.hasSuffix(
                "other training options: lr differs (saved 0.001, now 0.003), seed differs (saved 4, now 5); resume with the options that started it"
            ), "\(message)")
        #expect(!message.contains("{") && !message.contains("batch"), "the options are not dumped: \(message)")

        let batch = Self.restoreError(saved, into: try Self.tinyRun(batch: 2).0)
        #expect(batch.hasSuffix("batch differs (saved 3, now 2); resume with the options that started it"), "\(batch)")
        let config = Self.restoreError(saved, into: try Self.tinyRun(haltMaxSteps: 4).0)
        #expect(config.hasSuffix("another config: halt_max_steps differs (saved 3, now 4)"), "\(config)")

        var cosine = run.options
        cosine.lrMinRatio = 0.5
        let decaying = TrainingRun(initial: run.checkpoint(trainJSON: nil), options: cosine, exampleCount: source.count)
        var longer = cosine
        longer.steps = 20
        let steps = Self.restoreError(
            TrainingState.serialize(decaying),
            into: TrainingRun(initial: run.checkpoint(trainJSON: nil), options: longer, exampleCount: source.count))
        #expect(steps.contains("steps differs (saved 8, now 20): --steps can change on --resume only with"), "\(steps)")
    }

    @Test func aFinishedRunCanBeTrainedFurther() throws {
        var (run, source) = try Self.tinyRun()
        for _ in 0..<2 { _ = run.trainStep(source: source) }
        let bytes = TrainingState.serialize(run)
        let (base, _) = try Self.tinyRun()
        var longer = TrainingRun(
            initial: base.checkpoint(trainJSON: nil),
            options: {
                var o = base.options; o.steps = 20; return o
            }(),
            exampleCount: source.count)
        try TrainingState.restore(bytes: bytes, into: &longer)
        #expect(longer.step == 2 && longer.options.steps == 20)
        // With a cosine decay the schedule depends on --steps, so changing it is refused.
        var decaying = base.options
        decaying.lrMinRatio = 0.1
        var short = TrainingRun(initial: base.checkpoint(trainJSON: nil), options: decaying, exampleCount: source.count)
        _ = short.trainStep(source: source)
        decaying.steps = 20
        var cosine = TrainingRun(initial: base.checkpoint(trainJSON: nil), options: decaying, exampleCount: source.count)
        #expect(throws: TRMError.self) { try TrainingState.restore(bytes: TrainingState.serialize(short), into: &cosine) }
    }

    @Test func lossFallsOnATinySudokuSet() throws {
        var (run, source) = try Self.tinyRun(batch: 8)
        let first = run.trainStep(source: source).lmLoss
        var last = first
        for _ in 0..<40 { last = run.trainStep(source: source).lmLoss }
        #expect(last < 0.8 * first, "lm loss \(first) -> \(last)")
    }
}
