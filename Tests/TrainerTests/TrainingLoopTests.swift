import Foundation
import Testing
import GraphIR
@testable import Trainer
import TRMCore

/// The training loop driven as a library: the observer's order of events, an interruption, failed saves.
@Suite struct TrainingLoopTests {
    /// What the loop reported, in order.
    final class Recorder: TrainingLoopObserver {
        enum Event: Equatable {
            case step(Int)
            case progress(Int)
            case eval(Int)
            case saved(Int)
            case saveFailed(step: Int, savedStep: Int?, willRetry: Bool)
        }
        var events: [Event] = []
        /// Called after each step is recorded (a test's hook into the run).
        var onStep: (Int) -> Void = { _ in }
        var onSaveFailed: (Int) -> Void = { _ in }

        func stepped(_ metrics: StepMetrics) {
            events.append(.step(metrics.step))
            onStep(metrics.step)
        }
        func progressed(_ progress: TrainingProgress) { events.append(.progress(progress.step)) }
        func evaluated(step: Int, _ result: HeldOutEvaluation.Result) { events.append(.eval(step)) }
        func saved(step: Int) { events.append(.saved(step)) }
        func saveFailed(step: Int, error: any Error, savedStep: Int?, willRetry: Bool) {
            events.append(.saveFailed(step: step, savedStep: savedStep, willRetry: willRetry))
            onSaveFailed(step)
        }
    }

