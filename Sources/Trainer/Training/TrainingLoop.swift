import Foundation
import GraphIR
import TRMCore

/// The files a run writes, each atomically: the checkpoint (EMA weights) and, beside it, the state
/// `--resume` continues from, the metrics log and the training curve.
public struct TrainingOutputs: Sendable, Equatable {
    public var checkpoint: String
    public var state: String
    public var metrics: String
    public var curve: String

    /// `FILE`, `FILE.state`, `FILE.metrics.jsonl` and `FILE.curve.svg`.
    public init(checkpoint: String) {
        self.checkpoint = checkpoint
        state = checkpoint + ".state"
        metrics = checkpoint + ".metrics.jsonl"
        curve = checkpoint + ".curve.svg"
    }

    public var all: [String] { [checkpoint, state, metrics, curve] }
}

/// How often a `TrainingLoop` logs, evaluates and saves, in optimizer steps.
public struct TrainingIntervals: Sendable, Equatable {
    /// Averaged training metrics are logged every `log` steps and at the last one.
    public var log: Int
    /// The held-out set is evaluated every `evaluation` steps (0: only at the end of the run).
    public var evaluation: Int
    /// The checkpoint and the state are saved every `checkpoint` steps and at the last one.
    public var checkpoint: Int

    /// Unless given: evaluation ten times per run, checkpoints as often as evaluations (or ten
    /// times per run when evaluation is off).
    public init(steps: Int, log: Int = 10, evaluation: Int? = nil, checkpoint: Int? = nil) {
        precondition(log > 0 && (evaluation ?? 0) >= 0 && (checkpoint ?? 1) > 0, "TrainingIntervals: intervals must be positive")
        self.log = log
        self.evaluation = evaluation ?? max(1, steps / 10)
        self.checkpoint = checkpoint ?? (self.evaluation > 0 ? self.evaluation : max(1, steps / 10))
    }
}

/// Averages over the steps since the previous report, as the metrics log records them.
public struct TrainingProgress: Sendable, Equatable {
    public var step: Int
    /// The run's last step.
    public var steps: Int
    public var loss: Double
    public var lmLoss: Double
    public var qHaltLoss: Double
    public var exact: Double
    public var tokenAccuracy: Double
    public var qHaltAccuracy: Double
    public var meanSteps: Double
    /// Learning rate of the last step.
    public var lr: Double
    public var samplesPerSecond: Double
    public var gflops: Double
    /// Seconds since the loop started (this session).
    public var elapsed: Double
    /// Seconds the remaining steps take at this session's pace.
    public var eta: Double

    /// The line of `FILE.metrics.jsonl`.
    public var record: MetricsRecord {
        MetricsRecord(
            kind: .train, step: step,
            values: [
                ("loss", loss), ("lm_loss", lmLoss), ("q_halt_loss", qHaltLoss),
                ("exact", exact), ("token_acc", tokenAccuracy), ("q_halt_acc", qHaltAccuracy),
                ("mean_steps", meanSteps), ("lr", lr), ("samples_per_s", samplesPerSecond),
                ("gflops", gflops), ("elapsed_s", elapsed),
            ])
    }
}

/// What a `TrainingLoop` reports as it goes; every method has an empty default. Calls come in the
/// loop's order: for each step `stepped`, then `progressed` when it is logged, `evaluated` when the
/// held-out set is evaluated, and `saved` or `saveFailed` when it is saved.
public protocol TrainingLoopObserver {
    /// After every optimizer step.
    func stepped(_ metrics: StepMetrics)
    /// Every `TrainingIntervals.log` steps and at the last step.
    func progressed(_ progress: TrainingProgress)
    /// After an evaluation of the saved weights on the held-out set.
    func evaluated(step: Int, _ result: HeldOutEvaluation.Result)
    /// The state and the checkpoint on disk hold `step` (and the curve is drawn).
    func saved(step: Int)
    /// A save at `step` failed (a full disk): the files written before are as they were, and
    /// `savedStep` is the step they hold (nil: nothing saved yet). The run goes on; `willRetry`
    /// says whether a later checkpoint will try again.
    func saveFailed(step: Int, error: any Error, savedStep: Int?, willRetry: Bool)
    /// A metrics record could not be written; it is kept and written with the next one.
    func metricsWriteFailed(_ error: any Error)
}

