import CLISupport
import Foundation
import GraphIR
import Runtime
import Trainer
import TRMCore

/// `trm-train [train]`: trains a preset on a task and writes atomic checkpoints with a resumable state.
enum TrainCommand {
    static let options: [Arguments.Option] =
        [
            .init("task", "T", help: "sudoku, maze or arc (required)"),
            .init("preset", "P", help: "architecture: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")) (required)"),
            .init(
                "output", "FILE", short: "o", help: "checkpoint to write (required); also FILE.state, FILE.metrics.jsonl, FILE.curve.svg"),
            .init(
                "resume", help: "continue the run saved in FILE.state (same command, same result as an uninterrupted run; --steps may grow)"
            ),
            .init("steps", "N", help: "optimizer steps (default 1000)"),
            .init("epochs", "E", help: "instead of --steps: E × training examples / batch steps (as the reference counts)"),
            .init("batch", "B", help: "batch slots (default 64)"),
            .init("lr", "X", help: "learning rate (default 1e-4)"),
            .init("warmup", "N", help: "linear warm-up steps (default min(2000, steps/10))"),
            .init("lr-min-ratio", "R", help: "cosine decay floor as a fraction of lr (default 1: constant after warm-up)"),
            .init("weight-decay", "X", help: "AdamATan2 decoupled weight decay (default as the reference: ARC 0.1, Sudoku/Maze 1.0)"),
            .init("puzzle-emb-lr", "X", help: "SignSGD learning rate of the puzzle embeddings (default: ARC 1e-2, Sudoku/Maze 1e-4)"),
            .init("puzzle-emb-weight-decay", "X", help: "puzzle-embedding weight decay (default: ARC 0.1, Sudoku/Maze 1.0)"),
            .init("ema", "RATE", help: "EMA rate of the saved weights (default 0.999)"),
            .init("no-ema", help: "save the raw weights (no EMA)"),
            .init("exploration", "P", help: "halting exploration probability (default 0.1)"),
            .init("loss", "KIND", help: "stablemax (default) or softmax cross-entropy"),
            .init(
                "precision", "P",
                help:
                    "fp32 (default) or bf16: every Linear product on bf16 operands with fp32 sums, fp32 master weights and optimizer state (needs AVX512_BF16, else emulated)"
            ),
            .init("seed", "S", help: "seed of the initialisation, data order, augmentation and exploration (default 0)"),
            .init(
                "init", "FILE",
                help:
                    "start from this checkpoint's weights instead of the reference initialisation (its config must be the one the options give)"
            ),
            .init("eval-every", "N", help: "evaluate the saved weights on the held-out set every N steps (default: 10 times per run)"),
            .init("checkpoint-every", "N", help: "save checkpoint and state every N steps (default: as --eval-every)"),
            .init("log-every", "N", help: "print and log averaged metrics every N steps (default 10)"),
            .init("threads", "N", help: "BLAS threads (default: all cores)"),
            .init(
                "trace", "FILE",
                help:
                    "write each step's random draws (refilled examples, exploration minima) and halting as JSON lines, to replay the run elsewhere"
            ),
            .init("quiet", short: "q", help: "only errors and the final summary"),
        ] + TrainData.options + ModelOptions.options + [Subcommand.helpOption]

    static let usage = Subcommand.usage(
        """
        USAGE: trm-train --task T --preset P [--grid N --hidden N ...] [--steps N | --epochs E] [--batch B]
                         [--lr X] [--seed S] [--eval-every N] -o model.ckpt [--resume]

        Trains with the reference recipe (docs/model.md §6-§9): deep supervision with a persistent carry,
        gradient through the last H-cycle, stablemax CE + 0.5 × Q-halt BCE, AdamATan2 (β 0.9/0.95),
        SignSGD puzzle embeddings, warm-up, EMA, halting exploration. Writes, atomically and
        periodically: model.ckpt (EMA weights), model.ckpt.state (optimizer state, carry and data
        position for --resume), model.ckpt.metrics.jsonl and model.ckpt.curve.svg. Ctrl-C saves and stops.
        """, options: options)

    static func run(_ argv: [String]) throws {
        guard let args = try Subcommand.parse(argv, options: options, usage: usage) else { return }
        guard let task = try args.choice("task", TaskKind.self) else { throw UsageError("--task is required (sudoku, maze or arc)") }
        guard let preset = try args.choice("preset", Preset.self) else { throw UsageError("--preset is required") }
        guard let output = args.string("output") else { throw UsageError("-o/--output is required") }
        let outputs = TrainingOutputs(checkpoint: output)
        let resume = args.has("resume")
        // Every option is checked before the data is read or generated (which can take minutes).
        let seed = UInt64(try args.int("seed", in: 0...Int(Int32.max)) ?? 0)
        let mambaInit = try ModelOptions.mambaInit(args)
        let quiet = args.has("quiet")
        let threads = try args.int("threads", in: 1...1024) ?? ProcessInfo.processInfo.activeProcessorCount
        let resolveOptions = try trainingOptions(args, task: task)
        let evalEveryOption = try args.int("eval-every", in: 0...Int.max)
        let checkpointEveryOption = try args.int("checkpoint-every", in: 1...Int.max)
        let logEvery = try args.int("log-every", in: 1...Int.max) ?? 10
        _ = try ModelOptions.config(args, preset: preset, task: task)
        // The sidecars go next to -o, so -o must be a file path: never /dev/null.state beside a device.
        let destination = try OutputFile.destination(of: output)
        guard destination.isFile else {
            throw UsageError(
                "-o \(output) is \(destination.kindDescription); trm-train also writes \(outputs.state) and other files next to it, so -o must be a file"
            )
        }
        let tracePath = args.string("trace")
        if tracePath != nil, resume { throw UsageError("--trace records a run from its first step; it does not combine with --resume") }
        try OutputFile.checkOutputs(
            outputs.all + [tracePath].compactMap { $0 }, inputs: ["data", "eval-data", "init"].compactMap { args.string($0) })
        // One trainer per output: the lock is taken before the saved state is looked at.
        let lock = try RunLock(output: output)
        defer { lock.release() }
        if resume, !FileManager.default.fileExists(atPath: outputs.state) {
            throw UsageError("--resume: no saved run at \(outputs.state)")
        }
        if !resume, FileManager.default.fileExists(atPath: outputs.state) {
            throw UsageError("\(outputs.state) holds a saved run: pass --resume to continue it, or remove it to start over")
        }
        try BlasThreads.set(threads)
        TrainerMemory.retainFreedMemory()

        // Data first: ARC's identifiers decide the puzzle table's rows.
        let (_, grid) = try ModelOptions.config(args, preset: preset, task: task)
        let data = try TrainData.load(args, task: task, grid: grid, seed: seed)
        let (config, _) = try ModelOptions.config(args, preset: preset, task: task, numPuzzleIds: data.source.identifiers?.count)
        var options = resolveOptions(data.source.count)
        options.seed = seed
        options.recordTrace = tracePath != nil

        // Weights, gradients, two AdamATan2 moments, the EMA shadow and the saved copies.
        try SystemMemory.require(8 * config.tensorBytes, for: "training this model")
        var initial = try ModelOptions.initialCheckpoint(config: config, task: task, grid: grid, seed: seed, mambaInit: mambaInit)
        var origin: String?
        if let path = args.string("init") {
            let start = try Checkpoint.read(path: path)
            guard start.config == config else {
                throw UsageError(
                    "--init \(path): its config is not the one these options give (\(start.config.jsonString()) vs \(config.jsonString())); pass the same preset and size options"
                )
            }
            initial.tensors = start.tensors
            origin = try TrainingOrigin.json(path: path, start: start)
        }
        initial.identifiers = data.source.identifiers
        var loop = try TrainingLoop(
            run: TrainingRun(initial: initial, options: options, exampleCount: data.source.count, origin: origin), source: data.source,
            heldOut: data.heldOut, outputs: outputs,
            intervals: TrainingIntervals(
                steps: options.steps, log: logEvery, evaluation: evalEveryOption, checkpoint: checkpointEveryOption),
            resume: resume, dataDescription: data.description, curveTitle: "\(preset.rawValue) · \(task.rawValue) \(grid)×\(grid)")

        if !quiet {
            print(
                """
                trm-train \(preset.rawValue) on \(task.rawValue): \(formatCount(config.parameterCount)) params, hidden \(config.hidden), \
                H_cycles \(config.hCycles), L_cycles \(config.lCycles), \(config.haltMaxSteps) ACT steps, S = \(config.fullSeqLen)
                  data     \(data.description)
                  options  \(options.json)
                  products \(options.precision.execution)
                  output   \(output) (+ .state, .metrics.jsonl, .curve.svg)
                """ + (resume ? "\n  resuming at step \(loop.run.step) of \(options.steps)" : ""))
        }
        TrainingInterrupt.install()
        let printer = TrainPrinter(outputs: outputs, quiet: quiet, trace: tracePath.map(TraceFile.init))
        let summary = loop.train(observer: printer)
        try printer.trace?.write()
        let savedNote = printer.savedNote(summary.savedStep)
        switch summary.outcome {
        case .interrupted(let saved):
            lock.release()
            guard saved else {
                printError("trm-train: interrupted at step \(summary.step) and could not save it; \(savedNote)")
                exit(1)
            }
            printError(
                "trm-train: interrupted at step \(summary.step); saved \(outputs.all.joined(separator: ", ")) — rerun with --resume to continue"
            )
            exit(130)
        case .finalSaveFailed:
            throw TRMError(
                .io, "could not save the end of the run (step \(summary.step)); \(savedNote): free some space and rerun with --resume")
        case .finished:
            print(
                "done: \(summary.step) steps in \(formatDuration(summary.seconds)); wrote \(outputs.all.joined(separator: ", "))"
                    + (summary.lastEvaluation.map { String(format: "; held-out exact %.1f%% (%d)", 100 * $0.exact, $0.count) } ?? ""))
        }
    }

    /// The reference's values (docs/model.md §9.7) unless overridden: its Sudoku and Maze runs use weight
    /// decay 1.0 and a puzzle-embedding lr of 1e-4, the ARC run 0.1 and 1e-2. Every option is parsed and
    /// checked now; the returned function fills in what depends on the number of training examples
    /// (--epochs, and the warm-up default that follows the step count).
    static func trainingOptions(_ args: Arguments, task: TaskKind) throws -> (_ examples: Int) -> TrainingOptions {
        let arc = task == .arc
        var o = TrainingOptions()
        o.batch = try args.int("batch", in: 1...65536) ?? 64
        if args.string("steps") != nil, args.string("epochs") != nil { throw UsageError("give --steps or --epochs, not both") }
        let epochs = try args.double("epochs", in: 1e-9...1e9)
        o.steps = try args.int("steps", in: 1...Int(Int32.max)) ?? 1000
        let warmup = try args.int("warmup", in: 0...Int(Int32.max))
        o.lr = try args.double("lr", in: 0...10) ?? 1e-4
        o.lrMinRatio = try args.double("lr-min-ratio", in: 0...1) ?? 1
        o.weightDecay = try args.double("weight-decay", in: 0...1e6) ?? (arc ? 0.1 : 1.0)
        o.puzzleEmbLr = try args.double("puzzle-emb-lr", in: 0...10) ?? (arc ? 1e-2 : 1e-4)
        o.puzzleEmbWeightDecay = try args.double("puzzle-emb-weight-decay", in: 0...1e6) ?? (arc ? 0.1 : 1.0)
        if args.has("no-ema") {
            if args.string("ema") != nil { throw UsageError("give --ema or --no-ema, not both") }
            o.emaRate = nil
        } else {
            o.emaRate = try args.double("ema", in: 0...1) ?? 0.999
        }
        o.exploration = try args.double("exploration", in: 0...1) ?? 0.1
        o.tokenLoss = try args.choice("loss", TokenLossChoice.self)?.value ?? .stablemax
        o.precision = try args.choice("precision", Precision.self) ?? .fp32
        return { [o] examples in
            var resolved = o
            if let epochs { resolved.steps = max(1, Int((epochs * Double(examples) / Double(o.batch)).rounded(.up))) }
            resolved.warmupSteps = warmup ?? min(2000, max(1, resolved.steps / 10))
            return resolved
        }
    }

    static func formatDuration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600
            ? "\(t / 3600)h\(String(format: "%02d", t / 60 % 60))m" : t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}