    /// Trains a loop over the tiny Sudoku run of `TrainingRunTests` (8 steps, two held-out examples)
    /// in a fresh directory, removed afterwards. `prepare` sets the recorder's hooks; `check` looks
    /// at the loop, what it reported and how it ended.
    static func train(
        log: Int, evaluation: Int, checkpoint: Int, stopRequested: () -> Bool = { false },
        prepare: (TrainingOutputs, Recorder) -> Void = { _, _ in },
        check: (TrainingLoop, Recorder, TrainingSummary) throws -> Void
    ) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trm-loop-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (run, source) = try TrainingRunTests.tinyRun()
        var rng = SeededRandom(seed: 9)
        let held = (0..<2).map { source.example($0, rng: &rng) }
        var loop = try TrainingLoop(
            run: run, source: source, heldOut: held, outputs: TrainingOutputs(checkpoint: dir + "/m.ckpt"),
            intervals: TrainingIntervals(steps: run.options.steps, log: log, evaluation: evaluation, checkpoint: checkpoint),
            resume: false, dataDescription: "tiny sudoku", curveTitle: "test")
        let recorder = Recorder()
        prepare(loop.outputs, recorder)
        let summary = loop.train(observer: recorder, stopRequested: stopRequested)
        try check(loop, recorder, summary)
    }

    /// Puts a directory where the state file goes, so every save fails until it is removed.
    static func blockSaves(_ outputs: TrainingOutputs) {
        try? FileManager.default.removeItem(atPath: outputs.state)
        try? FileManager.default.createDirectory(atPath: outputs.state, withIntermediateDirectories: false)
    }

    /// The step the state file on disk holds.
    static func stateStep(_ loop: TrainingLoop) throws -> Int {
        var fresh = try TrainingRunTests.tinyRun().0
        try TrainingState.restore(path: loop.outputs.state, into: &fresh)
        return fresh.step
    }

    @Test func observerSeesStepsEvaluationsAndSavesInOrder() throws {
        try Self.train(log: 4, evaluation: 4, checkpoint: 4) { (loop, recorder, summary) throws in
            let steps: (ClosedRange<Int>) -> [Recorder.Event] = { $0.map { .step($0) } }
            #expect(
                recorder.events == steps(1...4) + [.progress(4), .eval(4), .saved(4)] + steps(5...8) + [.progress(8), .eval(8), .saved(8)])
            #expect(summary.outcome == .finished && summary.step == 8 && summary.savedStep == 8 && summary.lastEvaluation?.count == 2)
            // The files hold the last step: state, checkpoint (with its trm.train), metrics log and curve.
            #expect(try Self.stateStep(loop) == 8)
            let train = try Checkpoint.read(path: loop.outputs.checkpoint).trainJSON ?? ""
            #expect(
                train.hasPrefix("{\"step\":8,") && train.contains("\"data\":\"tiny sudoku\"") && train.contains("\"held_out_count\":2"),
                "\(train)")
            let lines = try String(contentsOfFile: loop.outputs.metrics, encoding: .utf8).split(separator: "\n").compactMap {
                MetricsRecord.parse(String($0))
            }
            #expect(lines.map(\.kind) == [.train, .eval, .train, .eval] && lines.map(\.step) == [4, 4, 8, 8])
            #expect(lines.first?["loss"].map { $0 > 0 } == true && lines.first?["elapsed_s"] != nil)
            #expect(FileManager.default.fileExists(atPath: loop.outputs.curve))
        }
    }

    @Test func interruptionStopsAfterTheCurrentStepWithASave() throws {
        // No checkpoint or evaluation is due before the end: only the interruption saves step 3.
        var stop = false
        try Self.train(
            log: 100, evaluation: 0, checkpoint: 100, stopRequested: { stop },
            prepare: { _, recorder in recorder.onStep = { if $0 == 3 { stop = true } } }
        ) { (loop, recorder, summary) throws in
            #expect(recorder.events == [.step(1), .step(2), .step(3), .progress(3), .saved(3)])
            #expect(summary.outcome == .interrupted(saved: true) && summary.step == 3 && summary.savedStep == 3)
            #expect(try Self.stateStep(loop) == 3)
        }
        // A request that comes later in the step (after its log and evaluation) still saves that step.
        var asked = 0
        try Self.train(
            log: 100, evaluation: 100, checkpoint: 100,
            stopRequested: {
                asked += 1; return asked > 3
            }
        ) { (loop, recorder, summary) throws in
            #expect(summary.outcome == .interrupted(saved: true) && summary.step == 2)
            #expect(recorder.events == [.step(1), .step(2), .saved(2)])
            #expect(try Self.stateStep(loop) == 2)
        }
    }

    @Test func aFailedSaveIsReportedAndTheRunGoesOn() throws {
        // After the save at step 2 a directory takes the state's place, so the save at 4 fails;
        // the failure clears it, so the save at 6 succeeds.
        try Self.train(
            log: 100, evaluation: 0, checkpoint: 2,
            prepare: { outputs, recorder in
                recorder.onStep = { if $0 == 3 { Self.blockSaves(outputs) } }
                recorder.onSaveFailed = { _ in try? FileManager.default.removeItem(atPath: outputs.state) }
            }
        ) { (loop, recorder, summary) throws in
            let saves = recorder.events.filter { if case .step = $0 { return false } else { return true } }
            #expect(
                saves == [.saved(2), .saveFailed(step: 4, savedStep: 2, willRetry: true), .saved(6), .progress(8), .eval(8), .saved(8)])
            #expect(summary.outcome == .finished && summary.savedStep == 8)
            #expect(try Self.stateStep(loop) == 8)
        }
    }

    @Test func aSaveThatKeepsFailingEndsTheRunWithTheLastSavedStep() throws {
        try Self.train(
            log: 100, evaluation: 0, checkpoint: 5,
            prepare: { outputs, recorder in
                recorder.onStep = { if $0 == 6 { Self.blockSaves(outputs) } }
            }
        ) { (loop, recorder, summary) throws in
            let failures = recorder.events.filter { if case .saveFailed = $0 { return true } else { return false } }
            // The last step's save fails, and so does the loop's retry at the end; neither promises another.
            #expect(
                failures == [.saveFailed(step: 8, savedStep: 5, willRetry: false), .saveFailed(step: 8, savedStep: 5, willRetry: false)])
            #expect(summary.outcome == .finalSaveFailed && summary.step == 8 && summary.savedStep == 5)
            // The checkpoint written at step 5 is intact.
            #expect(try Checkpoint.read(path: loop.outputs.checkpoint).trainJSON?.hasPrefix("{\"step\":5,") == true)
        }
        // An interruption whose save fails is reported as not saved.
        try Self.train(
            log: 100, evaluation: 0, checkpoint: 100, stopRequested: { true },
            prepare: { outputs, _ in Self.blockSaves(outputs) }
        ) { (_, recorder, summary) throws in
            #expect(summary.outcome == .interrupted(saved: false) && summary.step == 1 && summary.savedStep == nil)
            #expect(recorder.events == [.step(1), .progress(1), .saveFailed(step: 1, savedStep: nil, willRetry: false)])
        }
    }
}
