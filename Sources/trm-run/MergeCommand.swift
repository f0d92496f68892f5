import CLISupport
import Foundation
import Runtime
import Tasks
import TRMCore

/// `trm-run merge SHARDS...` and `trm-run status SHARDS...`: the shards' candidate files through
/// `ShardMerge`, printed as a single run prints its report.
enum MergeCommand {
    static let options: [Arguments.Option] = [
        .init("json", "FILE", help: "write the metrics as JSON (as a single run's --json)"),
        .init("submission", "FILE", help: "ARC: write the Kaggle submission.json (as a single run's --submission)"),
        .init("dry-run", help: "check the shards and print their progress; write nothing"),
        .init("quiet", short: "q", help: "no report"),
        .init("help", short: "h", help: "show this help"),
    ]

    static let usage = """
        trm-run merge: vote and score the candidate files of every shard of one evaluation.

        USAGE: trm-run merge SHARD.cand... [--json FILE] [--submission FILE] [--dry-run] [-q]

        Refuses, naming the file, a missing, duplicated, unfinished, truncated or damaged shard and a
        shard of another model, data, flags or split. The report, --json and --submission equal those of
        the unsharded run (docs/sharding.md).

        OPTIONS:
        \(Arguments.helpText(options))
        """

    static let statusUsage = """
        trm-run status: progress of the shards of one evaluation, and an ETA from their rates.

        USAGE: trm-run status SHARD.cand...

        OPTIONS:
        \(Arguments.helpText([options[4]]))
        """

    static func merge(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: options, usage: usage) else { return }
        guard !args.positional.isEmpty else { throw UsageError("expected the shards' candidate files") }
        let outputs = [args.string("json"), args.string("submission")].compactMap { $0 }
        try OutputFile.checkOutputs(outputs, inputs: args.positional)
        if args.has("dry-run") {
            printStatus(try ShardMerge.status(args.positional))
            _ = try ShardMerge.merge(args.positional)
            Swift.print("ready to merge")
            return
        }
        let merged = try ShardMerge.merge(args.positional)
        let header = merged.header
        if args.string("submission") != nil, header.flags["task"] != "arc" {
            throw UsageError("--submission is for --task arc; the shards ran --task \(header.flags["task"] ?? "?")")
        }
        if let path = args.string("submission") { try merged.evaluation.writeSubmission(to: path, style: header.submissionStyle) }
        let report = Report(
            task: header.title, puzzles: header.puzzles.count, unscored: merged.evaluation.unscoredPuzzles, queries: merged.queries,
            batchSteps: merged.batchSteps, seconds: merged.seconds, pass: merged.evaluation.passAtK(),
            halting: header.flags["halting"].flatMap(Halting.init(rawValue:)) ?? .fixed,
            precision: header.flags["precision"].flatMap(Precision.init(rawValue:)) ?? .fp32, packingSeconds: 0, packedBytes: 0)
        if !args.has("quiet") {
            Swift.print("merged \(merged.shards.count) shards (seconds and queries/s are summed over the shards' compute)")
            report.print()
        }
        if let path = args.string("json") { try AtomicFile.write(report.json(), to: path) }
    }

    static func status(_ argv: [String]) throws {
        guard let args = try Arguments.parse(argv, options: [options[4]], usage: statusUsage) else { return }
        guard !args.positional.isEmpty else { throw UsageError("expected the shards' candidate files") }
        printStatus(try ShardMerge.status(args.positional))
    }

    static func printStatus(_ status: ShardMerge.Status) {
        let h = status.header
        Swift.print(
            "\(h.title): \(h.queries) queries in \(h.shard.count) shards (model \(h.model.sha256.prefix(12)), data \(h.data.sha256.prefix(12)))"
        )
        for p in status.shards {
            let state =
                p.path == nil
                ? "not started" : (p.done == p.total ? "done" : String(format: "%.0f%%", 100 * Double(p.done) / Double(max(p.total, 1))))
            let rate = p.rate.map { String(format: "%.2f queries/s", $0) } ?? "-"
            Swift.print("  shard \(p.shard)  \(p.done)/\(p.total)  \(state)  \(rate)  \(p.path ?? "")")
        }
        let eta =
            status.eta.map { String(format: "ETA %.0f s, if every unfinished shard runs at once", $0) }
            ?? "ETA unknown (no shard has a rate yet)"
        Swift.print(
            String(
                format: "  total %d/%d queries (%.1f%%), ", status.done, status.total,
                100 * Double(status.done) / Double(max(status.total, 1)))
                + (status.done == status.total ? "complete" : eta))
    }
}