/// Prints what the loop reports: progress and evaluations (unless quiet), warnings on stderr.
struct TrainPrinter: TrainingLoopObserver {
    let outputs: TrainingOutputs
    let quiet: Bool
    /// `--trace`: each step's `StepTrace` as a JSON line.
    let trace: TraceFile?

    func stepped(_ metrics: StepMetrics) {
        if let trace, let t = metrics.trace { trace.append(t.jsonLine) }
    }

    func savedNote(_ savedStep: Int?) -> String {
        savedStep.map { "\(outputs.checkpoint) and \(outputs.state) hold step \($0)" } ?? "nothing has been saved yet"
    }

    func progressed(_ p: TrainingProgress) {
        guard !quiet else { return }
        print(
            String(
                format:
                    "step %d/%d  loss %.4f (lm %.4f, halt %.4f)  exact %5.1f%%  tok %5.1f%%  halt@%.1f  lr %.1e  %.1f samples/s  %.2f GFLOP/s  ETA ",
                p.step, p.steps, p.loss, p.lmLoss, p.qHaltLoss, 100 * p.exact, 100 * p.tokenAccuracy, p.meanSteps, p.lr,
                p.samplesPerSecond, p.gflops) + TrainCommand.formatDuration(p.eta))
        fflush(stdout)
    }

