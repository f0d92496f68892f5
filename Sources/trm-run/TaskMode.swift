import CLISupport
import Foundation
import GraphIR
import Runtime
import Tasks
import TRMCore

/// `trm-run model.trmg --task T`: queries in full batches through the ACT loop into an `Evaluation`
/// (voting, pass@K, the ARC submission), then the report.
enum TaskMode {
    static func run(_ args: Arguments, model: LoadedModel, settings: RunSettings) throws {
        // Every option and output is checked before the first query runs.
        let ks = try parseKs(args.string("k"))
        let seed = UInt64(try args.int("seed", in: 0...Int(Int32.max)) ?? 0)
        let showCount = try args.int("show", in: 0...Int.max) ?? 0
        let limitOption = try args.int("limit", in: 1...Int.max)
        if args.string("submission") != nil, args.string("task") != "arc" { throw UsageError("--submission is for --task arc") }
        let shardPlan = try ShardMode.plan(args)
        // --data, else the task's default file (ARC-AGI-1, found by `DataLocation`), else none (generated).
        let dataPath = try args.string("data") ?? (args.string("task") == "arc" ? DataLocation.arc() : nil)
        try OutputFile.checkOutputs(
            [args.string("json"), args.string("submission"), args.string("candidates")].compactMap { $0 } + Report.pictureOutputs(args),
            inputs: [args.positional[0]] + [dataPath].compactMap { $0 })
        let source = try makeSource(args, model: model, seed: seed, dataPath: dataPath)
        guard source.puzzleCount > 0 else { throw TRMError(.invalidInput, "the task data holds no puzzles") }
        let limit = min(limitOption ?? source.puzzleCount, source.puzzleCount)
        if let shardPlan {
            return try ShardMode.run(
                args, model: model, settings: settings, source: source, limit: limit, ks: ks, seed: seed, dataPath: dataPath,
                shard: shardPlan.shard, path: shardPlan.path)
        }
        let runner = try ACTRunner(
            session: Session(model: model, batch: settings.batch, threads: settings.threads, precision: settings.precision))
        runner.session.profiling = settings.profile

        // Stream puzzles in chunks of a few full batches, so memory stays bounded for 1000 augmentations;
        // the query count is known before the first one runs, so the progress line's total and ETA are.
        var evaluation = Evaluation(puzzles: (0..<limit).map(source.puzzle), ks: ks)
        let total = (0..<limit).reduce(0) { $0 + source.queryCount($1) }
        let progress = ProgressLine(unit: "queries", total: total, quiet: settings.quiet)
        var done = 0, next = 0, batchSteps = 0
        let chunkTarget = QueryRunner.chunkSize(batch: settings.batch)
        while next < limit {
            var chunk: [QueryRunner.Item] = []
            while next < limit && chunk.count < chunkTarget {
                chunk += source.queries(next)
                next += 1
            }
            let base = done
            let result = try QueryRunner.predictions(chunk, runner: runner, halting: settings.halting, maxSteps: settings.steps) { d, _ in
                progress.update(base + d)
            }
            batchSteps += result.batchSteps
            evaluation.add(contentsOf: result.predictions)
            done += chunk.count
        }
        progress.finish()

        let seconds = progress.seconds
        if let path = args.string("submission") { try evaluation.writeSubmission(to: path, style: source.submissionStyle) }
        let report = Report(
            task: source.title, puzzles: limit, unscored: evaluation.unscoredPuzzles, queries: done,
            batchSteps: batchSteps, seconds: seconds, pass: evaluation.passAtK(), halting: settings.halting,
            precision: settings.precision, packingSeconds: runner.session.packingSeconds, packedBytes: runner.session.packedBytes)
        if !settings.quiet { report.print() }
        if showCount > 0 { show(source, evaluation, count: min(showCount, limit), colour: settings.colour) }
        if settings.profile { RawMode.printProfile(runner.session) }
        if let path = args.string("json") { try AtomicFile.write(report.json(), to: path) }
        try report.writePictures(args, model: args.positional[0], evaluation: evaluation, style: source.gridStyle)
    }

