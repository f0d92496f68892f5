import CLISupport
import Foundation
import GraphIR
import Runtime
import Tasks
import TRMCore

/// `trm-run model.trmg --task T --candidates FILE [--shard I/N]`: runs one shard's range of the
/// query list and records each query's candidate in FILE (`CandidateWriter`: checkpoints, resume);
/// `trm-run merge` votes and scores the shards' files.
enum ShardMode {
    /// The shard and candidate file the options ask for, or nil without --candidates. The shard is
    /// --shard, else the scheduler's (`ShardSpec.fromEnvironment`: a Slurm array, or a Kubernetes
    /// Indexed Job with --shard-count), else 0/1.
    static func plan(_ args: Arguments) throws -> (shard: ShardSpec, path: String)? {
        guard let path = args.string("candidates") else {
            for option in ["shard", "shard-count", "checkpoint-every"] where args.string(option) != nil {
                throw UsageError("--\(option) needs --candidates FILE")
            }
            return nil
        }
        for option in ["json", "submission", "show", "plot", "report"] where args.string(option) != nil {
            throw UsageError("--\(option) does not apply to a shard: `trm-run merge` writes it from the shards' candidate files")
        }
        let count = try args.int("shard-count", in: 1...ShardSpec.maxCount)
        do {
            if let text = args.string("shard") {
                if count != nil { throw UsageError("use either --shard I/N or --shard-count N, not both") }
                return (try ShardSpec(parsing: text), path)
            }
            if let spec = try ShardSpec.fromEnvironment(ProcessInfo.processInfo.environment, count: count) { return (spec, path) }
        } catch let e as TRMError {
            throw UsageError(e.message)
        }
        if count != nil {
            throw UsageError("--shard-count is for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX is not set): pass --shard I/N")
        }
        return (try ShardSpec(index: 0, count: 1), path)
    }

    /// Runs the shard (`dataPath`: the data file read, nil for a generated set): counts every puzzle's
    /// queries (the split needs the whole list), opens the candidate file, and runs the queries not yet
    /// recorded in chunks of `--checkpoint-every` batches, checkpointing the file after each chunk.
    static func run(
        _ args: Arguments, model: LoadedModel, settings: RunSettings, source: TaskSource, limit: Int, ks: [Int], seed: UInt64,
        dataPath: String?, shard: ShardSpec, path: String
    ) throws {
        let every = try args.int("checkpoint-every", in: 1...1_000_000) ?? 1
        let puzzles = (0..<limit).map(source.puzzle)
        var prefix = [0]
        for i in 0..<limit { prefix.append(prefix[i] + source.queryCount(i)) }
        let total = prefix[limit]
        let modelPath = args.positional[0]
        var flags = ["task": args.string("task")!, "seed": String(seed), "limit": String(limit)]
        for option in ["split", "puzzles", "num-aug"] { flags[option] = args.string(option) }
        flags["halting"] = settings.halting.rawValue
        flags["precision"] = settings.precision.rawValue
        flags["steps"] = String(settings.steps ?? model.plan.haltMaxSteps)
        let header = CandidateHeader(
            model: .init(path: modelPath, sha256: try ContentHash.sha256(path: modelPath)),
            data: .init(
                path: dataPath, sha256: try dataPath.map { try ContentHash.sha256(path: $0) } ?? CandidateHeader.generatedDataHash(puzzles)),
            shard: shard, queries: total, flags: flags, run: ["batch": String(settings.batch), "threads": String(settings.threads)],
            title: source.title, ks: ks, submissionStyle: source.submissionStyle, puzzles: puzzles)
        let writer = try CandidateWriter(path: path, header: header)
        let range = header.range
        let say = { (s: String) in if !settings.quiet { Swift.print(s) } }
        if writer.isComplete {
            say("shard \(shard): all \(range.count) queries (\(range)) are already in \(path)")
            return
        }
        let runner = try ACTRunner(
            session: Session(model: model, batch: settings.batch, threads: settings.threads, precision: settings.precision))
        runner.session.profiling = settings.profile

        // The query stream from writer.next on: the puzzle holding it, then the puzzles after it.
        var puzzle = (0..<limit).first { prefix[$0 + 1] > writer.next }!
        var pending = ArraySlice(source.queries(puzzle).dropFirst(writer.next - prefix[puzzle]))
        func take() throws -> (query: TaskQuery, row: Int32) {
            while pending.isEmpty {
                puzzle += 1
                let all = source.queries(puzzle)
                guard all.count == prefix[puzzle + 1] - prefix[puzzle] else {
                    throw TRMError(.invalidInput, "puzzle \(puzzle) gave \(all.count) queries, then \(prefix[puzzle + 1] - prefix[puzzle])")
                }
                pending = ArraySlice(all)
            }
            return pending.removeFirst()
        }

        let progress = ProgressLine(unit: "queries", total: range.upperBound - writer.next, quiet: settings.quiet)
        let l = runner.seqLen
        while writer.next < range.upperBound {
            let first = writer.next
            let chunk = try (0..<min(settings.batch * every, range.upperBound - first)).map { _ in try take() }
            let done = writer.count - writer.resumed
            let result = try runner.run(
                tokens: chunk.flatMap(\.query.tokens), puzzleIds: chunk.map(\.row), count: chunk.count, halting: settings.halting,
                maxSteps: settings.steps
            ) { d, _ in progress.update(done + d) }
            for (i, item) in chunk.enumerated() {
                let preds = Array(result.preds[(i * l)..<((i + 1) * l)])
                writer.append(
                    CandidateRecord(
                        query: first + i, puzzle: item.query.puzzle, testIndex: item.query.testIndex, identifier: item.query.identifier,
                        answer: item.query.decode(preds), qHalt: result.qHalt[i], steps: Int(result.steps[i]), input: item.query.voteInput))
            }
            writer.addBatchSteps(result.batchSteps)
            try writer.checkpoint()
        }
        progress.finish()
        let ran = writer.count - writer.resumed
        say(
            "shard \(shard): queries \(range.lowerBound)..<\(range.upperBound) of \(total) in \(path)"
                + (writer.resumed > 0 ? " (resumed after \(writer.resumed))" : "")
                + String(
                    format: "; %d queries in %.1f s (%.2f queries/s)", ran, progress.seconds, Double(ran) / max(progress.seconds, 1e-9)))
        if settings.profile { RawMode.printProfile(runner.session) }
    }
}