extension TrainingLoopObserver {
    public func stepped(_ metrics: StepMetrics) {}
    public func progressed(_ progress: TrainingProgress) {}
    public func evaluated(step: Int, _ result: HeldOutEvaluation.Result) {}
    public func saved(step: Int) {}
    public func saveFailed(step: Int, error: any Error, savedStep: Int?, willRetry: Bool) {}
    public func metricsWriteFailed(_ error: any Error) {}
}

/// A stop request from SIGINT or SIGTERM, for `TrainingLoop.train`'s `stopRequested`. The handlers
/// only set a flag: the loop finishes its step, saves and returns. An atomic write in progress holds
/// the signal back until its file is complete (`AtomicFile`), then delivers it here.
public enum TrainingInterrupt {
    /// Routes SIGINT and SIGTERM to the flag (process-wide; a command calls it once, before training).
    public static func install() {
        signal(SIGINT) { _ in interruptRequested = 1 }
        signal(SIGTERM) { _ in interruptRequested = 1 }
    }

    /// Whether a signal has asked the run to stop.
    public static var requested: Bool { interruptRequested != 0 }
}

/// Set by the handlers `TrainingInterrupt.install` puts in place.
nonisolated(unsafe) private var interruptRequested: sig_atomic_t = 0

/// How `TrainingLoop.train` ended.
public enum TrainingOutcome: Sendable, Equatable {
    /// Every step ran and the last one is saved.
    case finished
    /// Stopped on request after a step; `saved` says whether that step's save succeeded.
    case interrupted(saved: Bool)
    /// Every step ran but the end of the run could not be saved (the files hold `savedStep`).
    case finalSaveFailed
}

public struct TrainingSummary: Sendable, Equatable {
    public var outcome: TrainingOutcome
    /// The step the run reached.
    public var step: Int
    /// The step the checkpoint and the state on disk hold (nil: nothing saved).
    public var savedStep: Int?
    public var lastEvaluation: HeldOutEvaluation.Result?
    /// Seconds this session trained.
    public var seconds: Double
}

/// A training run driven to its last step (docs/model.md §9.1): optimizer steps, averaged metrics every
/// log interval, held-out evaluations of the saved weights, and periodic saves of the checkpoint,
/// the state, the metrics log and the curve. A failed save leaves the previous files as they were
/// and does not stop the run; the next checkpoint interval tries again. A stop request ends the
/// run after the current step, which is saved.
public struct TrainingLoop {
    public private(set) var run: TrainingRun
    public let source: any TrainingSource
    public let heldOut: [TrainingExample]
    public let outputs: TrainingOutputs
    public let intervals: TrainingIntervals
    /// One line about the data, recorded in the checkpoint's `trm.train`.
    public let dataDescription: String
    /// The training curve's title.
    public let curveTitle: String
    public private(set) var log: MetricsLog
    /// The step the files on disk hold (state and checkpoint written completely).
    public private(set) var savedStep: Int?
    public private(set) var lastEvaluation: HeldOutEvaluation.Result?

    /// A loop over `run`. Resuming, the run continues from `outputs.state` and the metrics log keeps
    /// its records up to that step; otherwise the log starts empty.
    public init(
        run: TrainingRun, source: any TrainingSource, heldOut: [TrainingExample], outputs: TrainingOutputs,
        intervals: TrainingIntervals, resume: Bool, dataDescription: String, curveTitle: String
    ) throws {
        var run = run
        if resume {
            try TrainingState.restore(path: outputs.state, into: &run)
        }
        self.run = run
        self.source = source
        self.heldOut = heldOut
        self.outputs = outputs
        self.intervals = intervals
        self.dataDescription = dataDescription
        self.curveTitle = curveTitle
        log = try MetricsLog(path: outputs.metrics, resumeStep: resume ? run.step : nil)
        savedStep = resume ? run.step : nil
    }