    static func parseKs(_ s: String?) throws -> [Int] {
        guard let s else { return PassAtK.defaultKs }
        let ks = try s.split(separator: ",").map { part -> Int in
            guard let k = Int(part), k >= 1 else { throw UsageError("--k: '\(part)' is not a positive integer") }
            return k
        }
        guard !ks.isEmpty else { throw UsageError("--k needs at least one value") }
        return Array(Set(ks)).sorted()
    }

    /// The task's puzzles from `dataPath` (nil: a generated Sudoku or Maze set).
    static func makeSource(_ args: Arguments, model: LoadedModel, seed: UInt64, dataPath: String?) throws -> TaskSource {
        let task = args.string("task")!
        if let trainedFor = model.trainedTask, trainedFor != task {
            throw TRMError(.invalidInput, "the model was built for --task \(trainedFor), not \(task)")
        }
        if let path = dataPath, OfficialDataset.isOfficialFolder(path) {
            return try OfficialSources.make(task, path: path, args, model: model)
        }
        switch task {
        case "arc":
            guard let path = dataPath else { throw TRMError(.invalidInput, "ARC needs data: pass --data") }
            let split = ARCSplit(name: args.string("split") ?? "eval")
            guard let split else { throw UsageError("--split must be train or eval") }
            var puzzles = try ARCDataset.load(path: path, split: split)
            if let names = args.string("puzzles") { puzzles = try ARCDataset.select(puzzles, names: names) }
            guard !puzzles.isEmpty else { throw TRMError(.invalidInput, "\(path) holds no \(split) puzzles") }
            let ids = model.plan.identifiers
            return ARCSource(
                puzzles: puzzles, numAug: try args.int("num-aug", in: 0...100_000) ?? 7, seed: seed,
                table: ids.isEmpty ? nil : ARCIdentifierTable(ids))
        case let other:
            return try GridTaskSources.make(other, args, model: model, seed: seed)
        }
    }

    /// Renders puzzles: test input, the top-voted prediction and the truth, side by side; grids in
    /// colour only when `colour`. Puzzle names come from the data file, so they are escaped.
    static func show(_ source: TaskSource, _ evaluation: Evaluation, count: Int, colour: Bool) {
        let render = { (grid: Grid) in source.render(grid, colour: colour) }
        for (i, puzzle) in evaluation.puzzles.prefix(count).enumerated() {
            let ranked = evaluation.ranked(puzzle: puzzle.name)
            for (j, input) in puzzle.testInputs.enumerated() {
                let top = ranked[j].first?.answer
                let expected = puzzle.testOutputs?[j]
                let verdict = top == nil ? "no answer" : (expected == nil ? "unscored" : (top == expected ? "correct" : "wrong"))
                let name = puzzle.isScored ? terminalEscaped(puzzle.name) : "puzzle \(i)"
                Swift.print("\(name) test \(j): input | prediction | truth  [\(verdict)]")
                let blocks = [render(input), top.map(render) ?? ["(none)"], expected.map(render) ?? ["(none)"]]
                let widths = blocks.map { b in b.map(visibleWidth).max() ?? 0 }
                for r in 0..<(blocks.map(\.count).max() ?? 0) {
                    Swift.print(
                        blocks.enumerated().map { k, b in
                            let line = r < b.count ? b[r] : ""
                            return line + String(repeating: " ", count: widths[k] - visibleWidth(line) + 3)
                        }.joined())
                }
            }
        }
    }

    /// Width of a line without its ANSI escape sequences.
    static func visibleWidth(_ s: String) -> Int {
        var n = 0, escape = false
        for ch in s.unicodeScalars {
            if ch == "\u{1B}" { escape = true } else if escape { if ch == "m" { escape = false } } else { n += 1 }
        }
        return n
    }
}