    func evaluated(step: Int, _ r: HeldOutEvaluation.Result) {
        guard !quiet else { return }
        print(
            String(
                format: "eval  step %d  held-out exact %.1f%%  tok %.1f%%  (%d puzzles)", step, 100 * r.exact, 100 * r.tokenAccuracy,
                r.count))
    }

    func saveFailed(step: Int, error: any Error, savedStep: Int?, willRetry: Bool) {
        printError(
            "trm-train: warning: could not save step \(step): \(error); \(savedNote(savedStep))"
                + (willRetry ? "; training goes on and tries again at the next checkpoint" : ""))
    }

    func metricsWriteFailed(_ error: any Error) {
        printError("trm-train: warning: \(error); the record is kept for the next write")
    }
}

enum TokenLossChoice: String, CaseIterable {
    case stablemax, softmax
    var value: TokenLoss { self == .stablemax ? .stablemax : .softmax }
}

/// The `--trace` lines, kept in memory (traces are for short runs) and written when training stops,
/// through the output policy like every other file.
final class TraceFile {
    let path: String
    private var lines: [String] = []

    init(_ path: String) { self.path = path }

    func append(_ line: String) { lines.append(line) }

    func write() throws { try AtomicFile.write(Array(lines.map { $0 + "\n" }.joined().utf8), to: path) }
}