    /// Trains to `run.options.steps`, reporting to `observer`; `stopRequested` is asked after each
    /// step (and before a failed save's retry is promised).
    public mutating func train(
        observer: some TrainingLoopObserver,
        stopRequested: () -> Bool = { TrainingInterrupt.requested }
    ) -> TrainingSummary {
        let steps = run.options.steps, flops = run.flopsPerSample
        let start = Date(), firstStep = run.step
        var window = StepMetrics.zero, windowSteps = 0, windowStart = Date()
        func summary(_ outcome: TrainingOutcome) -> TrainingSummary {
            TrainingSummary(
                outcome: outcome, step: run.step, savedStep: savedStep, lastEvaluation: lastEvaluation,
                seconds: Date().timeIntervalSince(start))
        }

        while run.step < steps {
            let m = run.trainStep(source: source)
            observer.stepped(m)
            window.accumulate(m)
            windowSteps += 1
            let last = run.step == steps || stopRequested()
            if run.step % intervals.log == 0 || last {
                let now = Date(), n = Double(windowSteps)
                let samplesPerSecond = Double(windowSteps * run.options.batch) / max(now.timeIntervalSince(windowStart), 1e-9)
                let elapsed = now.timeIntervalSince(start)
                let progress = TrainingProgress(
                    step: run.step, steps: steps, loss: window.loss / n, lmLoss: window.lmLoss / n, qHaltLoss: window.qHaltLoss / n,
                    exact: window.exactAccuracy, tokenAccuracy: window.tokenAccuracy, qHaltAccuracy: window.qHaltAccuracy,
                    meanSteps: window.meanSteps, lr: m.lr, samplesPerSecond: samplesPerSecond, gflops: samplesPerSecond * flops / 1e9,
                    elapsed: elapsed, eta: Double(steps - run.step) * elapsed / Double(max(run.step - firstStep, 1)))
                append(progress.record, observer)
                observer.progressed(progress)
                window = .zero
                windowSteps = 0
                windowStart = Date()
            }
            if !heldOut.isEmpty, (intervals.evaluation > 0 && run.step % intervals.evaluation == 0) || run.step == steps {
                let r = HeldOutEvaluation.run(
                    config: run.config, params: run.evaluationParams, examples: heldOut,
                    batch: min(run.options.batch, 64))
                lastEvaluation = r
                append(
                    MetricsRecord(
                        kind: .eval, step: run.step,
                        values: [("exact", r.exact), ("token_acc", r.tokenAccuracy), ("count", Double(r.count))]),
                    observer)
                observer.evaluated(step: run.step, r)
                windowStart = Date()
            }
            let due = run.step % intervals.checkpoint == 0 || last
            var saved = due ? save(observer, start: start, stopRequested: stopRequested) : true
            if stopRequested() {
                // A request that came later in the step (during its evaluation) still has the step saved.
                if !due { saved = save(observer, start: start, stopRequested: stopRequested) }
                return summary(.interrupted(saved: saved))
            }
        }
        if run.step == firstStep || savedStep != run.step {
            guard save(observer, start: start, stopRequested: stopRequested) else { return summary(.finalSaveFailed) }
        }
        return summary(.finished)
    }

    /// Writes the state, the checkpoint and the curve, each atomically. A failure (a full disk)
    /// leaves the previous files as they were and is reported; the run goes on.
    private mutating func save(_ observer: some TrainingLoopObserver, start: Date, stopRequested: () -> Bool) -> Bool {
        do {
            try TrainingState.write(run, to: outputs.state)
            try run.checkpoint(trainJSON: trainJSON(elapsed: Date().timeIntervalSince(start))).write(to: outputs.checkpoint)
            savedStep = run.step
            try AtomicFile.write(Array(TrainingCurve.svg(log.records, title: curveTitle).utf8), to: outputs.curve)
            observer.saved(step: run.step)
            return true
        } catch {
            observer.saveFailed(
                step: run.step, error: error, savedStep: savedStep,
                willRetry: run.step < run.options.steps && !stopRequested())
            return false
        }
    }

    /// Metrics go to the log as they come; a record that cannot be written (a full disk) is kept
    /// and written with the next one, and the run goes on.
    private mutating func append(_ record: MetricsRecord, _ observer: some TrainingLoopObserver) {
        do { try log.append(record) } catch { observer.metricsWriteFailed(error) }
    }

    /// The checkpoint's `trm.train`: step, seed, data, options, the starting checkpoint (`TrainingOrigin`),
    /// the last evaluation and the session's time.
    func trainJSON(elapsed: Double) -> String {
        var s =
            "{\"step\":\(run.step),\"seed\":\(run.options.seed),\"data\":\(JSONText.quote(dataDescription)),\"options\":\(run.options.json)"
        if let origin = run.origin { s += ",\"init\":\(origin)" }
        if let e = lastEvaluation {
            s += ",\"held_out_exact\":\(e.exact),\"held_out_token_acc\":\(e.tokenAccuracy),\"held_out_count\":\(e.count)"
        }
        return s + ",\"session_seconds\":\(Int(elapsed))}"
    }
}
